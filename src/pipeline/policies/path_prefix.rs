//! `pathPrefix({ prefix })` (rest.js): puts `prefix` before relative URLs,
//! with exactly one `/` where they join (rest.js adds a missing one; we also
//! drop a doubled one, which would reach the server as `//`). Absolute URLs
//! (with a scheme, or `//host`) are left alone.

use super::config_value::{field, options, string};
use super::{Next, Policy, PolicyFuture, PolicyRequest};
use serde_json::Value;

const NAME: &str = "pathPrefix";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub prefix: String,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        let prefix = string(NAME, "prefix", field(options, "prefix"))?
            .ok_or_else(|| format!("{NAME}: `prefix` is required"))?;
        Ok(Config { prefix })
    }

    pub fn prefixed(&self, url: &str) -> Option<String> {
        if self.prefix.is_empty() || crate::engine::url::is_absolute(url) || url.starts_with("//") {
            return None;
        }
        if url.is_empty() {
            return Some(self.prefix.clone());
        }
        let joined = match (self.prefix.ends_with('/'), url.starts_with('/')) {
            (true, true) => format!("{}{}", self.prefix, &url[1..]),
            (false, false) => format!("{}/{}", self.prefix, url),
            _ => format!("{}{}", self.prefix, url),
        };
        Some(joined)
    }
}

pub struct PathPrefix(pub Config);

impl Policy for PathPrefix {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, mut request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        if let Some(url) = self.0.prefixed(&request.url) {
            request.url = url;
        }
        next.run(request)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{one, Script, TestResult};
    use super::super::PolicyResponse;
    use super::*;
    use serde_json::json;

    fn prefixed(prefix: &str, url: &str) -> Option<String> {
        Config {
            prefix: prefix.into(),
        }
        .prefixed(url)
    }

    #[test]
    fn one_slash_at_the_join() {
        assert_eq!(prefixed("/v7", "device").as_deref(), Some("/v7/device"));
        assert_eq!(prefixed("/v7", "/device").as_deref(), Some("/v7/device"));
        assert_eq!(prefixed("/v7/", "device").as_deref(), Some("/v7/device"));
        assert_eq!(prefixed("/v7/", "/device").as_deref(), Some("/v7/device"));
        assert_eq!(prefixed("/v7", "").as_deref(), Some("/v7"));
        assert_eq!(prefixed("/v7", "?a=1").as_deref(), Some("/v7/?a=1"));
    }

    #[test]
    fn absolute_urls_are_left_alone() {
        assert_eq!(prefixed("/v7", "http://127.0.0.1/x"), None);
        assert_eq!(prefixed("/v7", "//127.0.0.1/x"), None);
        assert_eq!(prefixed("", "/x"), None);
    }

    #[test]
    fn config_needs_a_string_prefix() {
        assert_eq!(
            Config::from_json(&json!({})).err(),
            Some("pathPrefix: `prefix` is required".into())
        );
        assert_eq!(
            Config::from_json(&json!({ "prefix": 7 })).err(),
            Some("pathPrefix: `prefix` must be a string, got 7".into())
        );
    }

    #[tokio::test]
    async fn the_terminal_gets_the_prefixed_url() -> TestResult {
        let script = Script::new(vec![Ok(PolicyResponse::new(200))]);
        let policies = one(PathPrefix(Config::from_json(&json!({ "prefix": "/v7" }))?));
        script
            .run(&policies, PolicyRequest::new("GET", "device"))
            .await?;
        assert_eq!(script.requests()?[0].url, "/v7/device");
        Ok(())
    }
}
