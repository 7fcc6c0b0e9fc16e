//! A request body that arrives while it is being sent: a bounded channel
//! whose producer (the JS pump, through `src/js/upload.rs`) writes chunks and
//! whose consumer is the body reqwest sends. The bound is the backpressure:
//! a write that finds no room waits until the socket has taken a chunk.
//!
//! A stream can be sent once. To send it again (a 307/308 redirect, the
//! silent re-send on a new connection, `retries`) the producer must be able
//! to start over: a `renew` callback asks it for a fresh source, which it
//! writes under a new generation number; writes of an older generation are
//! refused, so a stale pump can never feed the new request.

use bytes::Bytes;
use futures::Stream;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Chunks in flight between the producer and the socket. With the 64 KiB
/// chunks of a file stream this is 1 MiB; a source of larger chunks holds
/// more, never more than this many of them.
const CAPACITY: usize = 16;

/// Asks the producer to write the body again, under the given generation.
pub type Renew = Box<dyn Fn(u32) + Send + Sync>;

/// How the producer ended a generation.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Open,
    Finished,
    Failed(String),
}

struct State {
    generation: u32,
    sender: Option<mpsc::Sender<Bytes>>,
    /// The receiver of generation 0, until the first request takes it.
    first: Option<mpsc::Receiver<Bytes>>,
    end: End,
}

pub struct UploadChannel {
    state: Mutex<State>,
    renew: Option<Renew>,
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Taken,
    /// No room: wait with `room()`, then write the same chunk again.
    Full,
    /// Nobody will read it (the request ended, or a newer generation
    /// replaced this one): stop producing.
    Closed,
}

/// The body stream failed: the producer said so, or it went away unfinished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadError(pub String);

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UploadError {}

/// The message of a stream body that cannot be sent a second time.
pub const NOT_RESENDABLE: &str =
    "the request body is a stream that was already sent, and it must be sent again \
     (a 307/308 redirect): pass a function that returns the stream as `body`, so that it \
     can be called again";

impl UploadChannel {
    pub fn new(renew: Option<Renew>) -> Arc<UploadChannel> {
        let (sender, receiver) = mpsc::channel(CAPACITY);
        Arc::new(UploadChannel {
            state: Mutex::new(State {
                generation: 0,
                sender: Some(sender),
                first: Some(receiver),
                end: End::Open,
            }),
            renew,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn sender(&self, generation: u32) -> Option<mpsc::Sender<Bytes>> {
        let state = self.state();
        if state.generation != generation || state.end != End::Open {
            return None;
        }
        state.sender.clone()
    }

    /// `chunk` makes the bytes only once there is room for them (the
    /// binding copies them out of a JS buffer then).
    pub fn write(&self, generation: u32, chunk: impl FnOnce() -> Bytes) -> Written {
        let Some(sender) = self.sender(generation) else {
            return Written::Closed;
        };
        match sender.try_reserve_owned() {
            Ok(permit) => {
                permit.send(chunk());
                Written::Taken
            }
            Err(mpsc::error::TrySendError::Full(_)) => Written::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Written::Closed,
        }
    }

    /// Waits until a write of this generation would be taken; `false` when
    /// it never will (see `Written::Closed`).
    pub async fn room(&self, generation: u32) -> bool {
        let Some(sender) = self.sender(generation) else {
            return false;
        };
        // A permit released at once: the producer is the only writer, so
        // the room it saw is still there when it writes.
        sender.reserve_owned().await.is_ok()
    }

    /// The producer wrote all of this generation.
    pub fn finish(&self, generation: u32) {
        self.close(generation, End::Finished);
    }

    /// The producer's source failed: the request is aborted with `message`.
    pub fn fail(&self, generation: u32, message: String) {
        self.close(generation, End::Failed(message));
    }

    fn close(&self, generation: u32, end: End) {
        let mut state = self.state();
        if state.generation == generation && state.end == End::Open {
            state.end = end;
            // Dropping the sender lets the stream see the end once it has
            // taken the chunks queued before it.
            state.sender = None;
        }
    }

    /// The call ended: a first generation no request took will never be
    /// read, so its producer is told to stop (`Written::Closed`). Says
    /// whether that was the case.
    pub fn discard(&self) -> bool {
        self.state().first.take().is_some()
    }

    /// Whether `open()` can give a body that was never read: the first, or
    /// a fresh one from the producer.
    pub fn can_open(&self) -> bool {
        self.renew.is_some() || self.state().first.is_some()
    }

    /// The body for one request: the first generation, then a fresh one
    /// for each later request if the producer can start over.
    pub fn open(self: &Arc<Self>) -> Result<UploadStream, UploadError> {
        let mut state = self.state();
        if let Some(receiver) = state.first.take() {
            return Ok(UploadStream {
                channel: Arc::clone(self),
                generation: state.generation,
                receiver,
            });
        }
        let Some(renew) = self.renew.as_ref() else {
            return Err(UploadError(NOT_RESENDABLE.into()));
        };
        let (sender, receiver) = mpsc::channel(CAPACITY);
        state.generation = state.generation.wrapping_add(1);
        state.sender = Some(sender);
        state.end = End::Open;
        let generation = state.generation;
        drop(state);
        renew(generation);
        Ok(UploadStream {
            channel: Arc::clone(self),
            generation,
            receiver,
        })
    }
}

/// One generation's chunks, as a request body.
pub struct UploadStream {
    channel: Arc<UploadChannel>,
    generation: u32,
    receiver: mpsc::Receiver<Bytes>,
}

impl UploadStream {
    pub fn into_body(self) -> reqwest::Body {
        reqwest::Body::wrap_stream(self)
    }
}

impl Stream for UploadStream {
    type Item = Result<Bytes, UploadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.receiver.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => Poll::Ready(Some(Ok(chunk))),
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                let state = self.channel.state();
                let end = if state.generation == self.generation {
                    state.end.clone()
                } else {
                    End::Failed("the request body was replaced by a newer one".into())
                };
                drop(state);
                Poll::Ready(match end {
                    End::Finished => None,
                    End::Failed(message) => Some(Err(UploadError(message))),
                    // The producer dropped its end without finishing: never
                    // let a cut body pass for a whole one.
                    End::Open => Some(Err(UploadError(
                        "the request body's source went away before its end".into(),
                    ))),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::sync::atomic::{AtomicU32, Ordering};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[tokio::test]
    async fn chunks_arrive_in_order_and_the_end_is_explicit() -> TestResult {
        let channel = UploadChannel::new(None);
        let mut stream = channel.open()?;
        assert_eq!(
            channel.write(0, || Bytes::from_static(b"ab")),
            Written::Taken
        );
        assert_eq!(
            channel.write(0, || Bytes::from_static(b"cd")),
            Written::Taken
        );
        channel.finish(0);
        assert_eq!(stream.next().await, Some(Ok(Bytes::from_static(b"ab"))));
        assert_eq!(stream.next().await, Some(Ok(Bytes::from_static(b"cd"))));
        assert_eq!(stream.next().await, None);
        Ok(())
    }

    #[tokio::test]
    async fn a_full_channel_says_so_and_room_waits_for_the_reader() -> TestResult {
        let channel = UploadChannel::new(None);
        let mut stream = channel.open()?;
        for _ in 0..CAPACITY {
            assert_eq!(
                channel.write(0, || Bytes::from_static(b"x")),
                Written::Taken
            );
        }
        assert_eq!(channel.write(0, || Bytes::from_static(b"y")), Written::Full);
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), channel.room(0));
        assert!(waiting.await.is_err(), "no room until the reader takes one");
        stream.next().await;
        assert!(channel.room(0).await);
        assert_eq!(
            channel.write(0, || Bytes::from_static(b"y")),
            Written::Taken
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_failure_or_a_vanished_producer_is_an_error_never_an_end() -> TestResult {
        let channel = UploadChannel::new(None);
        let mut stream = channel.open()?;
        channel.fail(0, "disk on fire".into());
        assert_eq!(
            stream.next().await,
            Some(Err(UploadError("disk on fire".into())))
        );
        // The reader gone: writes say Closed so the producer stops.
        drop(stream);
        assert_eq!(
            channel.write(0, || Bytes::from_static(b"x")),
            Written::Closed
        );
        let channel = UploadChannel::new(None);
        let mut stream = channel.open()?;
        channel.state().sender = None;
        assert!(matches!(stream.next().await, Some(Err(_))));
        Ok(())
    }

    #[tokio::test]
    async fn a_second_open_renews_or_fails_clearly() -> TestResult {
        let plain = UploadChannel::new(None);
        assert!(plain.can_open());
        let _first = plain.open()?;
        assert!(!plain.can_open());
        assert_eq!(plain.open().err(), Some(UploadError(NOT_RESENDABLE.into())));

        let asked = Arc::new(AtomicU32::new(u32::MAX));
        let seen = Arc::clone(&asked);
        let renewable = UploadChannel::new(Some(Box::new(move |generation| {
            seen.store(generation, Ordering::SeqCst);
        })));
        let _first = renewable.open()?;
        let mut second = renewable.open()?;
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        // The old generation's writes are refused, the new one's arrive.
        assert_eq!(
            renewable.write(0, || Bytes::from_static(b"old")),
            Written::Closed
        );
        assert_eq!(
            renewable.write(1, || Bytes::from_static(b"new")),
            Written::Taken
        );
        renewable.finish(1);
        assert_eq!(second.next().await, Some(Ok(Bytes::from_static(b"new"))));
        assert_eq!(second.next().await, None);
        Ok(())
    }
}
