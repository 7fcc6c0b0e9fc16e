//! `errorCode({ code = 400 })` (rest.js): the status from which a response
//! is the caller's error. balena-request's own threshold is 400; with
//! `code: 500` a 404 resolves with its response. The exchange turns
//! responses into errors (`BalenaRequestError` with the body), so the policy
//! only tells it the threshold (`Policy::error_status_from`) and passes
//! requests on: inner policies such as `retry` still see every response.

use super::config_value::{field, options, whole};
use super::{Next, Policy, PolicyFuture, PolicyRequest};
use serde_json::Value;

const NAME: &str = "errorCode";

/// balena-request's threshold.
pub const DEFAULT_CODE: u16 = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub code: u16,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        let code = match whole(NAME, "code", field(options, "code"))? {
            None => DEFAULT_CODE,
            Some(code) => u16::try_from(code)
                .ok()
                .filter(|code| *code <= 999)
                .ok_or_else(|| {
                    format!("{NAME}: `code` must be an HTTP status (0 to 999), got {code}")
                })?,
        };
        Ok(Config { code })
    }

    pub fn is_error(&self, status: u16) -> bool {
        status >= self.code
    }
}

pub struct ErrorCode(pub Config);

impl Policy for ErrorCode {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        next.run(request)
    }

    fn error_status_from(&self) -> Option<u16> {
        Some(self.0.code)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{one, Script, TestResult};
    use super::super::PolicyResponse;
    use super::*;
    use serde_json::json;

    #[test]
    fn config_default_threshold_and_bad_values() -> TestResult {
        assert_eq!(Config::from_json(&json!({}))?.code, 400);
        assert_eq!(Config::from_json(&json!({ "code": 500 }))?.code, 500);
        assert_eq!(
            Config::from_json(&json!({ "code": "500" })).err(),
            Some("errorCode: `code` must be a non-negative integer, got \"500\"".into())
        );
        assert!(Config::from_json(&json!({ "code": 70000 })).is_err());
        Ok(())
    }

    #[tokio::test]
    async fn tells_the_threshold_and_passes_every_response() -> TestResult {
        let config = Config::from_json(&json!({ "code": 500 }))?;
        assert!(!config.is_error(404));
        assert!(config.is_error(500));
        let policies = one(ErrorCode(config));
        assert_eq!(policies[0].error_status_from(), Some(500));
        let script = Script::new(vec![Ok(PolicyResponse::new(404))]);
        let response = script
            .run(&policies, PolicyRequest::new("GET", "/"))
            .await?;
        assert_eq!(response.status, 404);
        Ok(())
    }
}
