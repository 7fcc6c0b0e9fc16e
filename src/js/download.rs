//! `NativeDownload`: the JS handle of a streaming response body. JS pulls
//! with `next()` (one pull in flight at a time), which is what gives the
//! Readable its backpressure.

use super::convert::{net_failure_to_js, NetFailureJs};
use crate::engine::download::{Download, DownloadError};
use crate::engine::progress::ProgressEvent;
use bytes::Bytes;
use napi::bindgen_prelude::{BufferSlice, PromiseRaw, Unknown};
use napi::Env;
use napi::JsValue;
use napi_derive::napi;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Instant;
use tokio::sync::{Mutex, Notify};

#[napi(object, object_from_js = false)]
pub struct ProgressJs {
    pub total: f64,
    pub received: f64,
    pub eta: f64,
    pub percentage: f64,
}

/// A pull's result: `[data, progressDue, progress, failure]`. `data` is
/// `null` at the end of the body; `progress` is absent with `progressDue`
/// when the total is unknown. `failure` is set when the network failed (JS
/// builds the error from its fields); other failures reject.
pub type ChunkJs<'env> = (
    Option<Unknown<'env>>,
    bool,
    Option<ProgressJs>,
    Option<NetFailureJs>,
);

/// Chunks are handed to JS without a copy, as external Buffers that V8 frees
/// at its next GC. V8 starts a GC when external memory has grown by about
/// 64 MB: too much garbage for a download feeding a slow SD card, while for a
/// fast consumer more frequent GCs would cost throughput and event-loop
/// delay. So each chunk is reported as up to 4 times its size when the
/// consumer is slow (GCs are then cheap and rare anyway), and as its size
/// when it pulls at `FAST_CONSUMER` or more.
const MAX_WEIGHT: f64 = 4.0;
const FAST_CONSUMER: f64 = 200e6;

/// How often (bytes per second) the consumer has been pulling lately.
struct PullRate {
    last: Option<Instant>,
    bytes_per_second: f64,
}

impl PullRate {
    fn weight(&mut self, len: usize) -> i64 {
        let now = Instant::now();
        if let Some(last) = self.last {
            let seconds = now.duration_since(last).as_secs_f64().max(1e-6);
            let sample = len as f64 / seconds;
            self.bytes_per_second = if self.bytes_per_second == 0.0 {
                sample
            } else {
                0.8 * self.bytes_per_second + 0.2 * sample
            };
        }
        self.last = Some(now);
        let factor = if self.bytes_per_second > 0.0 {
            (FAST_CONSUMER / self.bytes_per_second).clamp(1.0, MAX_WEIGHT)
        } else {
            MAX_WEIGHT
        };
        (len as f64 * factor) as i64
    }
}

/// A JS Buffer over the chunk's own memory, freed when V8 collects it.
fn chunk_to_js<'env>(
    env: &'env Env,
    bytes: Bytes,
    rate: &StdMutex<PullRate>,
) -> napi::Result<Unknown<'env>> {
    let len = bytes.len();
    if len == 0 {
        return Ok(BufferSlice::copy_from(env, [])?.to_unknown());
    }
    let weight = rate
        .lock()
        .map(|mut rate| rate.weight(len))
        .unwrap_or(len as i64);
    let ptr = bytes.as_ptr() as *mut u8;
    // SAFETY: `ptr` and `len` describe the memory of `bytes`, which the
    // finalizer owns and drops only when V8 frees the Buffer; nothing else
    // reads that region (it is this chunk's alone).
    let buffer = unsafe {
        BufferSlice::from_external(env, ptr, len, bytes, move |env, bytes| {
            let _ = env.adjust_external_memory(-weight);
            drop(bytes);
        })
    }?;
    let _ = env.adjust_external_memory(weight);
    Ok(buffer.to_unknown())
}

fn progress_to_js(event: ProgressEvent) -> ProgressJs {
    ProgressJs {
        total: event.total as f64,
        received: event.received as f64,
        eta: event.eta,
        percentage: event.percentage,
    }
}

#[napi]
pub struct NativeDownload {
    inner: Arc<Mutex<Download>>,
    cancelled: Arc<Notify>,
    rate: Arc<StdMutex<PullRate>>,
}

impl NativeDownload {
    pub fn new(download: Download) -> NativeDownload {
        NativeDownload {
            inner: Arc::new(Mutex::new(download)),
            cancelled: Arc::new(Notify::new()),
            rate: Arc::new(StdMutex::new(PullRate {
                last: None,
                bytes_per_second: 0.0,
            })),
        }
    }
}

#[napi]
impl NativeDownload {
    /// The next chunk of the body.
    #[napi(
        ts_return_type = "Promise<[Buffer | null, boolean, ProgressJs | undefined, NetFailureJs | undefined]>"
    )]
    pub fn next<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ChunkJs<'env>>> {
        let inner = self.inner.clone();
        let cancelled = self.cancelled.clone();
        let rate = self.rate.clone();
        env.spawn_future_with_callback(
            async move {
                let mut download = inner.lock().await;
                let step = tokio::select! {
                    step = download.next() => step,
                    _ = cancelled.notified() => {
                        download.cancel();
                        return Err(napi::Error::from_reason("The download was cancelled"));
                    }
                };
                match step {
                    Ok(step) => Ok(Ok(step)),
                    Err(DownloadError { net: Some(net), .. }) => Ok(Err(net)),
                    Err(e) => Err(napi::Error::from_reason(e.message)),
                }
            },
            move |env, step| {
                let (data, due) = match step {
                    Ok(step) => step,
                    Err(net) => return Ok((None, false, None, Some(net_failure_to_js(*net)))),
                };
                let data = data
                    .map(|bytes| chunk_to_js(env, bytes, &rate))
                    .transpose()?;
                Ok((data, due.is_some(), due.flatten().map(progress_to_js), None))
            },
        )
    }

    /// The final progress event; `null` when the total is unknown.
    #[napi]
    pub fn final_progress(&self) -> Option<ProgressJs> {
        let download = self.inner.try_lock().ok()?;
        download.final_progress().map(progress_to_js)
    }

    /// Stops the download and closes its connection.
    #[napi]
    pub fn cancel(&self) {
        self.cancelled.notify_one();
        if let Ok(mut download) = self.inner.try_lock() {
            download.cancel();
        }
    }
}
