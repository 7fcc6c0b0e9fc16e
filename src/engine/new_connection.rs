//! Whether an attempt went over a connection opened for it or over one taken
//! from the pool. reqwest and hyper-util do not say so when a request fails,
//! so the attempt is run inside a future-local flag (`observe`), and a layer
//! around reqwest's connector (`MarkNewConnections`) sets the flag when a
//! connection finishes connecting while that attempt's future is polled.
//!
//! Why this is sound (hyper-util 0.1.21, `client/legacy/client.rs`):
//! - reqwest spawns nothing: the attempt's future polls hyper-util's
//!   `send_request` directly, which polls `connection_for` inline.
//! - A request uses a new connection only when `connect_to` (whose first step
//!   is the connector's future) runs to completion inside that request's
//!   future: the `select(checkout, connect)` Right arm, the canceled-checkout
//!   arm that awaits `connecting`, or the no-pool path. A connection error
//!   reaches the request by the same arms. So a request whose error came from
//!   a connection opened for it always sees the flag set.
//! - When the pool's checkout wins, a connect already started is spawned as
//!   a background task to finish; it is polled outside any `observe` scope,
//!   so it marks no one. A connect that finished inside the scope while
//!   another connection was then used (hyper's `tx.ready()` wait lets the
//!   checkout win late) marks the attempt as new: the error in that narrow
//!   case is taken as a new connection's, which only forgoes a re-send.
//! - `tokio::task_local!` values are set per poll of the scoped future, not
//!   per thread or task, so concurrent attempts (even joined in one task) each
//!   see only their own flag.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

tokio::task_local! {
    static OPENED: Cell<bool>;
}

/// Where the connection an attempt used came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionOrigin {
    /// Opened (or being opened) for this attempt.
    New,
    /// Taken from the pool: it had been open, idle or shared, before.
    Pooled,
}

/// Runs `attempt` and says whether a connection finished connecting while it
/// was polled (see the module's comment for why that answers the question).
pub async fn observe<F: Future>(attempt: F) -> (F::Output, ConnectionOrigin) {
    OPENED
        .scope(Cell::new(false), async move {
            let output = attempt.await;
            // Inside the scope `try_with` cannot fail; were it to, "new" is
            // the answer that never causes a re-send.
            let opened = OPENED.try_with(Cell::get).unwrap_or(true);
            let origin = if opened {
                ConnectionOrigin::New
            } else {
                ConnectionOrigin::Pooled
            };
            (output, origin)
        })
        .await
}

/// A tower layer for `reqwest::ClientBuilder::connector_layer`: every new
/// connection passes through it (a pooled one does not), and its completion
/// is marked on the attempt being observed, if any.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkNewConnections;

impl<S> tower::Layer<S> for MarkNewConnections {
    type Service = Marking<S>;

    fn layer(&self, inner: S) -> Marking<S> {
        Marking(inner)
    }
}

#[derive(Debug, Clone)]
pub struct Marking<S>(S);

impl<S, Target> tower::Service<Target> for Marking<S>
where
    S: tower::Service<Target>,
    S::Future: Unpin,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = MarkWhenDone<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, target: Target) -> Self::Future {
        MarkWhenDone(self.0.call(target))
    }
}

/// The connector's future; when it completes (connected or failed: a failed
/// new connection is a new connection's failure too) or is dropped unfinished
/// (reqwest's connect timeout sits outside this layer) it marks the attempt.
pub struct MarkWhenDone<F>(F);

fn mark() {
    // Outside an `observe` scope (a background connect) there is no attempt
    // to mark.
    let _ = OPENED.try_with(|opened| opened.set(true));
}

impl<F: Future + Unpin> Future for MarkWhenDone<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let done = Pin::new(&mut self.0).poll(cx);
        if done.is_ready() {
            mark();
        }
        done
    }
}

impl<F> Drop for MarkWhenDone<F> {
    fn drop(&mut self) {
        mark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_server::read_head;
    use std::io::Write;
    use std::net::TcpListener;
    use std::time::Duration;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// The first request opens a connection, the second reuses it, and a
    /// connection that finished in the background marks no one.
    #[tokio::test]
    async fn the_first_request_is_new_and_the_next_pooled() -> TestResult {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        std::thread::spawn(move || -> std::io::Result<()> {
            let (mut socket, _) = listener.accept()?;
            for _ in 0..3 {
                read_head(&mut socket)?;
                socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")?;
            }
            Ok(())
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .connector_layer(MarkNewConnections)
            .build()?;
        let url = format!("http://{addr}/");
        let mut origins = Vec::new();
        for _ in 0..3 {
            let (response, origin) = observe(client.get(&url).send()).await;
            response?.bytes().await?;
            origins.push(origin);
            // Let hyper put the connection back in the pool.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        use ConnectionOrigin::*;
        assert_eq!(origins, [New, Pooled, Pooled]);
        Ok(())
    }

    /// A refused connect is the attempt's own new connection failing.
    #[tokio::test]
    async fn a_failed_connect_is_new() -> TestResult {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let client = reqwest::Client::builder()
            .no_proxy()
            .connector_layer(MarkNewConnections)
            .build()?;
        let (result, origin) =
            observe(client.get(format!("http://127.0.0.1:{port}/")).send()).await;
        assert!(result.is_err());
        assert_eq!(origin, ConnectionOrigin::New);
        Ok(())
    }

    #[tokio::test]
    async fn nothing_marked_outside_a_scope_and_no_connect_is_pooled() -> TestResult {
        let mut marked = MarkWhenDone(Box::pin(async {}));
        // Polled outside any scope: must not panic, marks nothing.
        std::future::poll_fn(|cx| Pin::new(&mut marked).poll(cx)).await;
        let ((), origin) = observe(async {}).await;
        assert_eq!(origin, ConnectionOrigin::Pooled);
        Ok(())
    }
}
