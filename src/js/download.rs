//! `NativeDownload`: the JS handle of a streaming response body. JS pulls
//! with `next()` (one pull in flight at a time); the engine reads a bounded
//! few steps ahead (`ReadAhead`), so the Readable's backpressure reaches the
//! socket.

use super::convert::{net_failure_to_js, NetFailureJs};
use crate::engine::download::{Download, DownloadError};
use crate::engine::progress::ProgressEvent;
use crate::engine::read_ahead::ReadAhead;
use napi::bindgen_prelude::{BufferSlice, PromiseRaw, Unknown};
use napi::Env;
use napi::JsValue;
use napi_derive::napi;
use std::sync::Arc;
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

/// Chunks are copied into Buffers that V8 allocates, rather than handed over
/// as external Buffers over the engine's memory. An external Buffer is
/// freed only by a full (mark-compact) GC, and V8 starts one every 32-64 MB
/// of them: its pauses, and its marking threads sharing the core, made the
/// event loop wait 3-5 ms during a fast download. A V8-allocated Buffer
/// that died young goes in a scavenge (V8 starts one itself after ~32 MB of
/// young Buffers, "external memory pressure"), which takes 0.2-0.3 ms; the
/// copy costs less than the GCs it saves (measured: NOTES.md).
fn chunk_to_js<'env>(env: &'env Env, bytes: &[u8]) -> napi::Result<Unknown<'env>> {
    Ok(BufferSlice::copy_from(env, bytes)?.to_unknown())
}

fn progress_to_js(event: ProgressEvent) -> ProgressJs {
    ProgressJs {
        total: event.total as f64,
        received: event.received as f64,
        eta: event.eta,
        percentage: event.percentage,
    }
}

/// How many steps (1 MiB decoded, or a socket read's worth) are read
/// ahead of JS's pulls: enough to keep the socket and inflate busy while
/// JS handles a chunk, few enough that a stalled consumer holds a few MiB.
const READ_AHEAD: usize = 2;

/// The body before the first pull, then its read-ahead (started on the
/// runtime by the first pull, so that a stream nobody reads costs nothing).
enum Body {
    Waiting(Box<Download>),
    Reading(ReadAhead),
    Cancelled,
}

impl Body {
    fn read_ahead(&mut self) -> Option<&mut ReadAhead> {
        if let Body::Waiting(_) = self {
            if let Body::Waiting(download) = std::mem::replace(self, Body::Cancelled) {
                *self = Body::Reading(ReadAhead::start(*download, READ_AHEAD));
            }
        }
        match self {
            Body::Reading(ahead) => Some(ahead),
            _ => None,
        }
    }

    fn cancel(&mut self) {
        if let Body::Waiting(download) = self {
            download.cancel();
        }
        // Dropping the read-ahead ends its task, which drops the connection.
        *self = Body::Cancelled;
    }
}

#[napi]
pub struct NativeDownload {
    inner: Arc<Mutex<Body>>,
    cancelled: Arc<Notify>,
}

impl NativeDownload {
    pub fn new(download: Download) -> NativeDownload {
        NativeDownload {
            inner: Arc::new(Mutex::new(Body::Waiting(Box::new(download)))),
            cancelled: Arc::new(Notify::new()),
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
        env.spawn_future_with_callback(
            async move {
                let mut body = inner.lock().await;
                let Some(ahead) = body.read_ahead() else {
                    return Err(napi::Error::from_reason("The download was cancelled"));
                };
                let step = tokio::select! {
                    step = ahead.next() => step,
                    _ = cancelled.notified() => {
                        body.cancel();
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
                let data = data.map(|bytes| chunk_to_js(env, &bytes)).transpose()?;
                Ok((data, due.is_some(), due.flatten().map(progress_to_js), None))
            },
        )
    }

    /// The final progress event; `null` when the total is unknown.
    #[napi]
    pub fn final_progress(&self) -> Option<ProgressJs> {
        let body = self.inner.try_lock().ok()?;
        match &*body {
            Body::Reading(ahead) => ahead.final_progress().map(progress_to_js),
            Body::Waiting(download) => download.final_progress().map(progress_to_js),
            Body::Cancelled => None,
        }
    }

    /// Stops the download and closes its connection.
    #[napi]
    pub fn cancel(&self) {
        self.cancelled.notify_one();
        if let Ok(mut body) = self.inner.try_lock() {
            body.cancel();
        }
    }
}
