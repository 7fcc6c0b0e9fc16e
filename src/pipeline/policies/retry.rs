//! `retry({...})`: sends a request again after a failure or a listed
//! status, with exponential backoff, honouring the server's `Retry-After`.
//!
//! - Wait before retry n (n = 0 for the first): min(maxRetryDelayInMs,
//!   retryDelayInMs * 2^n), jittered to 50-100% of it (so many clients do
//!   not come back at the same moment).
//! - Only methods safe to repeat are retried (GET, HEAD, OPTIONS, PUT,
//!   DELETE by default); POST and PATCH also when they carry an
//!   `Idempotency-Key` header, which says the server may see them twice
//!   (draft-ietf-httpapi-idempotency-key names those two).
//! - On a listed status the server's wait wins over the backoff:
//!   `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds), then
//!   `Retry-After` (seconds or an HTTP date), as Azure reads them. A wait
//!   beyond `maxRetryAfterInMs` is not waited: the call fails at once with
//!   the response as its error and `retry_after_ms` on it.
//! - A body that cannot be replayed is never sent again: what its one
//!   attempt gave is the outcome.
//! - When retries run out, the caller gets exactly the last attempt's
//!   response or failure, as without the policy.
//! - The wait is a tokio sleep inside the chain's future: an abort or
//!   timeout that drops the future ends it at once.

use super::config_value::{boolean, field, options, status_list, string_list, whole};
use super::{
    HeaderList, Next, Policy, PolicyFailure, PolicyFailureKind, PolicyFuture, PolicyOutcome,
    PolicyRequest, PolicyResponse,
};
use serde_json::Value;
use std::time::{Duration, SystemTime};

const NAME: &str = "retry";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub max_retries: u32,
    pub retry_delay_ms: u64,
    pub max_retry_delay_ms: u64,
    pub jitter: bool,
    /// Upper case.
    pub methods: Vec<String>,
    pub status_codes: Vec<u16>,
    pub error_codes: Vec<String>,
    pub retry_after: bool,
    pub max_retry_after_ms: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_retries: 3,
            retry_delay_ms: 500,
            max_retry_delay_ms: 30_000,
            jitter: true,
            methods: ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]
                .map(String::from)
                .to_vec(),
            status_codes: vec![408, 429, 500, 502, 503, 504],
            error_codes: [
                "ECONNRESET",
                "ECONNREFUSED",
                "ENOTFOUND",
                "ETIMEDOUT",
                "EPIPE",
                "EAI_AGAIN",
            ]
            .map(String::from)
            .to_vec(),
            retry_after: true,
            max_retry_after_ms: 60_000,
        }
    }
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        let defaults = Config::default();
        let number = |name: &str| whole(NAME, name, field(options, name));
        let max_retries = match number("maxRetries")? {
            None => defaults.max_retries,
            Some(n) => {
                u32::try_from(n).map_err(|_| format!("{NAME}: `maxRetries` is too large: {n}"))?
            }
        };
        Ok(Config {
            max_retries,
            retry_delay_ms: number("retryDelayInMs")?.unwrap_or(defaults.retry_delay_ms),
            max_retry_delay_ms: number("maxRetryDelayInMs")?.unwrap_or(defaults.max_retry_delay_ms),
            jitter: boolean(NAME, "jitter", field(options, "jitter"))?.unwrap_or(defaults.jitter),
            methods: string_list(NAME, "methods", field(options, "methods"))?
                .map(|m| m.iter().map(|m| m.to_ascii_uppercase()).collect())
                .unwrap_or(defaults.methods),
            status_codes: status_list(NAME, "statusCodes", field(options, "statusCodes"))?
                .unwrap_or(defaults.status_codes),
            error_codes: string_list(NAME, "errorCodes", field(options, "errorCodes"))?
                .unwrap_or(defaults.error_codes),
            retry_after: boolean(NAME, "retryAfter", field(options, "retryAfter"))?
                .unwrap_or(defaults.retry_after),
            max_retry_after_ms: number("maxRetryAfterInMs")?.unwrap_or(defaults.max_retry_after_ms),
        })
    }

    /// Whether a request may be sent more than once at all.
    pub fn may_repeat(&self, request: &PolicyRequest) -> bool {
        // Compared as written (the listed ones are upper case): this runs
        // for every request, so no upper-cased copy is made.
        let method = if request.method.is_empty() {
            "GET"
        } else {
            request.method.as_str()
        };
        self.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
            || ((method.eq_ignore_ascii_case("POST") || method.eq_ignore_ascii_case("PATCH"))
                && request.headers.contains("Idempotency-Key"))
    }

    /// The backoff before retry `n` (0 for the first), before jitter.
    pub fn backoff_ms(&self, n: u32) -> u64 {
        let factor = 1u64.checked_shl(n).unwrap_or(u64::MAX);
        self.retry_delay_ms
            .saturating_mul(factor)
            .min(self.max_retry_delay_ms)
    }

    /// The backoff jittered to 50-100% of it; `random` in [0, 1).
    pub fn jittered_ms(&self, n: u32, random: f64) -> u64 {
        let delay = self.backoff_ms(n);
        if !self.jitter {
            return delay;
        }
        let half = delay as f64 / 2.0;
        (half + half * random.clamp(0.0, 1.0)).round() as u64
    }

    fn retries_failure(&self, failure: &PolicyFailure) -> bool {
        match failure.kind {
            PolicyFailureKind::Network => failure
                .code
                .as_ref()
                .is_some_and(|code| self.error_codes.contains(code)),
            PolicyFailureKind::Timeout { transient } => transient,
            PolicyFailureKind::Cancelled
            | PolicyFailureKind::ErrorResponse
            | PolicyFailureKind::Js
            | PolicyFailureKind::Other => false,
        }
    }
}

/// The wait a response asks for, in milliseconds: `retry-after-ms`, then
/// `x-ms-retry-after-ms`, then `Retry-After` as seconds or an HTTP date
/// (a date in the past asks for no wait). Values that do not parse are
/// ignored, as Azure ignores them.
pub fn requested_wait_ms(headers: &HeaderList, now: SystemTime) -> Option<u64> {
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = headers
            .get(name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
        {
            return Some(ms.ceil() as u64);
        }
    }
    let value = headers.get("retry-after")?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let ms = date
        .duration_since(now)
        .map(|wait| u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Some(ms)
}

/// A number in [0, 1) from the OS random source; without one, 1.0 (the
/// full delay: waiting longer is the safe side).
fn random_unit() -> f64 {
    getrandom::u32()
        .map(|bits| f64::from(bits) / (f64::from(u32::MAX) + 1.0))
        .unwrap_or(1.0)
}

pub struct Retry {
    config: Config,
}

impl Retry {
    pub fn new(config: Config) -> Retry {
        Retry { config }
    }

    /// What to do after an attempt: `None` to return its outcome, or how
    /// long to wait before the next one (`Err` when the server asked for a
    /// wait beyond the cap).
    fn decide(&self, outcome: &PolicyOutcome, n: u32) -> Option<Result<u64, PolicyFailure>> {
        match outcome {
            Ok(response) if self.config.status_codes.contains(&response.status) => {
                let asked = if self.config.retry_after {
                    requested_wait_ms(&response.headers, SystemTime::now())
                } else {
                    None
                };
                match asked {
                    Some(wait) if wait > self.config.max_retry_after_ms => {
                        Some(Err(too_long_a_wait(response, wait)))
                    }
                    Some(wait) => Some(Ok(wait)),
                    None => Some(Ok(self.config.jittered_ms(n, random_unit()))),
                }
            }
            Ok(_) => None,
            Err(failure) if self.config.retries_failure(failure) => {
                Some(Ok(self.config.jittered_ms(n, random_unit())))
            }
            Err(_) => None,
        }
    }
}

fn too_long_a_wait(response: &PolicyResponse, wait: u64) -> PolicyFailure {
    PolicyFailure {
        retry_after_ms: Some(wait),
        response: Some(Box::new(response.clone())),
        ..PolicyFailure::new(
            PolicyFailureKind::ErrorResponse,
            format!(
                "Request failed with status code {}: the server asked to retry after {wait} ms, \
                 more than maxRetryAfterInMs",
                response.status
            ),
        )
    }
}

impl Policy for Retry {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        Box::pin(async move {
            if self.config.max_retries == 0
                || !self.config.may_repeat(&request)
                || !request.body.replayable()
            {
                return next.run(request).await;
            }
            let mut n = 0;
            loop {
                let outcome = next.run(request.clone()).await;
                if n >= self.config.max_retries {
                    return outcome;
                }
                match self.decide(&outcome, n) {
                    None => return outcome,
                    Some(Err(too_long)) => return Err(too_long),
                    Some(Ok(wait_ms)) => {
                        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
                    }
                }
                n += 1;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{one, Script, TestResult};
    use super::super::{OpaqueBody, PolicyBody};
    use super::*;
    use serde_json::json;
    use std::sync::Arc;
    use tokio::time::Instant;

    fn status(code: u16, headers: &[(&str, &str)]) -> PolicyOutcome {
        let mut response = PolicyResponse::new(code);
        for (name, value) in headers {
            response.headers.set(name, *value);
        }
        Ok(response)
    }

    fn reset() -> PolicyOutcome {
        Err(PolicyFailure::network("ECONNRESET", "read ECONNRESET"))
    }

    fn no_jitter(extra: Value) -> Result<Retry, String> {
        let mut options = json!({ "jitter": false });
        if let (Some(map), Value::Object(more)) = (options.as_object_mut(), extra) {
            map.extend(more);
        }
        Ok(Retry::new(Config::from_json(&options)?))
    }

    #[test]
    fn config_defaults_and_bad_types() -> TestResult {
        assert_eq!(Config::from_json(&json!({}))?, Config::default());
        let config = Config::from_json(&json!({
            "maxRetries": 5, "retryDelayInMs": 10, "maxRetryDelayInMs": 100, "jitter": false,
            "methods": ["get", "post"], "statusCodes": [503], "errorCodes": ["EPIPE"],
            "retryAfter": false, "maxRetryAfterInMs": 1000
        }))?;
        assert_eq!(config.max_retries, 5);
        assert_eq!(config.methods, ["GET", "POST"]);
        assert_eq!(config.status_codes, [503]);
        assert!(!config.retry_after);
        for (bad, message) in [
            (
                json!({ "maxRetries": "3" }),
                "retry: `maxRetries` must be a non-negative integer, got \"3\"",
            ),
            (
                json!({ "jitter": 1 }),
                "retry: `jitter` must be a boolean, got 1",
            ),
            (
                json!({ "methods": "GET" }),
                "retry: `methods` must be an array of strings, got \"GET\"",
            ),
            (
                json!({ "statusCodes": [5000] }),
                "retry: `statusCodes` must be an array of HTTP status codes, got [5000]",
            ),
            (
                json!({ "maxRetries": 1e10 }),
                "retry: `maxRetries` is too large: 10000000000",
            ),
        ] {
            assert_eq!(Config::from_json(&bad).err().as_deref(), Some(message));
        }
        Ok(())
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_stays_in_50_to_100_percent() {
        let config = Config::default();
        assert_eq!(
            (0..8).map(|n| config.backoff_ms(n)).collect::<Vec<_>>(),
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]
        );
        assert_eq!(config.backoff_ms(200), 30000);
        assert_eq!(config.jittered_ms(1, 0.0), 500);
        assert_eq!(config.jittered_ms(1, 0.999_999), 1000);
        for _ in 0..1000 {
            let delay = config.jittered_ms(2, random_unit());
            assert!((1000..=2000).contains(&delay), "{delay}");
        }
    }

    #[test]
    fn retry_after_in_every_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let wait = |headers: &[(&str, &str)]| {
            let mut list = HeaderList::new();
            for (n, v) in headers {
                list.set(n, *v);
            }
            requested_wait_ms(&list, now)
        };
        assert_eq!(wait(&[("Retry-After", "3")]), Some(3000));
        let in_ten_seconds = httpdate::fmt_http_date(now + Duration::from_secs(10));
        assert_eq!(wait(&[("Retry-After", &in_ten_seconds)]), Some(10_000));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(10));
        assert_eq!(wait(&[("Retry-After", &past)]), Some(0));
        assert_eq!(
            wait(&[("retry-after-ms", "250"), ("Retry-After", "9")]),
            Some(250)
        );
        assert_eq!(wait(&[("x-ms-retry-after-ms", "1.5")]), Some(2));
        assert_eq!(wait(&[("Retry-After", "soon")]), None);
        assert_eq!(wait(&[("retry-after-ms", "-1")]), None);
        assert_eq!(wait(&[]), None);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_a_listed_status_after_the_backoff() -> TestResult {
        let script = Script::new(vec![status(503, &[]), status(502, &[]), status(200, &[])]);
        let start = Instant::now();
        let response = script
            .run(&one(no_jitter(json!({}))?), PolicyRequest::new("GET", "/"))
            .await?;
        assert_eq!(response.status, 200);
        assert_eq!(script.requests()?.len(), 3);
        // 500 ms, then 1000 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(1500));
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn jittered_waits_stay_within_their_bounds() -> TestResult {
        let retry = Retry::new(Config::from_json(&json!({ "maxRetries": 1 }))?);
        let policies = one(retry);
        for _ in 0..20 {
            let script = Script::new(vec![reset(), status(200, &[])]);
            let start = Instant::now();
            script
                .run(&policies, PolicyRequest::new("GET", "/"))
                .await?;
            let waited = start.elapsed();
            assert!(
                waited >= Duration::from_millis(250) && waited <= Duration::from_millis(500),
                "{waited:?}"
            );
        }
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after_seconds_and_dates() -> TestResult {
        let policies = one(no_jitter(json!({}))?);
        let script = Script::new(vec![status(429, &[("Retry-After", "7")]), status(200, &[])]);
        let start = Instant::now();
        script
            .run(&policies, PolicyRequest::new("GET", "/"))
            .await?;
        assert_eq!(start.elapsed(), Duration::from_secs(7));

        // An HTTP date has whole seconds: the wait is the time to it from
        // the real clock, between 29 and 30 s.
        let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let script = Script::new(vec![
            status(503, &[("Retry-After", &date)]),
            status(200, &[]),
        ]);
        let start = Instant::now();
        script
            .run(&policies, PolicyRequest::new("GET", "/"))
            .await?;
        let waited = start.elapsed();
        assert!(
            waited > Duration::from_secs(28) && waited <= Duration::from_secs(30),
            "{waited:?}"
        );
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_beyond_the_cap_fails_at_once_with_the_response() -> TestResult {
        let policies = one(no_jitter(json!({ "maxRetryAfterInMs": 5000 }))?);
        let script = Script::new(vec![status(429, &[("Retry-After", "120")])]);
        let start = Instant::now();
        let failure = script
            .run(&policies, PolicyRequest::new("GET", "/"))
            .await
            .err()
            .ok_or("expected a failure")?;
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(failure.kind, PolicyFailureKind::ErrorResponse);
        assert_eq!(failure.retry_after_ms, Some(120_000));
        assert_eq!(failure.response.map(|r| r.status), Some(429));
        assert_eq!(script.requests()?.len(), 1);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_outcome_is_returned_exactly() -> TestResult {
        let policies = one(no_jitter(json!({ "maxRetries": 2 }))?);
        let mut last = PolicyResponse::new(503);
        last.headers.set("x-attempt", "3");
        last.body = super::super::PolicyResponseBody::Bytes("busy".into());
        let script = Script::new(vec![status(503, &[]), reset(), Ok(last.clone())]);
        let response = script
            .run(&policies, PolicyRequest::new("GET", "/"))
            .await?;
        assert_eq!(response, last);
        assert_eq!(script.requests()?.len(), 3);

        let script = Script::new(vec![status(503, &[]), status(500, &[]), reset()]);
        let failure = script
            .run(&policies, PolicyRequest::new("GET", "/"))
            .await
            .err();
        assert_eq!(failure, reset().err());
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn post_is_retried_only_if_listed_or_with_an_idempotency_key() -> TestResult {
        let script = Script::new(vec![status(503, &[]), status(503, &[]), status(200, &[])]);
        let response = script
            .run(&one(no_jitter(json!({}))?), PolicyRequest::new("POST", "/"))
            .await?;
        assert_eq!(response.status, 503);
        assert_eq!(script.requests()?.len(), 1);

        let mut keyed = PolicyRequest::new("post", "/");
        keyed.headers.set("Idempotency-Key", "k1");
        let script = Script::new(vec![status(503, &[]), status(200, &[])]);
        let response = script.run(&one(no_jitter(json!({}))?), keyed).await?;
        assert_eq!(response.status, 200);
        assert_eq!(script.requests()?.len(), 2);

        let script = Script::new(vec![reset(), status(200, &[])]);
        let listed = one(no_jitter(json!({ "methods": ["POST"] }))?);
        script.run(&listed, PolicyRequest::new("POST", "/")).await?;
        assert_eq!(script.requests()?.len(), 2);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn only_listed_failures_are_retried() -> TestResult {
        let policies = one(no_jitter(json!({}))?);
        for failure in [
            PolicyFailure::network("ECONNABORTED", "other"),
            PolicyFailure::new(PolicyFailureKind::Timeout { transient: false }, "timeout"),
            PolicyFailure::new(PolicyFailureKind::Cancelled, "aborted"),
        ] {
            let script = Script::new(vec![Err(failure.clone()), status(200, &[])]);
            let outcome = script.run(&policies, PolicyRequest::new("GET", "/")).await;
            assert_eq!(outcome.err(), Some(failure));
            assert_eq!(script.requests()?.len(), 1);
        }
        let transient =
            PolicyFailure::new(PolicyFailureKind::Timeout { transient: true }, "timeout");
        let script = Script::new(vec![Err(transient), status(404, &[]), status(200, &[])]);
        let response = script
            .run(&policies, PolicyRequest::new("GET", "/"))
            .await?;
        assert_eq!(response.status, 404);
        assert_eq!(script.requests()?.len(), 2);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_cannot_be_replayed_is_sent_once() -> TestResult {
        let handle: OpaqueBody = Arc::new(());
        let mut request = PolicyRequest::new("PUT", "/");
        request.body = PolicyBody::Stream {
            handle: handle.clone(),
            replayable: false,
        };
        let script = Script::new(vec![reset(), status(200, &[])]);
        let outcome = script.run(&one(no_jitter(json!({}))?), request).await;
        assert_eq!(outcome.err(), reset().err());
        assert_eq!(script.requests()?.len(), 1);

        let mut again = PolicyRequest::new("PUT", "/");
        again.body = PolicyBody::Stream {
            handle,
            replayable: true,
        };
        let script = Script::new(vec![reset(), status(200, &[])]);
        script.run(&one(no_jitter(json!({}))?), again).await?;
        assert_eq!(script.requests()?.len(), 2);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_chain_ends_a_pending_backoff_at_once() -> TestResult {
        // An abort 10 ms into a 500 ms backoff: the chain's future is
        // dropped, the sleep with it, and no second attempt is made.
        let policies = one(no_jitter(json!({}))?);
        let script = Script::new(vec![status(503, &[]), status(200, &[])]);
        let start = Instant::now();
        let aborted = tokio::select! {
            _ = script.run(&policies, PolicyRequest::new("GET", "/")) => false,
            _ = tokio::time::sleep(Duration::from_millis(10)) => true,
        };
        assert!(aborted);
        assert_eq!(start.elapsed(), Duration::from_millis(10));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(script.requests()?.len(), 1);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn zero_retries_and_retry_after_off() -> TestResult {
        let script = Script::new(vec![status(503, &[]), status(200, &[])]);
        let response = script
            .run(
                &one(no_jitter(json!({ "maxRetries": 0 }))?),
                PolicyRequest::new("GET", "/"),
            )
            .await?;
        assert_eq!(response.status, 503);

        let script = Script::new(vec![
            status(429, &[("Retry-After", "600")]),
            status(200, &[]),
        ]);
        let start = Instant::now();
        script
            .run(
                &one(no_jitter(json!({ "retryAfter": false }))?),
                PolicyRequest::new("GET", "/"),
            )
            .await?;
        assert_eq!(start.elapsed(), Duration::from_millis(500));
        Ok(())
    }
}
