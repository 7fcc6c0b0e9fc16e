//! `NativeUpload`: the JS end of a streamed request body (`engine/upload.rs`).
//! `lib/upload.js` pumps the caller's source into it: `write(generation,
//! chunk)` says whether the chunk was taken (0), there was no room (1: await
//! `room(generation)` and write it again: the backpressure) or nobody reads
//! any more (2: stop). `end` and `fail` close a generation. The wire request
//! names the object by its `id`, and the engine takes its channel from the
//! registry here when the request is built.
//!
//! Chunks are copied into Rust-owned memory when there is room for them: a
//! JS Buffer may be reused or changed by its producer once `write` returns,
//! and keeping it alive instead would tie its lifetime to the socket and its
//! release to the JS thread. One memcpy of a 64 KiB chunk costs a few
//! microseconds, far below the cost of the write's crossing itself.
//!
//! `NativeReceivedBytes` is the counter behind `send()`'s
//! `onDownloadProgress`, handed over the same way.

use crate::engine::received_bytes::ReceivedBytes;
use crate::engine::upload::{Renew, UploadChannel, Written};
use bytes::Bytes;
use napi::bindgen_prelude::{Function, PromiseRaw};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::Env;
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

/// Uploads JS created whose request has not taken them yet, by id.
static WAITING: LazyLock<Mutex<HashMap<u32, Arc<UploadChannel>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

fn waiting() -> MutexGuard<'static, HashMap<u32, Arc<UploadChannel>>> {
    WAITING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The channel of upload `id`, for the request that sends it (once).
pub fn take_upload(id: u32) -> Option<Arc<UploadChannel>> {
    waiting().remove(&id)
}

#[napi]
pub struct NativeUpload {
    id: u32,
    channel: Arc<UploadChannel>,
}

#[napi]
impl NativeUpload {
    /// `renew(generation)`, when given, is called (on the JS thread) when
    /// the body must be sent again: JS opens a fresh source and writes it
    /// under that generation.
    #[napi(constructor)]
    pub fn new(renew: Option<Function<'_, u32, ()>>) -> napi::Result<NativeUpload> {
        let renew: Option<Renew> = match renew {
            None => None,
            Some(function) => {
                // Weak: a body that is never re-sent must not keep Node alive.
                let tsfn = function
                    .build_threadsafe_function()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()?;
                Some(Box::new(move |generation| {
                    tsfn.call(generation, ThreadsafeFunctionCallMode::NonBlocking);
                }))
            }
        };
        let channel = UploadChannel::new(renew);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        waiting().insert(id, Arc::clone(&channel));
        Ok(NativeUpload { id, channel })
    }

    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }

    #[napi]
    pub fn write(&self, generation: u32, chunk: &[u8]) -> u32 {
        match self
            .channel
            .write(generation, || Bytes::copy_from_slice(chunk))
        {
            Written::Taken => 0,
            Written::Full => 1,
            Written::Closed => 2,
        }
    }

    /// Resolves `true` when a write would be taken, `false` if never.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn room<'env>(
        &self,
        env: &'env Env,
        generation: u32,
    ) -> napi::Result<PromiseRaw<'env, bool>> {
        let channel = Arc::clone(&self.channel);
        env.spawn_future(async move { Ok(channel.room(generation).await) })
    }

    #[napi]
    pub fn end(&self, generation: u32) {
        self.channel.finish(generation);
    }

    /// The call is over: `true` if no request took the body (JS then
    /// stops its pump).
    #[napi]
    pub fn discard(&self) -> bool {
        waiting().remove(&self.id);
        self.channel.discard()
    }

    #[napi]
    pub fn fail(&self, generation: u32, message: String) {
        self.channel.fail(generation, message);
    }
}

impl Drop for NativeUpload {
    /// Collected before any request took it (the call failed first).
    fn drop(&mut self) {
        waiting().remove(&self.id);
    }
}

/// Counters JS created for `onDownloadProgress`, until a request takes them.
static COUNTERS: LazyLock<Mutex<HashMap<u32, Arc<ReceivedBytes>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn counters() -> MutexGuard<'static, HashMap<u32, Arc<ReceivedBytes>>> {
    COUNTERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn take_received_bytes(id: u32) -> Option<Arc<ReceivedBytes>> {
    counters().remove(&id)
}

/// `send()`'s `onDownloadProgress`: JS polls `get()` while the body arrives.
#[napi]
pub struct NativeReceivedBytes {
    id: u32,
    counter: Arc<ReceivedBytes>,
}

#[napi]
impl NativeReceivedBytes {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> NativeReceivedBytes {
        let counter = Arc::new(ReceivedBytes::default());
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        counters().insert(id, Arc::clone(&counter));
        NativeReceivedBytes { id, counter }
    }

    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// `[loadedBytes, total]`, total `-1` when unknown.
    #[napi]
    pub fn get(&self) -> Vec<f64> {
        let (loaded, total) = self.counter.get();
        vec![loaded as f64, total.map_or(-1.0, |t| t as f64)]
    }
}

impl Drop for NativeReceivedBytes {
    fn drop(&mut self) {
        counters().remove(&self.id);
    }
}
