//! A response body read as a stream: large chunks handed out one at a time
//! (the caller pulls, so a slow consumer slows the download), decompressed
//! here off the JS thread, with progress counted on the bytes the spec says.
//! `send()` reads its body through the same reader (`read_whole`).
//!
//! A body that ends before its declared length is an error, whatever the
//! protocol said: hyper refuses a short HTTP/1.1 body itself, but an HTTP/2
//! stream reset with NO_ERROR, say, ends the body quietly (curl: "transfer
//! closed with N bytes remaining to read").
//!
//! A `stream()` body whose connection fails (or stalls past `idle_timeout`)
//! is asked for again from the byte it stopped at, when the response allows
//! it (`resume.rs`): the caller sees one continuous body, and progress
//! carries on from where it was.

use super::decode::{Decoder, Encoding};
use super::net_error::NetError;
use super::progress::{Progress, ProgressEvent};
use super::resume::{self, AttemptError, ResumeRequest};
use bytes::{Bytes, BytesMut};
use futures::{FutureExt, Stream, StreamExt};
use std::pin::Pin;
use std::time::{Duration, Instant};

/// Chunks smaller than this that are already buffered get joined, so that
/// each pull from JS carries a worthwhile amount of data.
const COALESCE: usize = 256 * 1024;
/// At most this much decompressed output per pull.
const DECODED_CHUNK: usize = 1024 * 1024;

type BodyStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadError {
    pub message: String,
    /// How the network failed, when it did (not for a corrupt body).
    pub net: Option<Box<NetError>>,
}

pub struct Download {
    body: Option<BodyStream>,
    decoder: Option<Decoder>,
    /// Progress counts compressed bytes (gzip with only X-Transfer-Length).
    count_compressed: bool,
    progress: Progress,
    /// A progress event that fell due while no output was ready yet.
    due: Option<Option<ProgressEvent>>,
    url: url::Url,
    /// Bytes read off the wire (before decoding), and how many the response
    /// said it would carry (its Content-Length, where a body is expected).
    wire_received: u64,
    wire_expected: Option<u64>,
    /// How to ask for the rest after a failure (`None`: not resumable).
    resume: Option<ResumeRequest>,
    /// Re-requests since bytes last arrived.
    attempts: u32,
    /// A body silent this long counts as a failed connection.
    idle_timeout: Option<Duration>,
}

/// The reading side of a response: the body, its encoding, and the lengths
/// its headers announce.
pub struct BodyInfo {
    pub encoding: Encoding,
    /// `Content-Length` and `X-Transfer-Length`, as progress reads them.
    pub content_length: Option<u64>,
    pub transfer_length: Option<u64>,
    /// The exact number of wire bytes the body must have, when the
    /// response announced one (not for HEAD, 204, 304).
    pub wire_length: Option<u64>,
    /// `stream()`: how to resume after a failure mid-body, if it may.
    pub resume: Option<ResumeRequest>,
    pub idle_timeout: Option<Duration>,
}

impl Download {
    pub fn new(response: reqwest::Response, info: BodyInfo) -> Download {
        let BodyInfo {
            encoding,
            content_length,
            transfer_length,
            wire_length,
            resume,
            idle_timeout,
        } = info;
        let url = response.url().clone();
        let total = content_length.or(transfer_length);
        // Which bytes the total measures. Content-Length of an encoded body is
        // its encoded length (RFC 9110 8.6), and X-Transfer-Length alone is
        // the compressed length: count what arrives on the wire. With both,
        // Content-Length is the decoded size (the balena image maker sends
        // them so): count decoded bytes, as balena-request does.
        let count_compressed = encoding != Encoding::Identity
            && !(content_length.is_some() && transfer_length.is_some());
        Download {
            body: Some(Box::pin(response.bytes_stream())),
            decoder: (encoding != Encoding::Identity).then(|| Decoder::new(encoding)),
            count_compressed,
            progress: Progress::new(total, Instant::now()),
            due: None,
            url,
            wire_received: 0,
            wire_expected: wire_length,
            resume,
            attempts: 0,
            idle_timeout,
        }
    }

    pub fn received(&self) -> u64 {
        self.progress.received()
    }

    /// The next chunk, `None` at the end. Also says whether a progress event
    /// is due (`Some(None)`: due, total unknown).
    pub async fn next(
        &mut self,
    ) -> Result<(Option<Bytes>, Option<Option<ProgressEvent>>), DownloadError> {
        loop {
            if let Some(decoder) = self.decoder.as_mut() {
                let out = decoder.drain(DECODED_CHUNK).map_err(|e| DownloadError {
                    message: e.to_string(),
                    net: None,
                })?;
                if !out.is_empty() {
                    if !self.count_compressed {
                        let due = self.progress.add(out.len() as u64, Instant::now());
                        self.note(due);
                    }
                    return Ok((Some(Bytes::from(out)), self.due.take()));
                }
            }
            let raw = match self.read_raw().await? {
                Some(raw) => raw,
                None => return Ok((None, None)),
            };
            if self.decoder.is_none() || self.count_compressed {
                let due = self.progress.add(raw.len() as u64, Instant::now());
                self.note(due);
            }
            match self.decoder.as_mut() {
                None => return Ok((Some(raw), self.due.take())),
                Some(decoder) => decoder.feed(raw),
            }
        }
    }

    fn note(&mut self, due: Option<Option<ProgressEvent>>) {
        if due.is_some() {
            self.due = due;
        }
    }

    /// The event after the last byte (100% whenever the total is known).
    pub fn final_progress(&self) -> Option<ProgressEvent> {
        self.progress.final_event(Instant::now())
    }

    /// Stops reading and closes the connection.
    pub fn cancel(&mut self) {
        self.body = None;
        self.decoder = None;
        self.resume = None;
    }

    /// The next bytes off the wire, resuming after a network failure when
    /// the response allows it.
    async fn read_raw(&mut self) -> Result<Option<Bytes>, DownloadError> {
        loop {
            match self.read_wire().await {
                Ok(chunk) => {
                    if chunk.as_ref().is_some_and(|c| !c.is_empty()) {
                        self.attempts = 0;
                    }
                    return Ok(chunk);
                }
                // Only a network failure (`net`) is worth asking again.
                Err(failure) if failure.net.is_some() && self.resume.is_some() => {
                    self.resume_after(failure).await?;
                }
                Err(failure) => return Err(failure),
            }
        }
    }

    /// Asks for the rest of the body, waiting a little longer before each
    /// attempt; `Ok` once a continuation replaced the body. Fails with the
    /// last network failure when the attempts run out, or with why the
    /// server's answer was not the rest of the same bytes.
    async fn resume_after(&mut self, failure: DownloadError) -> Result<(), DownloadError> {
        // The broken connection goes now, not after the wait.
        self.body = None;
        let mut last = failure;
        loop {
            let Some(request) = self.resume.as_ref() else {
                return Err(last);
            };
            if self.attempts >= request.max_attempts {
                self.resume = None;
                return Err(last);
            }
            tokio::time::sleep(resume::backoff(self.attempts)).await;
            self.attempts += 1;
            let offset = self.wire_received;
            match request
                .send(offset, self.wire_expected, self.idle_timeout)
                .await
            {
                Ok((response, range)) => {
                    if self.wire_expected.is_none() {
                        self.wire_expected = range.complete;
                    }
                    self.body = Some(Box::pin(response.bytes_stream()));
                    return Ok(());
                }
                Err(AttemptError::Network(net)) => {
                    last = DownloadError {
                        message: format!("download from {} failed: {}", request.url(), net.text),
                        net: Some(net),
                    };
                }
                Err(AttemptError::Refused(why)) => {
                    let cause = last.net.as_ref().map_or(last.message.as_str(), |n| &n.text);
                    let net = resume::refused(request.url(), cause, offset, &why);
                    let message = format!("download from {} failed: {}", request.url(), net.text);
                    self.resume = None;
                    return Err(DownloadError {
                        message,
                        net: Some(Box::new(net)),
                    });
                }
            }
        }
    }

    /// The next chunk off the current connection, with those already
    /// buffered joined to it.
    async fn read_wire(&mut self) -> Result<Option<Bytes>, DownloadError> {
        let url = &self.url;
        let body = match self.body.as_mut() {
            Some(body) => body,
            None => return Ok(None),
        };
        let next = match self.idle_timeout {
            None => body.next().await,
            Some(idle) => match tokio::time::timeout(idle, body.next()).await {
                Ok(next) => next,
                Err(_) => {
                    let net = resume::idle_timeout(url, idle, true);
                    return Err(DownloadError {
                        message: format!("download from {url} failed: {}", net.text),
                        net: Some(Box::new(net)),
                    });
                }
            },
        };
        let first = match next {
            None => {
                self.end_of_body()?;
                return Ok(None);
            }
            Some(chunk) => match chunk {
                Ok(chunk) => chunk,
                Err(e) => return Err(body_error(url, &e)),
            },
        };
        let mut ended = false;
        let mut joined: Option<BytesMut> = None;
        // Join chunks that are already here; never wait for more.
        while first.len() < COALESCE && joined.as_ref().map_or(first.len(), |j| j.len()) < COALESCE
        {
            match body.next().now_or_never() {
                Some(Some(Ok(more))) => {
                    let buf = joined.get_or_insert_with(|| {
                        let mut b = BytesMut::with_capacity(COALESCE * 2);
                        b.extend_from_slice(&first);
                        b
                    });
                    buf.extend_from_slice(&more);
                }
                Some(Some(Err(e))) => return Err(body_error(url, &e)),
                Some(None) => {
                    ended = true;
                    break;
                }
                None => break,
            }
        }
        let chunk = joined.map_or(first, BytesMut::freeze);
        self.wire_received += chunk.len() as u64;
        if ended {
            self.end_of_body()?;
        }
        Ok(Some(chunk))
    }

    /// The body stream ended: fine if it carried all it announced.
    fn end_of_body(&mut self) -> Result<(), DownloadError> {
        self.body = None;
        match self.wire_expected {
            Some(expected) if self.wire_received < expected => {
                let net = NetError::body_cut_short(&self.url, expected - self.wire_received);
                Err(DownloadError {
                    message: format!("download from {} failed: {}", self.url, net.text),
                    net: Some(Box::new(net)),
                })
            }
            _ => Ok(()),
        }
    }
}

/// `send()`'s limit on a decoded body when the caller sets none: far more
/// than any API answer, far less than a machine's memory.
pub const DEFAULT_MAX_RESPONSE_SIZE: u64 = 512 * 1024 * 1024;

/// Why a whole body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadWholeError {
    Download(DownloadError),
    /// The decoded body passed the limit (`maxResponseSize`).
    TooLarge {
        limit: u64,
    },
}

/// The whole body, decoded, for `send()`: refused once it passes `limit`
/// bytes, so that a decompression bomb (a few MB that inflate to GBs)
/// cannot take the machine's memory. Decoding goes at most 1 MiB at a time
/// and yields to the runtime in between, so that a cancelled call (its
/// timeout, its AbortSignal) stops decoding at once.
pub async fn read_whole(download: &mut Download, limit: u64) -> Result<Bytes, ReadWholeError> {
    let mut whole = BytesMut::new();
    let mut single: Option<Bytes> = None;
    // Bytes handed out since the runtime last had a turn: a small body (an
    // API answer) never pays for a yield, a large or inflating one yields
    // after each decode step's worth.
    let mut since_yield = 0;
    loop {
        let (chunk, _) = download.next().await.map_err(ReadWholeError::Download)?;
        let Some(chunk) = chunk else { break };
        let chunk_len = chunk.len();
        let length = single.as_ref().map_or(0, Bytes::len) + whole.len() + chunk_len;
        if length as u64 > limit {
            download.cancel();
            return Err(ReadWholeError::TooLarge { limit });
        }
        // One chunk (most bodies) is handed on without a copy.
        match single.take() {
            None if whole.is_empty() => single = Some(chunk),
            first => {
                if let Some(first) = first {
                    whole.extend_from_slice(&first);
                }
                whole.extend_from_slice(&chunk);
            }
        }
        since_yield += chunk_len;
        if since_yield >= DECODED_CHUNK {
            since_yield = 0;
            tokio::task::yield_now().await;
        }
    }
    Ok(single.unwrap_or_else(|| whole.freeze()))
}

fn body_error(url: &url::Url, err: &reqwest::Error) -> DownloadError {
    let net = NetError::from_reqwest(url, err);
    DownloadError {
        message: format!("download from {url} failed: {}", net.text),
        net: Some(Box::new(net)),
    }
}
