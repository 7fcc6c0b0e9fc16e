//! A `Download` read a few chunks ahead of its consumer: a task of its own
//! reads the socket and inflates while the consumer (JS) handles the chunks
//! before, so that on a machine with two cores network, inflate and JS
//! overlap instead of taking turns.
//!
//! Bounded: the task stops (and so does the socket, TCP's window closing)
//! once `depth` steps wait unread, plus the one it holds; with 1 MiB decoded
//! steps that is a few MiB whatever the body inflates to. Dropping the
//! `ReadAhead` ends the task at once, which drops the connection.

use super::download::{Download, DownloadError};
use super::progress::ProgressEvent;
use bytes::Bytes;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What one `Download::next` gave: a chunk (`None` at the end) and the
/// progress event that fell due with it.
pub type Step = Result<(Option<Bytes>, Option<Option<ProgressEvent>>), DownloadError>;

pub struct ReadAhead {
    steps: mpsc::Receiver<Step>,
    task: JoinHandle<()>,
    /// The event after the last byte, set before the end is handed on.
    final_progress: Arc<Mutex<Option<ProgressEvent>>>,
    ended: bool,
}

impl ReadAhead {
    /// Starts reading; must be called on a tokio runtime.
    pub fn start(mut download: Download, depth: usize) -> ReadAhead {
        let (sender, steps) = mpsc::channel(depth.max(1));
        let final_progress = Arc::new(Mutex::new(None));
        let final_slot = final_progress.clone();
        let task = tokio::spawn(async move {
            loop {
                let step = download.next().await;
                let last = !matches!(step, Ok((Some(_), _)));
                if matches!(step, Ok((None, _))) {
                    if let Ok(mut slot) = final_slot.lock() {
                        *slot = download.final_progress();
                    }
                }
                // An error from `send`: the consumer is gone, so is the body.
                if sender.send(step).await.is_err() || last {
                    return;
                }
            }
        });
        ReadAhead {
            steps,
            task,
            final_progress,
            ended: false,
        }
    }

    /// The next step, in order; the end (`Ok((None, None))`) again after
    /// the body ended or failed.
    pub async fn next(&mut self) -> Step {
        if self.ended {
            return Ok((None, None));
        }
        match self.steps.recv().await {
            Some(step) => {
                self.ended = !matches!(step, Ok((Some(_), _)));
                step
            }
            None => {
                self.ended = true;
                Ok((None, None))
            }
        }
    }

    /// The event after the last byte (100% whenever the total is known);
    /// `None` before the end or when the total is unknown.
    pub fn final_progress(&self) -> Option<ProgressEvent> {
        self.final_progress.lock().ok().and_then(|slot| *slot)
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::decode::Encoding;
    use crate::engine::download::BodyInfo;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// The byte at `offset` of the test bodies.
    fn pattern(offset: u64) -> u8 {
        (offset % 251) as u8
    }

    /// Serves one response of `length` pattern bytes in 64 KiB writes,
    /// counting what the socket accepted; `closed` is set when a write fails
    /// (the client dropped the connection).
    async fn serve(
        length: u64,
        written: Arc<AtomicU64>,
        closed: Arc<AtomicU64>,
    ) -> std::io::Result<String> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/body", listener.local_addr()?);
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut head = [0u8; 4096];
            let _ = socket.read(&mut head).await;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n");
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut offset = 0u64;
            while offset < length {
                let block: Vec<u8> = (offset..(offset + 65536).min(length))
                    .map(pattern)
                    .collect();
                if socket.write_all(&block).await.is_err() {
                    closed.store(1, Ordering::SeqCst);
                    return;
                }
                offset += block.len() as u64;
                written.store(offset, Ordering::SeqCst);
            }
        });
        Ok(url)
    }

    async fn download(url: &str, length: u64) -> Result<Download, Box<dyn std::error::Error>> {
        let client = reqwest::Client::builder().no_proxy().build()?;
        let response = client.get(url).send().await?;
        Ok(Download::new(
            response,
            BodyInfo {
                encoding: Encoding::Identity,
                content_length: Some(length),
                transfer_length: None,
                wire_length: Some(length),
                resume: None,
                idle_timeout: None,
            },
        ))
    }

    #[tokio::test]
    async fn every_byte_once_in_order_then_the_final_progress() -> TestResult {
        let length = 8 * 1024 * 1024 + 17;
        let counters = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let url = serve(length, counters.0, counters.1).await?;
        let mut ahead = ReadAhead::start(download(&url, length).await?, 2);
        assert_eq!(ahead.final_progress(), None);
        let mut offset = 0u64;
        while let (Some(chunk), _) = ahead.next().await.map_err(|e| e.message)? {
            for (i, byte) in chunk.iter().enumerate() {
                if *byte != pattern(offset + i as u64) {
                    return Err(format!("wrong byte at {}", offset + i as u64).into());
                }
            }
            offset += chunk.len() as u64;
        }
        assert_eq!(offset, length);
        assert_eq!(ahead.final_progress().map(|p| p.received), Some(length));
        // The end stays the end.
        assert!(matches!(ahead.next().await, Ok((None, None))));
        Ok(())
    }

    #[tokio::test]
    async fn a_consumer_that_never_reads_stops_the_socket_and_dropping_closes_it() -> TestResult {
        let length = 1024 * 1024 * 1024;
        let written = Arc::new(AtomicU64::new(0));
        let closed = Arc::new(AtomicU64::new(0));
        let url = serve(length, written.clone(), closed.clone()).await?;
        let ahead = ReadAhead::start(download(&url, length).await?, 2);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sent = written.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Stalled: nothing more went, and what went is a few chunks plus the
        // sockets' buffers (unbounded, the reader would take GBs in 0.7 s).
        assert_eq!(written.load(Ordering::SeqCst), sent);
        assert!(sent < 48 * 1024 * 1024, "{sent} bytes went");
        drop(ahead);
        for _ in 0..100 {
            if closed.load(Ordering::SeqCst) == 1 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err("the connection stayed open after the read-ahead was dropped".into())
    }
}
