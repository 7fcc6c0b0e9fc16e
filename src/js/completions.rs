//! Settling finished calls in batches.
//!
//! A call that finishes on the engine's thread is put in one queue per
//! engine; only the call that finds the queue empty wakes the JS thread,
//! and that wake-up settles every call queued by the time it runs. Under
//! load one wake-up settles many calls, where one threadsafe function (a
//! libuv handle opened and closed) per call, as a Promise per call from
//! `spawn_future` needs, cost a wake-up each.

use super::boundary::SettledJs;
use super::convert::settled_to_js;
use crate::pipeline::Settled;
use napi::bindgen_prelude::ToNapiValue;
use napi::sys;
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
pub struct Completions {
    finished: Mutex<Vec<(u32, Settled)>>,
}

impl Completions {
    fn finished(&self) -> MutexGuard<'_, Vec<(u32, Settled)>> {
        // A poisoned lock only means a panic elsewhere; the queue is intact.
        self.finished
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a finished call. Returns whether the queue was empty: then
    /// the caller must wake the JS thread (no wake-up is pending).
    pub fn push(&self, call: u32, settled: Settled) -> bool {
        let mut finished = self.finished();
        finished.push((call, settled));
        finished.len() == 1
    }

    /// Everything queued so far, for the wake-up that settles it.
    pub fn take(&self) -> SettledBatch {
        SettledBatch(std::mem::take(&mut *self.finished()))
    }
}

/// Calls settled in one wake-up; JS receives them as one flat array
/// `[callId, settled, callId, settled, ...]` (`lib/dispatch.js`).
pub struct SettledBatch(Vec<(u32, Settled)>);

impl ToNapiValue for SettledBatch {
    unsafe fn to_napi_value(env: sys::napi_env, batch: Self) -> napi::Result<sys::napi_value> {
        let mut array = std::ptr::null_mut();
        // SAFETY: N-API calls on the JS thread with the `env` napi-rs passed
        // to the threadsafe function's callback.
        unsafe {
            napi::check_status!(sys::napi_create_array_with_length(
                env,
                batch.0.len() * 2,
                &mut array
            ))?;
            for (index, (call, settled)) in batch.0.into_iter().enumerate() {
                let index = index as u32 * 2;
                let id = u32::to_napi_value(env, call)?;
                napi::check_status!(sys::napi_set_element(env, array, index, id))?;
                let value = SettledJs::to_napi_value(env, settled_to_js(settled))?;
                napi::check_status!(sys::napi_set_element(env, array, index + 1, value))?;
            }
        }
        Ok(array)
    }
}
