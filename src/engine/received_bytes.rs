//! How many bytes of a response body have arrived, readable from another
//! thread while `send()` reads the body whole (for `onDownloadProgress`,
//! which JS polls). Counts bytes as they come off the wire, against the
//! response's Content-Length: both are encoded sizes, so the two agree for
//! a gzip body too.

use futures::StreamExt;
use reqwest::header::CONTENT_LENGTH;
use reqwest::ResponseBuilderExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// `total` when the response did not say.
const UNKNOWN: u64 = u64::MAX;

pub struct ReceivedBytes {
    loaded: AtomicU64,
    total: AtomicU64,
}

impl Default for ReceivedBytes {
    fn default() -> Self {
        ReceivedBytes {
            loaded: AtomicU64::new(0),
            total: AtomicU64::new(UNKNOWN),
        }
    }
}

impl ReceivedBytes {
    /// `(loaded, total)`.
    pub fn get(&self) -> (u64, Option<u64>) {
        let total = self.total.load(Ordering::Relaxed);
        (
            self.loaded.load(Ordering::Relaxed),
            (total != UNKNOWN).then_some(total),
        )
    }

    /// The same response, its body counted here as it is read.
    pub fn count(self: &Arc<Self>, response: reqwest::Response) -> reqwest::Response {
        let total = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(UNKNOWN);
        self.total.store(total, Ordering::Relaxed);
        self.loaded.store(0, Ordering::Relaxed);
        // The response URL rides in an extension only reqwest's builder
        // sets; should that fail, the body goes uncounted rather than lost.
        let Ok(head) = http::Response::builder()
            .url(response.url().clone())
            .body(())
        else {
            return response;
        };
        let (mut parts, ()) = head.into_parts();
        parts.status = response.status();
        parts.version = response.version();
        parts.headers = response.headers().clone();
        let counter = Arc::clone(self);
        let body = response.bytes_stream().inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                counter
                    .loaded
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
        });
        reqwest::Response::from(http::Response::from_parts(
            parts,
            reqwest::Body::wrap_stream(body),
        ))
    }
}
