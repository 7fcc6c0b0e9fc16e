//! `timeout({ timeout, transient = false })` (rest.js): a request that has
//! no response after `timeout` ms fails, and what runs inside (the exchange,
//! inner policies) is cancelled by dropping its future. A transient timeout
//! may be retried by an outer `retry`; a non-transient one ends the call
//! whatever surrounds it. `timeout: 0` turns the policy off, as in rest.js.

use super::config_value::{boolean, field, options, whole};
use super::{Next, Policy, PolicyFailure, PolicyFailureKind, PolicyFuture, PolicyRequest};
use serde_json::Value;
use std::time::Duration;

const NAME: &str = "timeout";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub timeout_ms: u64,
    pub transient: bool,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        Ok(Config {
            timeout_ms: whole(NAME, "timeout", field(options, "timeout"))?
                .ok_or_else(|| format!("{NAME}: `timeout` (milliseconds) is required"))?,
            transient: boolean(NAME, "transient", field(options, "transient"))?.unwrap_or(false),
        })
    }
}

pub struct Timeout(pub Config);

impl Policy for Timeout {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        if self.0.timeout_ms == 0 {
            return next.run(request);
        }
        let limit = Duration::from_millis(self.0.timeout_ms);
        let transient = self.0.transient;
        Box::pin(async move {
            match tokio::time::timeout(limit, next.run(request)).await {
                Ok(outcome) => outcome,
                Err(_elapsed) => Err(PolicyFailure::new(
                    PolicyFailureKind::Timeout { transient },
                    format!("timeout: no response within {} ms", limit.as_millis()),
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::retry::{self, Retry};
    use super::super::test_support::{one, TestResult};
    use super::super::{Policy, PolicyOutcome, PolicyResponse, Terminal};
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use tokio::time::Instant;

    #[test]
    fn config_needs_a_timeout() -> TestResult {
        assert_eq!(
            Config::from_json(&json!({ "timeout": 100 }))?,
            Config {
                timeout_ms: 100,
                transient: false
            }
        );
        assert_eq!(
            Config::from_json(&json!({})).err(),
            Some("timeout: `timeout` (milliseconds) is required".into())
        );
        assert!(Config::from_json(&json!({ "timeout": 1, "transient": "yes" })).is_err());
        Ok(())
    }

    /// A terminal whose first `slow` calls never answer in time (1 hour)
    /// and the rest answer 200 at once; counts its calls.
    async fn run_with_slow_terminal(
        policies: &[Arc<dyn Policy>],
        slow: u32,
        calls: &AtomicU32,
    ) -> PolicyOutcome {
        let terminal = |_request: PolicyRequest| -> PolicyFuture<'_> {
            let call = calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if call < slow {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                Ok(PolicyResponse::new(200))
            })
        };
        let terminal: &Terminal<'_> = &terminal;
        Next::chain(policies, terminal)
            .run(PolicyRequest::new("GET", "/"))
            .await
    }

    #[tokio::test(start_paused = true)]
    async fn fails_after_the_limit_and_says_whether_transient() -> TestResult {
        let calls = AtomicU32::new(0);
        let start = Instant::now();
        let policies = one(Timeout(Config::from_json(&json!({ "timeout": 250 }))?));
        let failure = run_with_slow_terminal(&policies, 1, &calls).await.err();
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        assert_eq!(
            failure.map(|f| f.kind),
            Some(PolicyFailureKind::Timeout { transient: false })
        );
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn an_outer_retry_repeats_a_transient_timeout_only() -> TestResult {
        let retry = || -> Result<Arc<dyn Policy>, String> {
            Ok(Arc::new(Retry::new(retry::Config::from_json(
                &json!({ "jitter": false }),
            )?)))
        };
        let transient: Vec<Arc<dyn Policy>> = vec![
            retry()?,
            Arc::new(Timeout(Config::from_json(
                &json!({ "timeout": 100, "transient": true }),
            )?)),
        ];
        let calls = AtomicU32::new(0);
        let response = run_with_slow_terminal(&transient, 1, &calls).await?;
        assert_eq!(response.status, 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let fatal: Vec<Arc<dyn Policy>> = vec![
            retry()?,
            Arc::new(Timeout(Config::from_json(&json!({ "timeout": 100 }))?)),
        ];
        let calls = AtomicU32::new(0);
        let outcome = run_with_slow_terminal(&fatal, 1, &calls).await;
        assert!(outcome.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_no_limit() -> TestResult {
        let calls = AtomicU32::new(0);
        let policies = one(Timeout(Config::from_json(&json!({ "timeout": 0 }))?));
        let start = Instant::now();
        let response = run_with_slow_terminal(&policies, 1, &calls).await?;
        assert_eq!(response.status, 200);
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
        Ok(())
    }
}
