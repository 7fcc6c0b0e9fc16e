//! Items for the JS thread, handed over in batches.
//!
//! The engine's thread puts items (finished calls, questions for the host)
//! in a queue; only the item that finds the queue empty arranges a wake-up
//! of the JS thread, and that wake-up takes everything queued by the time
//! it runs. From the engine's own thread the wake-up waits until the tasks
//! ready now have run (`yield_now` defers it past them), so that what they
//! produce goes in the same batch. Without that deferral the two threads
//! take turns one item at a time: waking the JS thread hands it the core at
//! once (it runs at a higher priority, see `lib.rs`).

use std::sync::{Mutex, MutexGuard};

pub struct BatchQueue<T> {
    items: Mutex<Vec<T>>,
}

impl<T> Default for BatchQueue<T> {
    fn default() -> Self {
        BatchQueue {
            items: Mutex::new(Vec::new()),
        }
    }
}

impl<T> BatchQueue<T> {
    fn items(&self) -> MutexGuard<'_, Vec<T>> {
        // A poisoned lock only means a panic elsewhere; the queue is intact.
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues an item. Returns whether the queue was empty: then the caller
    /// must arrange the wake-up (none is pending).
    pub fn push(&self, item: T) -> bool {
        let mut items = self.items();
        items.push(item);
        items.len() == 1
    }

    /// Everything queued so far, for the wake-up that hands it over.
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.items())
    }
}

/// Runs `wake` once the runtime has run the tasks ready now, when called
/// on one of its threads; at once otherwise (the JS thread).
pub fn wake_after_round(wake: impl FnOnce() + Send + 'static) {
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::spawn(async move {
            tokio::task::yield_now().await;
            wake();
        });
    } else {
        wake();
    }
}
