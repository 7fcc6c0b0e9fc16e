//! `NativeDownload`: the JS handle of a streaming response body. JS pulls
//! with `next()` (one pull in flight at a time), which is what gives the
//! Readable its backpressure.

use crate::engine::download::Download;
use crate::engine::progress::ProgressEvent;
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::Env;
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

#[napi(object, object_from_js = false)]
pub struct ChunkJs {
    /// `null` at the end of the body.
    pub data: Option<Buffer>,
    /// A progress event is due with this chunk.
    pub progress_due: bool,
    /// Its content; absent with `progress_due` when the total is unknown.
    pub progress: Option<ProgressJs>,
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
}

impl NativeDownload {
    pub fn new(download: Download) -> NativeDownload {
        NativeDownload {
            inner: Arc::new(Mutex::new(download)),
            cancelled: Arc::new(Notify::new()),
        }
    }
}

#[napi]
impl NativeDownload {
    /// The next chunk of the body.
    #[napi(ts_return_type = "Promise<ChunkJs>")]
    pub fn next<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ChunkJs>> {
        let inner = self.inner.clone();
        let cancelled = self.cancelled.clone();
        env.spawn_future(async move {
            let mut download = inner.lock().await;
            let step = tokio::select! {
                step = download.next() => step,
                _ = cancelled.notified() => {
                    download.cancel();
                    return Err(napi::Error::from_reason("The download was cancelled"));
                }
            };
            let (data, due) = step.map_err(|e| napi::Error::from_reason(e.0))?;
            Ok(ChunkJs {
                data: data.map(|bytes| Buffer::from(Vec::from(bytes))),
                progress_due: due.is_some(),
                progress: due.flatten().map(progress_to_js),
            })
        })
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
