//! `concurrency({ max, perHost = true })`: at most `max` requests in
//! flight, per host (scheme, host and port) or for all hosts together; the
//! rest wait in the order they came (tokio's semaphore is fair, first in
//! first out). A request counts as in flight until the inner chain returns
//! (for `stream()`, until the response head). A queued request whose call is
//! aborted leaves the queue at once: the wait is a future in the chain's.
//!
//! The per-host semaphores are kept for the policy's life: a script talks
//! to a handful of hosts.

use super::config_value::{boolean, field, options, whole};
use super::{Next, Policy, PolicyFailure, PolicyFailureKind, PolicyFuture, PolicyRequest};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

const NAME: &str = "concurrency";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub max: usize,
    pub per_host: bool,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        let max = whole(NAME, "max", field(options, "max"))?
            .ok_or_else(|| format!("{NAME}: `max` is required"))?;
        let max = usize::try_from(max)
            .ok()
            .filter(|m| (1..=Semaphore::MAX_PERMITS).contains(m))
            .ok_or_else(|| format!("{NAME}: `max` must be at least 1, got {max}"))?;
        Ok(Config {
            max,
            per_host: boolean(NAME, "perHost", field(options, "perHost"))?.unwrap_or(true),
        })
    }
}

pub struct Concurrency {
    config: Config,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Concurrency {
    pub fn new(config: Config) -> Concurrency {
        Concurrency {
            config,
            limits: Mutex::new(HashMap::new()),
        }
    }

    /// The queue a request waits in: its origin, or one for all.
    fn key(&self, request: &PolicyRequest) -> String {
        if !self.config.per_host {
            return String::new();
        }
        request
            .absolute_url()
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default()
    }

    fn limit_for(&self, key: String) -> Option<Arc<Semaphore>> {
        let mut limits = self.limits.lock().ok()?;
        Some(
            limits
                .entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.max)))
                .clone(),
        )
    }
}

impl Policy for Concurrency {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        let limit = self.limit_for(self.key(&request));
        Box::pin(async move {
            let unavailable =
                || PolicyFailure::new(PolicyFailureKind::Other, "concurrency: the queue is gone");
            let limit = limit.ok_or_else(unavailable)?;
            // Never closed, so acquiring only fails if that changes.
            let _permit = limit.acquire().await.map_err(|_| unavailable())?;
            next.run(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::TestResult;
    use super::super::{Policy, PolicyOutcome, PolicyResponse, Terminal};
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn config_needs_a_positive_max() -> TestResult {
        assert_eq!(
            Config::from_json(&json!({ "max": 2 }))?,
            Config {
                max: 2,
                per_host: true
            }
        );
        assert_eq!(
            Config::from_json(&json!({ "max": 0 })).err(),
            Some("concurrency: `max` must be at least 1, got 0".into())
        );
        assert_eq!(
            Config::from_json(&json!({})).err(),
            Some("concurrency: `max` is required".into())
        );
        assert!(Config::from_json(&json!({ "max": 1, "perHost": "no" })).is_err());
        Ok(())
    }

    /// A terminal that takes 100 ms per request and records how many were
    /// in flight at most and in which order requests started.
    struct Server {
        in_flight: AtomicUsize,
        most: AtomicUsize,
        started: Mutex<Vec<String>>,
    }

    impl Server {
        fn new() -> Server {
            Server {
                in_flight: AtomicUsize::new(0),
                most: AtomicUsize::new(0),
                started: Mutex::new(Vec::new()),
            }
        }

        async fn run(&self, policies: &[Arc<dyn Policy>], url: &str) -> PolicyOutcome {
            let terminal = |request: PolicyRequest| -> PolicyFuture<'_> {
                Box::pin(async move {
                    if let Ok(mut started) = self.started.lock() {
                        started.push(request.url.clone());
                    }
                    let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    self.most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    self.in_flight.fetch_sub(1, Ordering::SeqCst);
                    Ok(PolicyResponse::new(200))
                })
            };
            let terminal: &Terminal<'_> = &terminal;
            Next::chain(policies, terminal)
                .run(PolicyRequest::new("GET", url))
                .await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_max_in_flight_in_arrival_order() -> TestResult {
        let policies: Vec<Arc<dyn Policy>> = vec![Arc::new(Concurrency::new(Config::from_json(
            &json!({ "max": 2 }),
        )?))];
        let server = Server::new();
        let start = tokio::time::Instant::now();
        let urls: Vec<String> = (0..6).map(|i| format!("http://127.0.0.1:1/{i}")).collect();
        let calls = urls.iter().map(|url| server.run(&policies, url));
        let outcomes = futures::future::join_all(calls).await;
        assert!(outcomes.iter().all(|o| o.is_ok()));
        assert_eq!(server.most.load(Ordering::SeqCst), 2);
        assert_eq!(start.elapsed(), Duration::from_millis(300));
        assert_eq!(
            server.started.lock().map(|s| s.clone()).unwrap_or_default(),
            urls
        );
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn hosts_have_their_own_queues_unless_shared() -> TestResult {
        let urls = [
            "http://127.0.0.1:1/a",
            "http://127.0.0.2:1/b",
            "http://127.0.0.1:2/c",
        ];
        for (per_host, most) in [(true, 3), (false, 1)] {
            let config = Config::from_json(&json!({ "max": 1, "perHost": per_host }))?;
            let policies: Vec<Arc<dyn Policy>> = vec![Arc::new(Concurrency::new(config))];
            let server = Server::new();
            futures::future::join_all(urls.iter().map(|url| server.run(&policies, url))).await;
            assert_eq!(
                server.most.load(Ordering::SeqCst),
                most,
                "perHost {per_host}"
            );
        }
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn an_aborted_waiter_leaves_the_queue() -> TestResult {
        let policies: Vec<Arc<dyn Policy>> = vec![Arc::new(Concurrency::new(Config::from_json(
            &json!({ "max": 1 }),
        )?))];
        let server = Server::new();
        let first = server.run(&policies, "http://127.0.0.1:1/first");
        let aborted = async {
            tokio::select! {
                _ = server.run(&policies, "http://127.0.0.1:1/aborted") => false,
                _ = tokio::time::sleep(Duration::from_millis(10)) => true,
            }
        };
        let third = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            server.run(&policies, "http://127.0.0.1:1/third").await
        };
        let (first, aborted, third) = tokio::join!(first, aborted, third);
        assert!(first.is_ok() && aborted && third.is_ok());
        assert_eq!(
            server.started.lock().map(|s| s.clone()).unwrap_or_default(),
            ["http://127.0.0.1:1/first", "http://127.0.0.1:1/third"]
        );
        Ok(())
    }
}
