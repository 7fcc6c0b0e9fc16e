//! From a policy's factory name and options (as `lib/policies.js` hands
//! them over, JSON) to the policy that runs in the chain. The one place
//! that knows every policy by name.

use super::{
    basic_auth, concurrency, csrf, default_request, error_code, location, log, mime, path_prefix,
    request_id, retry, timeout, user_agent, Policy,
};
use serde_json::Value;
use std::sync::Arc;

/// The factory names, in the order README lists them.
pub const NAMES: &[&str] = &[
    "defaultRequest",
    "pathPrefix",
    "basicAuth",
    "csrf",
    "errorCode",
    "retry",
    "timeout",
    "location",
    "mime",
    "log",
    "requestId",
    "userAgent",
    "concurrency",
];

/// The User-Agent our requests carry when the caller sets none (fetch's),
/// which `userAgent`'s prefix goes in front of.
const DEFAULT_USER_AGENT: &str = "node";

/// Builds the policy `name` from its options; `log_sink` is where a `log`
/// policy writes (the JS `logger`, or stderr when `None`). The error is the
/// message the JS factory throws.
pub fn build(
    name: &str,
    options: &Value,
    log_sink: Option<Arc<dyn log::LogSink>>,
) -> Result<Arc<dyn Policy>, String> {
    Ok(match name {
        "defaultRequest" => Arc::new(default_request::DefaultRequest(
            default_request::Config::from_json(options)?,
        )),
        "pathPrefix" => Arc::new(path_prefix::PathPrefix(path_prefix::Config::from_json(
            options,
        )?)),
        "basicAuth" => Arc::new(basic_auth::basic_auth(&basic_auth::Config::from_json(
            options,
        )?)),
        "csrf" => Arc::new(csrf::Csrf(csrf::Config::from_json(options)?)),
        "errorCode" => Arc::new(error_code::ErrorCode(error_code::Config::from_json(
            options,
        )?)),
        "retry" => Arc::new(retry::Retry::new(retry::Config::from_json(options)?)),
        "timeout" => Arc::new(timeout::Timeout(timeout::Config::from_json(options)?)),
        "location" => Arc::new(location::Location(location::Config::from_json(options)?)),
        "mime" => Arc::new(mime::Mime::new(mime::Config::from_json(options)?)),
        "log" => Arc::new(log::Log::new(
            log::Config::from_json(options)?,
            log_sink.unwrap_or_else(|| Arc::new(log::StderrSink)),
        )),
        "requestId" => Arc::new(request_id::RequestId(request_id::Config::from_json(
            options,
        )?)),
        "userAgent" => Arc::new(user_agent::user_agent(
            &user_agent::Config::from_json(options)?,
            DEFAULT_USER_AGENT,
        )),
        "concurrency" => Arc::new(concurrency::Concurrency::new(
            concurrency::Config::from_json(options)?,
        )),
        other => return Err(format!("there is no policy named {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_name_builds_with_its_defaults_or_says_what_is_missing() {
        for name in NAMES {
            match build(name, &json!({}), None) {
                Ok(policy) => assert_eq!(policy.name(), *name),
                // Policies with a required option name it.
                Err(message) => assert!(message.starts_with(name), "{name}: {message}"),
            }
        }
        assert_eq!(
            build("nope", &json!({}), None).err(),
            Some("there is no policy named \"nope\"".to_string())
        );
    }
}
