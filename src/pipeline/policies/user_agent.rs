//! `userAgent({ userAgentPrefix })` (Azure): a request without a
//! User-Agent gets `<prefix> <default>`, where the default is what the
//! client would send otherwise (`node` for send(), node-fetch's for
//! stream(): `engine/request_headers.rs`), so servers still see the client.
//! A User-Agent the caller set is theirs and is left alone, as Azure does.

use super::config_value::{field, options, string};
use super::header_if_absent::HeaderIfAbsent;
use serde_json::Value;

const NAME: &str = "userAgent";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub user_agent_prefix: Option<String>,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        Ok(Config {
            user_agent_prefix: string(NAME, "userAgentPrefix", field(options, "userAgentPrefix"))?,
        })
    }
}

/// The policy; `default_user_agent` is the client's own User-Agent for
/// the calls it serves.
pub fn user_agent(config: &Config, default_user_agent: &str) -> HeaderIfAbsent {
    let value = match config
        .user_agent_prefix
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        Some(prefix) => format!("{prefix} {default_user_agent}"),
        None => default_user_agent.to_string(),
    };
    HeaderIfAbsent {
        policy: NAME,
        header: "User-Agent",
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{one, Script, TestResult};
    use super::super::{PolicyRequest, PolicyResponse};
    use super::*;
    use serde_json::json;

    #[test]
    fn config_types() -> TestResult {
        assert_eq!(Config::from_json(&json!({}))?, Config::default());
        assert_eq!(
            Config::from_json(&json!({ "userAgentPrefix": ["x"] })).err(),
            Some("userAgent: `userAgentPrefix` must be a string, got [\"x\"]".into())
        );
        Ok(())
    }

    #[tokio::test]
    async fn prefixes_the_default_and_keeps_the_callers() -> TestResult {
        let config = Config::from_json(&json!({ "userAgentPrefix": "my-script/2.0" }))?;
        let policies = one(user_agent(&config, "node"));
        let script = Script::new(vec![
            Ok(PolicyResponse::new(200)),
            Ok(PolicyResponse::new(200)),
        ]);
        script
            .run(&policies, PolicyRequest::new("GET", "/"))
            .await?;
        let mut own = PolicyRequest::new("GET", "/");
        own.headers.set("user-agent", "mine");
        script.run(&policies, own).await?;
        let seen = script.requests()?;
        assert_eq!(
            seen[0].headers.get("User-Agent"),
            Some("my-script/2.0 node")
        );
        assert_eq!(seen[1].headers.get("User-Agent"), Some("mine"));
        Ok(())
    }
}
