//! `defaultRequest(defaults)` (rest.js): fills in what the caller left out.
//! Default headers are added only under names the request does not have;
//! `method`, `url` and `baseUrl` only when the request has none.

use super::config_value::{field, options, string};
use super::{HeaderList, Next, Policy, PolicyFuture, PolicyRequest};
use serde_json::Value;

const NAME: &str = "defaultRequest";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub method: Option<String>,
    pub url: Option<String>,
    pub base_url: Option<String>,
    pub headers: HeaderList,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        let headers = match field(options, "headers") {
            None => HeaderList::new(),
            Some(Value::Object(map)) => HeaderList(
                map.iter()
                    .map(|(name, value)| match value {
                        Value::String(text) => Ok((name.clone(), text.clone())),
                        // fetch's Headers turns numbers into their text.
                        Value::Number(number) => Ok((name.clone(), number.to_string())),
                        other => Err(format!(
                            "{NAME}: header `{name}` must be a string or a number, got {other}"
                        )),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Some(other) => return Err(format!("{NAME}: `headers` must be an object, got {other}")),
        };
        Ok(Config {
            method: string(NAME, "method", field(options, "method"))?,
            url: string(NAME, "url", field(options, "url"))?,
            base_url: string(NAME, "baseUrl", field(options, "baseUrl"))?,
            headers,
        })
    }

    pub fn apply(&self, request: &mut PolicyRequest) {
        if request.method.is_empty() {
            if let Some(method) = &self.method {
                request.method = method.clone();
            }
        }
        if request.url.is_empty() {
            if let Some(url) = &self.url {
                request.url = url.clone();
            }
        }
        if request.base_url.as_deref().is_none_or(str::is_empty) {
            if let Some(base_url) = &self.base_url {
                request.base_url = Some(base_url.clone());
            }
        }
        for (name, value) in self.headers.iter() {
            request.headers.set_if_absent(name, value);
        }
    }
}

pub struct DefaultRequest(pub Config);

impl Policy for DefaultRequest {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, mut request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        self.0.apply(&mut request);
        next.run(request)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{one, Script, TestResult};
    use super::super::PolicyResponse;
    use super::*;
    use serde_json::json;

    #[test]
    fn config_reads_every_field_and_refuses_wrong_types() -> TestResult {
        let config = Config::from_json(&json!({
            "method": "POST", "url": "/x", "baseUrl": "http://127.0.0.1:1",
            "headers": { "X-A": "a", "X-N": 5 }
        }))?;
        assert_eq!(config.method.as_deref(), Some("POST"));
        assert_eq!(
            config.headers,
            HeaderList::from([("X-A", "a"), ("X-N", "5")])
        );
        assert_eq!(Config::from_json(&Value::Null)?, Config::default());
        assert_eq!(
            Config::from_json(&json!({ "method": 1 })).err(),
            Some("defaultRequest: `method` must be a string, got 1".into())
        );
        assert_eq!(
            Config::from_json(&json!({ "headers": ["a"] })).err(),
            Some("defaultRequest: `headers` must be an object, got [\"a\"]".into())
        );
        assert!(Config::from_json(&json!({ "headers": { "a": {} } })).is_err());
        Ok(())
    }

    #[tokio::test]
    async fn fills_only_what_the_request_lacks() -> TestResult {
        let config = Config::from_json(&json!({
            "method": "PUT", "url": "/default", "baseUrl": "http://127.0.0.1:1",
            "headers": { "accept": "application/json", "X-Extra": "e" }
        }))?;
        let script = Script::new(vec![
            Ok(PolicyResponse::new(200)),
            Ok(PolicyResponse::new(200)),
        ]);
        let policies = one(DefaultRequest(config));

        let mut given = PolicyRequest::new("get", "/mine");
        given.base_url = Some("http://127.0.0.1:2".into());
        given.headers = HeaderList::from([("Accept", "text/plain")]);
        script.run(&policies, given).await?;
        script.run(&policies, PolicyRequest::new("", "")).await?;

        let seen = script.requests()?;
        assert_eq!(seen[0].method, "get");
        assert_eq!(seen[0].url, "/mine");
        assert_eq!(seen[0].base_url.as_deref(), Some("http://127.0.0.1:2"));
        assert_eq!(
            seen[0].headers,
            HeaderList::from([("Accept", "text/plain"), ("X-Extra", "e")])
        );
        assert_eq!(seen[1].method, "PUT");
        assert_eq!(seen[1].url, "/default");
        assert_eq!(seen[1].base_url.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(seen[1].headers.get("accept"), Some("application/json"));
        Ok(())
    }
}
