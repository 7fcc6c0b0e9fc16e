//! `csrf({ name = 'X-Csrf-Token', token })` (rest.js): sends the token in
//! its header when one is known; without a token the request is untouched.
//! As in rest.js, the configured token replaces a value already there.

use super::config_value::{field, options, string};
use super::{Next, Policy, PolicyFuture, PolicyRequest};
use serde_json::Value;

const NAME: &str = "csrf";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub name: String,
    pub token: Option<String>,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        Ok(Config {
            name: string(NAME, "name", field(options, "name"))?
                .unwrap_or_else(|| "X-Csrf-Token".to_string()),
            token: string(NAME, "token", field(options, "token"))?,
        })
    }
}

pub struct Csrf(pub Config);

impl Policy for Csrf {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, mut request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        if let Some(token) = self.0.token.as_deref().filter(|t| !t.is_empty()) {
            request.headers.set(&self.0.name, token);
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

    #[test]
    fn config_defaults_and_types() -> TestResult {
        assert_eq!(
            Config::from_json(&Value::Null)?,
            Config {
                name: "X-Csrf-Token".into(),
                token: None
            }
        );
        assert_eq!(
            Config::from_json(&json!({ "token": 5 })).err(),
            Some("csrf: `token` must be a string, got 5".into())
        );
        Ok(())
    }

    #[tokio::test]
    async fn sets_the_header_only_with_a_token() -> TestResult {
        let script = Script::new(vec![
            Ok(PolicyResponse::new(200)),
            Ok(PolicyResponse::new(200)),
        ]);
        let with = one(Csrf(Config::from_json(
            &json!({ "name": "X-Token", "token": "abc" }),
        )?));
        let without = one(Csrf(Config::from_json(&json!({}))?));
        let mut request = PolicyRequest::new("POST", "/");
        request.headers.set("x-token", "old");
        script.run(&with, request).await?;
        script
            .run(&without, PolicyRequest::new("POST", "/"))
            .await?;
        let seen = script.requests()?;
        assert_eq!(seen[0].headers.get("X-Token"), Some("abc"));
        assert_eq!(seen[0].headers.0.len(), 1);
        assert!(seen[1].headers.0.is_empty());
        Ok(())
    }
}
