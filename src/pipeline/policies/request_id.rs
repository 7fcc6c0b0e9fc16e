//! `requestId({ headerName = 'X-Request-Id' })`: a random UUID (v4) in
//! that header when the request has none. The same id must go with every
//! attempt of one call, so the policy must run outside `retry` (Azure puts
//! its request-id policy in no phase, hence before the Retry phase): retry
//! re-sends the request it was given, and an inner `requestId` would see it
//! without an id and make a new one per attempt. Setting it only when
//! absent keeps an id the caller chose.

use super::config_value::{field, options, string};
use super::{Next, Policy, PolicyFailure, PolicyFailureKind, PolicyFuture, PolicyRequest};
use serde_json::Value;

const NAME: &str = "requestId";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub header_name: String,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        Ok(Config {
            header_name: string(NAME, "headerName", field(options, "headerName"))?
                .unwrap_or_else(|| "X-Request-Id".to_string()),
        })
    }
}

/// A random (version 4) UUID, lower case with hyphens. Fails only when the
/// operating system gives no random bytes.
pub fn new_request_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string())
}

pub struct RequestId(pub Config);

impl Policy for RequestId {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, mut request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        if !request.headers.contains(&self.0.header_name) {
            match new_request_id() {
                Ok(id) => {
                    request.headers.set_if_absent(&self.0.header_name, id);
                }
                Err(error) => {
                    let failure = PolicyFailure::new(
                        PolicyFailureKind::Other,
                        format!("requestId: no random bytes for a request id: {error}"),
                    );
                    return Box::pin(async move { Err(failure) });
                }
            }
        }
        next.run(request)
    }
}

#[cfg(test)]
mod tests {
    use super::super::retry::{self, Retry};
    use super::super::test_support::{Script, TestResult};
    use super::super::{Policy, PolicyResponse};
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn config_default_and_types() -> TestResult {
        assert_eq!(Config::from_json(&json!({}))?.header_name, "X-Request-Id");
        assert_eq!(
            Config::from_json(&json!({ "headerName": false })).err(),
            Some("requestId: `headerName` must be a string, got false".into())
        );
        Ok(())
    }

    #[test]
    fn ids_are_version_4_uuids_and_differ() -> TestResult {
        let id = new_request_id()?;
        let parsed = uuid::Uuid::parse_str(&id)?;
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(id.len(), 36);
        assert_ne!(id, new_request_id()?);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn the_same_id_goes_with_every_attempt_and_a_given_one_is_kept() -> TestResult {
        let retry = Retry::new(retry::Config::from_json(&json!({ "jitter": false }))?);
        let policies: Vec<Arc<dyn Policy>> = vec![
            Arc::new(RequestId(Config::from_json(&json!({}))?)),
            Arc::new(retry),
        ];
        let script = Script::new(vec![
            Ok(PolicyResponse::new(503)),
            Ok(PolicyResponse::new(200)),
            Ok(PolicyResponse::new(200)),
        ]);
        script
            .run(&policies, PolicyRequest::new("GET", "/"))
            .await?;
        let mut given = PolicyRequest::new("GET", "/");
        given.headers.set("x-request-id", "mine");
        script.run(&policies, given).await?;
        let seen = script.requests()?;
        let first = seen[0].headers.get("X-Request-Id");
        assert!(first.is_some());
        assert_eq!(first, seen[1].headers.get("X-Request-Id"));
        assert_eq!(seen[2].headers.get("X-Request-Id"), Some("mine"));
        Ok(())
    }
}
