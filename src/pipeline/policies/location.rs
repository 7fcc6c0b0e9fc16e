//! `location({ code = 0 })` (rest.js): a response with a `Location` header
//! and a status of at least `code` is followed with a GET of that URL (a
//! `201 Created` included), hop after hop. The GET carries the request's
//! headers minus the body's, and minus credentials when it leaves the
//! origin: the engine's redirect rule (`engine/redirect.rs`). At most
//! `MAX_REDIRECTS` hops, as fetch allows.

use super::config_value::{field, options, whole};
use super::{
    Next, Policy, PolicyBody, PolicyFailure, PolicyFailureKind, PolicyFuture, PolicyRequest,
};
use crate::engine::redirect::{BODY_HEADERS, CREDENTIAL_HEADERS, MAX_REDIRECTS};
use serde_json::Value;

const NAME: &str = "location";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub code: u16,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        let code = whole(NAME, "code", field(options, "code"))?.unwrap_or(0);
        let code = u16::try_from(code)
            .ok()
            .filter(|c| *c <= 999)
            .ok_or_else(|| {
                format!("{NAME}: `code` must be an HTTP status (0 to 999), got {code}")
            })?;
        Ok(Config { code })
    }
}

/// The GET that follows `location` from `request`, or a failure when the
/// location is no URL.
fn follow(request: &PolicyRequest, location: &str) -> Result<PolicyRequest, PolicyFailure> {
    let from = request.absolute_url();
    let to = match &from {
        Some(from) => from.join(location),
        None => url::Url::parse(location),
    }
    .map_err(|_| {
        PolicyFailure::new(
            PolicyFailureKind::Other,
            format!("location: the Location header is not a URL: {location}"),
        )
    })?;
    let mut headers = request.headers.clone();
    for name in &BODY_HEADERS {
        headers.remove(name.as_str());
    }
    if from.is_none_or(|from| from.origin() != to.origin()) {
        for name in &CREDENTIAL_HEADERS {
            headers.remove(name.as_str());
        }
    }
    Ok(PolicyRequest {
        method: "GET".to_string(),
        url: to.to_string(),
        base_url: None,
        headers,
        body: PolicyBody::None,
    })
}

pub struct Location(pub Config);

impl Policy for Location {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        Box::pin(async move {
            let mut current = request;
            let mut hops = 0;
            loop {
                let response = next.run(current.clone()).await?;
                let location = match response.headers.get("location") {
                    Some(location) if response.status >= self.0.code => location.to_string(),
                    _ => return Ok(response),
                };
                if hops == MAX_REDIRECTS {
                    return Err(PolicyFailure::new(
                        PolicyFailureKind::Other,
                        format!("location: more than {MAX_REDIRECTS} Location hops"),
                    ));
                }
                current = follow(&current, &location)?;
                hops += 1;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{one, Script, TestResult};
    use super::super::{HeaderList, PolicyResponse};
    use super::*;
    use bytes::Bytes;
    use serde_json::json;

    fn with_location(status: u16, location: &str) -> Result<PolicyResponse, PolicyFailure> {
        let mut response = PolicyResponse::new(status);
        response.headers.set("Location", location);
        Ok(response)
    }

    #[test]
    fn config_default_and_types() -> TestResult {
        assert_eq!(Config::from_json(&json!({}))?.code, 0);
        assert_eq!(Config::from_json(&json!({ "code": 201 }))?.code, 201);
        assert!(Config::from_json(&json!({ "code": "201" })).is_err());
        Ok(())
    }

    #[tokio::test]
    async fn follows_a_created_resource_with_a_get() -> TestResult {
        let policies = one(Location(Config::from_json(&json!({ "code": 201 }))?));
        let script = Script::new(vec![
            with_location(201, "/things/7"),
            Ok(PolicyResponse::new(200)),
        ]);
        let mut request = PolicyRequest::new("POST", "/things");
        request.base_url = Some("http://127.0.0.1:9/api/".into());
        request.headers = HeaderList::from([
            ("Authorization", "Bearer t"),
            ("Content-Type", "application/json"),
            ("X-Keep", "k"),
        ]);
        request.body = PolicyBody::Bytes(Bytes::from_static(b"{}"));
        let response = script.run(&policies, request).await?;
        assert_eq!(response.status, 200);
        let seen = script.requests()?;
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].method, "GET");
        assert_eq!(seen[1].url, "http://127.0.0.1:9/things/7");
        assert!(matches!(seen[1].body, PolicyBody::None));
        assert_eq!(
            seen[1].headers,
            HeaderList::from([("Authorization", "Bearer t"), ("X-Keep", "k")])
        );
        Ok(())
    }

    #[tokio::test]
    async fn below_the_code_or_without_location_the_response_is_returned() -> TestResult {
        let policies = one(Location(Config::from_json(&json!({ "code": 300 }))?));
        let script = Script::new(vec![with_location(201, "/x"), Ok(PolicyResponse::new(302))]);
        assert_eq!(
            script
                .run(&policies, PolicyRequest::new("GET", "http://127.0.0.1/"))
                .await?
                .status,
            201
        );
        assert_eq!(
            script
                .run(&policies, PolicyRequest::new("GET", "http://127.0.0.1/"))
                .await?
                .status,
            302
        );
        assert_eq!(script.requests()?.len(), 2);
        Ok(())
    }

    #[tokio::test]
    async fn credentials_do_not_follow_to_another_origin() -> TestResult {
        let policies = one(Location(Config::from_json(&json!({}))?));
        let script = Script::new(vec![
            with_location(303, "http://127.0.0.2:8/elsewhere"),
            Ok(PolicyResponse::new(200)),
        ]);
        let mut request = PolicyRequest::new("GET", "http://127.0.0.1:8/");
        request.headers = HeaderList::from([
            ("authorization", "Bearer t"),
            ("Cookie", "c"),
            ("X-Keep", "k"),
        ]);
        script.run(&policies, request).await?;
        assert_eq!(
            script.requests()?[1].headers,
            HeaderList::from([("X-Keep", "k")])
        );
        Ok(())
    }

    #[tokio::test]
    async fn hops_are_limited() -> TestResult {
        let policies = one(Location(Config::from_json(&json!({}))?));
        let replies = (0..=MAX_REDIRECTS)
            .map(|_| with_location(200, "/again"))
            .collect();
        let script = Script::new(replies);
        let failure = script
            .run(&policies, PolicyRequest::new("GET", "http://127.0.0.1/"))
            .await
            .err()
            .ok_or("expected a failure")?;
        assert_eq!(failure.message, "location: more than 20 Location hops");
        assert_eq!(script.requests()?.len(), MAX_REDIRECTS + 1);
        Ok(())
    }
}
