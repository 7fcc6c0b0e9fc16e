//! `log({ logger, allowedHeaderNames, allowedQueryParameters })` (Azure's
//! logPolicy): one record per request and one per response (or failure):
//! method, URL, status, duration and headers. Header values and query
//! values whose names are not allowed are written `REDACTED`; the allow
//! lists given are added to defaults (Azure's, plus `X-Request-Id` for our
//! `requestId` policy). Credentials never appear, whatever the lists say:
//! Authorization, cookies, api keys and tokens in headers or the query, and
//! a user and password in the URL.

use super::config_value::{field, options, string_list};
use super::{HeaderList, Next, Policy, PolicyFuture, PolicyRequest};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

const NAME: &str = "log";

pub const REDACTED: &str = "REDACTED";

/// Azure core-rest-pipeline's default allow list, plus `X-Request-Id`.
const DEFAULT_HEADERS: &[&str] = &[
    "x-ms-client-request-id",
    "x-ms-return-client-request-id",
    "x-ms-useragent",
    "x-ms-correlation-request-id",
    "x-ms-request-id",
    "client-request-id",
    "ms-cv",
    "return-client-request-id",
    "traceparent",
    "access-control-allow-credentials",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-allow-origin",
    "access-control-expose-headers",
    "access-control-max-age",
    "access-control-request-headers",
    "access-control-request-method",
    "origin",
    "accept",
    "accept-encoding",
    "cache-control",
    "connection",
    "content-length",
    "content-type",
    "date",
    "etag",
    "expires",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-unmodified-since",
    "last-modified",
    "pragma",
    "request-id",
    "retry-after",
    "server",
    "transfer-encoding",
    "user-agent",
    "www-authenticate",
    "x-request-id",
];

const DEFAULT_QUERY: &[&str] = &["api-version"];

/// Never written, even when allowed: they carry credentials.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-csrf-token",
    "x-xsrf-token",
];

/// balena's API key travels as `apikey`; the others are common spellings.
const SECRET_QUERY: &[&str] = &["apikey", "api_key", "api-key", "access_token", "token"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Lower case.
    pub allowed_header_names: HashSet<String>,
    /// Compared as written (query names are case-sensitive).
    pub allowed_query_parameters: HashSet<String>,
}

impl Config {
    /// `logger` is the binding's business (a JS function, or stderr).
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        let headers = string_list(
            NAME,
            "allowedHeaderNames",
            field(options, "allowedHeaderNames"),
        )?
        .unwrap_or_default();
        let query = string_list(
            NAME,
            "allowedQueryParameters",
            field(options, "allowedQueryParameters"),
        )?
        .unwrap_or_default();
        Ok(Config {
            allowed_header_names: DEFAULT_HEADERS
                .iter()
                .map(|s| s.to_string())
                .chain(headers.iter().map(|h| h.to_ascii_lowercase()))
                .filter(|h| !SECRET_HEADERS.contains(&h.as_str()))
                .collect(),
            allowed_query_parameters: DEFAULT_QUERY
                .iter()
                .map(|s| s.to_string())
                .chain(query)
                .filter(|q| !SECRET_QUERY.contains(&q.to_ascii_lowercase().as_str()))
                .collect(),
        })
    }

    /// Header lines as an object, values not allowed redacted (a name given
    /// twice is joined with ", ", as `Headers` does).
    pub fn headers(&self, headers: &HeaderList) -> Map<String, Value> {
        self.header_lines(headers)
            .into_iter()
            .map(|(name, value)| (name, Value::String(value)))
            .collect()
    }

    /// The same as name/value pairs, in the order names first appear.
    fn header_lines(&self, headers: &HeaderList) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::with_capacity(headers.0.len());
        for (name, value) in headers.iter() {
            let key = name.to_ascii_lowercase();
            let shown = if self.allowed_header_names.contains(&key) {
                value
            } else {
                REDACTED
            };
            match out.iter_mut().find(|(seen, _)| *seen == key) {
                Some((_, first)) => {
                    first.push_str(", ");
                    first.push_str(shown);
                }
                None => out.push((key, shown.to_string())),
            }
        }
        out
    }

    /// The URL without user and password, query values not allowed
    /// redacted. A URL that does not parse is reduced to its path, since
    /// nothing in it can be told apart.
    pub fn url(&self, request: &PolicyRequest) -> String {
        let Some(mut url) = request.absolute_url() else {
            let path = request.url.split(['?', '#']).next().unwrap_or("");
            return path.to_string();
        };
        // Both only fail for URLs that cannot have credentials.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        if url.query().is_some() {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(name, value)| {
                    let shown = if self.allowed_query_parameters.contains(name.as_ref()) {
                        value.into_owned()
                    } else {
                        REDACTED.to_string()
                    };
                    (name.into_owned(), shown)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        url.to_string()
    }
}

/// Where records go: the JS `logger`, or stderr by default. A record
/// comes as one line of JSON text (`Line`).
pub trait LogSink: Send + Sync {
    fn write(&self, record: &str);
}

/// A record written straight as JSON text: the policy runs on every
/// request, and building a `serde_json::Value` map first cost several
/// times as much (measured at send-small c64).
struct Line(Vec<u8>);

impl Line {
    fn new(kind: &str, method: &str, url: &str) -> Line {
        let mut line = Line(Vec::with_capacity(256));
        line.0.extend_from_slice(b"{\"type\":");
        line.string(kind);
        line.key("method");
        line.string(method);
        line.key("url");
        line.string(url);
        line
    }

    fn string(&mut self, text: &str) {
        // Writing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.0, text);
    }

    fn key(&mut self, name: &str) {
        self.0.push(b',');
        self.string(name);
        self.0.push(b':');
    }

    fn number(&mut self, name: &str, value: Option<u64>) {
        self.key(name);
        match value {
            Some(n) => self.0.extend_from_slice(n.to_string().as_bytes()),
            None => self.0.extend_from_slice(b"null"),
        }
    }

    fn text(&mut self, name: &str, value: Option<&str>) {
        self.key(name);
        match value {
            Some(text) => self.string(text),
            None => self.0.extend_from_slice(b"null"),
        }
    }

    fn headers(&mut self, config: &Config, headers: &HeaderList) {
        self.key("headers");
        self.0.push(b'{');
        let lines = &headers.0;
        let repeated = lines.iter().enumerate().any(|(i, (name, _))| {
            lines[..i]
                .iter()
                .any(|(seen, _)| seen.eq_ignore_ascii_case(name))
        });
        if repeated {
            // A name given twice is joined, as `Headers` does.
            for (index, (name, value)) in config.header_lines(headers).iter().enumerate() {
                self.pair(index, name, value);
            }
        } else {
            // The usual case, on every request: no copy of the list, one
            // buffer for the lower-cased names.
            let mut key = String::new();
            for (index, (name, value)) in lines.iter().enumerate() {
                key.clear();
                key.extend(name.chars().map(|c| c.to_ascii_lowercase()));
                let shown = if config.allowed_header_names.contains(&key) {
                    value.as_str()
                } else {
                    REDACTED
                };
                self.pair(index, &key, shown);
            }
        }
        self.0.push(b'}');
    }

    fn pair(&mut self, index: usize, name: &str, value: &str) {
        if index > 0 {
            self.0.push(b',');
        }
        self.string(name);
        self.0.push(b':');
        self.string(value);
    }

    fn finish(mut self) -> String {
        self.0.push(b'}');
        String::from_utf8(self.0).unwrap_or_default()
    }
}

pub struct StderrSink;

impl LogSink for StderrSink {
    fn write(&self, record: &str) {
        // One write per record: stderr is unbuffered, and formatting the
        // record straight into it wrote each token with a system call of
        // its own (a third of a small request's cost, measured).
        let mut line = String::with_capacity(record.len() + 1);
        line.push_str(record);
        line.push('\n');
        // A log line that cannot be written is dropped: logging must never
        // fail the request.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

pub struct Log {
    config: Config,
    sink: Arc<dyn LogSink>,
}

impl Log {
    pub fn new(config: Config, sink: Arc<dyn LogSink>) -> Log {
        Log { config, sink }
    }
}

impl Policy for Log {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        let method = request.effective_method();
        let url = self.config.url(&request);
        let mut line = Line::new("request", &method, &url);
        line.headers(&self.config, &request.headers);
        self.sink.write(&line.finish());
        let started = Instant::now();
        Box::pin(async move {
            let outcome = next.run(request).await;
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let line = match &outcome {
                Ok(response) => {
                    let mut line = Line::new("response", &method, &url);
                    line.number("status", Some(u64::from(response.status)));
                    line.number("durationMs", Some(duration_ms));
                    line.headers(&self.config, &response.headers);
                    line
                }
                Err(failure) => {
                    let mut line = Line::new("error", &method, &url);
                    let status = failure.response.as_ref().map(|r| u64::from(r.status));
                    line.number("status", status);
                    line.number("durationMs", Some(duration_ms));
                    line.text("code", failure.code.as_deref());
                    line.text("message", Some(&failure.message));
                    line
                }
            };
            self.sink.write(&line.finish());
            outcome
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{one, Script, TestResult};
    use super::super::{PolicyFailure, PolicyResponse};
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<Value>>);

    impl LogSink for Collect {
        fn write(&self, record: &str) {
            if let Ok(mut records) = self.0.lock() {
                records.push(serde_json::from_str(record).unwrap_or(Value::Null));
            }
        }
    }

    impl Collect {
        fn records(&self) -> Vec<Value> {
            self.0.lock().map(|r| r.clone()).unwrap_or_default()
        }
    }

    #[test]
    fn config_adds_to_the_defaults_and_checks_types() -> TestResult {
        let config = Config::from_json(&json!({
            "allowedHeaderNames": ["X-Custom", "Authorization"],
            "allowedQueryParameters": ["$filter", "apikey"]
        }))?;
        assert!(config.allowed_header_names.contains("x-custom"));
        assert!(config.allowed_header_names.contains("content-type"));
        assert!(!config.allowed_header_names.contains("authorization"));
        assert!(config.allowed_query_parameters.contains("$filter"));
        assert!(config.allowed_query_parameters.contains("api-version"));
        assert!(!config.allowed_query_parameters.contains("apikey"));
        assert_eq!(
            Config::from_json(&json!({ "allowedHeaderNames": "x" })).err(),
            Some("log: `allowedHeaderNames` must be an array of strings, got \"x\"".into())
        );
        Ok(())
    }

    #[tokio::test]
    async fn one_record_each_way_with_secrets_redacted() -> TestResult {
        let config = Config::from_json(&json!({
            "allowedHeaderNames": ["X-Custom", "authorization", "Cookie"],
            "allowedQueryParameters": ["$select", "apikey", "token"]
        }))?;
        let sink = Arc::new(Collect::default());
        let policies = one(Log::new(config, sink.clone()));
        let mut response = PolicyResponse::new(201);
        response.headers = HeaderList::from([
            ("Content-Type", "application/json"),
            ("Set-Cookie", "session=s3cret"),
            ("X-Other", "hidden"),
        ]);
        let script = Script::new(vec![Ok(response)]);
        let mut request = PolicyRequest::new(
            "post",
            "/v7/device?$select=id&apikey=KEY123&token=TOK456&other=o&$select=name",
        );
        request.base_url = Some("http://user:pw@127.0.0.1:9".into());
        request.headers = HeaderList::from([
            ("Authorization", "Bearer TOKEN789"),
            ("cookie", "c=COOKIE"),
            ("X-Custom", "shown"),
            ("X-Secret-Thing", "value"),
            ("Accept", "a"),
            ("accept", "b"),
        ]);
        script.run(&policies, request).await?;

        let records = sink.records();
        assert_eq!(records.len(), 2);
        assert_eq!(
            records[0],
            json!({
                "type": "request",
                "method": "POST",
                "url": "http://127.0.0.1:9/v7/device?%24select=id&apikey=REDACTED&token=REDACTED&other=REDACTED&%24select=name",
                "headers": {
                    "authorization": "REDACTED",
                    "cookie": "REDACTED",
                    "x-custom": "shown",
                    "x-secret-thing": "REDACTED",
                    "accept": "a, b"
                }
            })
        );
        assert_eq!(records[1]["type"], "response");
        assert_eq!(records[1]["status"], 201);
        assert!(records[1]["durationMs"].is_u64());
        assert_eq!(
            records[1]["headers"],
            json!({
                "content-type": "application/json",
                "set-cookie": "REDACTED",
                "x-other": "REDACTED"
            })
        );
        let all = serde_json::to_string(&records)?;
        for secret in [
            "KEY123", "TOK456", "TOKEN789", "COOKIE", "s3cret", "pw", "user",
        ] {
            assert!(!all.contains(secret), "{secret} leaked: {all}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_header_given_twice_is_logged_once_joined() -> TestResult {
        let config = Config::from_json(&json!({ "allowedHeaderNames": ["X-Twice"] }))?;
        let sink = Arc::new(Collect::default());
        let policies = one(Log::new(config, sink.clone()));
        let script = Script::new(vec![Ok(PolicyResponse::new(200))]);
        let mut request = PolicyRequest::new("GET", "http://127.0.0.1:9/");
        request.headers = HeaderList::from([("X-Twice", "1"), ("x-twice", "2"), ("X-Once", "3")]);
        script.run(&policies, request).await?;
        let records = sink.records();
        assert_eq!(
            records[0]["headers"],
            json!({ "x-twice": "1, 2", "x-once": "REDACTED" })
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_failure_is_logged_too() -> TestResult {
        let sink = Arc::new(Collect::default());
        let policies = one(Log::new(Config::from_json(&Value::Null)?, sink.clone()));
        let script = Script::new(vec![Err(PolicyFailure::network(
            "ECONNREFUSED",
            "connect ECONNREFUSED",
        ))]);
        let outcome = script
            .run(&policies, PolicyRequest::new("", "relative?apikey=k"))
            .await;
        assert!(outcome.is_err());
        let records = sink.records();
        assert_eq!(records[0]["url"], "relative");
        assert_eq!(records[0]["method"], "GET");
        assert_eq!(records[1]["type"], "error");
        assert_eq!(records[1]["code"], "ECONNREFUSED");
        Ok(())
    }
}
