//! `basicAuth({ username, password = '' })` (rest.js): `Authorization:
//! Basic base64(username:password)` unless the request already carries an
//! Authorization header (a token the caller or the auth stage set wins).

use super::config_value::{field, options, string};
use super::header_if_absent::HeaderIfAbsent;
use base64::Engine;
use serde_json::Value;

const NAME: &str = "basicAuth";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub username: String,
    pub password: String,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        let username = string(NAME, "username", field(options, "username"))?
            .ok_or_else(|| format!("{NAME}: `username` is required"))?;
        let password = string(NAME, "password", field(options, "password"))?.unwrap_or_default();
        Ok(Config { username, password })
    }

    /// The header value. The credentials are UTF-8 encoded, as browsers and
    /// rest.js's own base64 of a JS string's UTF-8 bytes do.
    pub fn header_value(&self) -> String {
        let credentials = format!("{}:{}", self.username, self.password);
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        format!("Basic {encoded}")
    }
}

/// The policy: the header, unless the request has an Authorization.
pub fn basic_auth(config: &Config) -> HeaderIfAbsent {
    HeaderIfAbsent {
        policy: NAME,
        header: "Authorization",
        value: config.header_value(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{one, Script, TestResult};
    use super::super::{PolicyRequest, PolicyResponse};
    use super::*;
    use serde_json::json;

    #[test]
    fn config_defaults_the_password_and_checks_types() -> TestResult {
        let config = Config::from_json(&json!({ "username": "user" }))?;
        assert_eq!(config.password, "");
        assert_eq!(config.header_value(), "Basic dXNlcjo=");
        assert_eq!(
            Config::from_json(&json!({ "password": "p" })).err(),
            Some("basicAuth: `username` is required".into())
        );
        assert_eq!(
            Config::from_json(&json!({ "username": "u", "password": 1 })).err(),
            Some("basicAuth: `password` must be a string, got 1".into())
        );
        Ok(())
    }

    #[tokio::test]
    async fn sets_the_header_unless_one_is_there() -> TestResult {
        let config =
            Config::from_json(&json!({ "username": "Aladdin", "password": "open sesame" }))?;
        let policies = one(basic_auth(&config));
        let script = Script::new(vec![
            Ok(PolicyResponse::new(200)),
            Ok(PolicyResponse::new(200)),
        ]);
        script
            .run(&policies, PolicyRequest::new("GET", "/"))
            .await?;
        let mut with_token = PolicyRequest::new("GET", "/");
        with_token.headers.set("authorization", "Bearer t");
        script.run(&policies, with_token).await?;
        let seen = script.requests()?;
        assert_eq!(
            seen[0].headers.get("Authorization"),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert_eq!(seen[1].headers.get("Authorization"), Some("Bearer t"));
        assert_eq!(seen[1].headers.0.len(), 1);
        Ok(())
    }
}
