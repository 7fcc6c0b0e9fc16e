//! Policies (issue 13): rest.js's ready-made interceptors and Azure's named,
//! ordered policies, as plain Rust. Each policy sees a request, may change
//! it, hands it to `next` (once, several times, or not at all) and may change
//! what comes back. `order.rs` puts a list of them in Azure's order; the
//! first of that order is the outermost, and the innermost calls the
//! terminal (the exchange).
//!
//! Cancellation: an abort or a timeout drops the future of the whole chain.
//! Every wait a policy makes (retry's backoff, concurrency's queue) is a
//! tokio future inside that chain future, so dropping it ends the wait at
//! once, with no hook of our own (retry.rs and concurrency.rs test this).

pub mod basic_auth;
pub mod concurrency;
pub mod config_value;
pub mod csrf;
pub mod default_request;
pub mod error_code;
pub mod header_if_absent;
pub mod header_list;
pub mod location;
pub mod log;
pub mod mime;
pub mod order;
pub mod path_prefix;
pub mod registry;
pub mod request_id;
pub mod retry;
pub mod timeout;
pub mod user_agent;

#[cfg(test)]
mod test_support;

pub use header_list::HeaderList;

use bytes::Bytes;
use futures::future::BoxFuture;
use std::any::Any;
use std::sync::Arc;

/// What a policy can read and change of a request.
#[derive(Clone)]
pub struct PolicyRequest {
    /// Upper or lower case as the caller wrote it; empty when the caller
    /// gave none (`defaultRequest` may fill it; the exchange sends GET).
    pub method: String,
    /// As the caller wrote it: absolute, or relative to `base_url`. Empty
    /// when the caller gave none.
    pub url: String,
    pub base_url: Option<String>,
    pub headers: HeaderList,
    pub body: PolicyBody,
}

impl PolicyRequest {
    pub fn new(method: &str, url: &str) -> PolicyRequest {
        PolicyRequest {
            method: method.to_string(),
            url: url.to_string(),
            base_url: None,
            headers: HeaderList::new(),
            body: PolicyBody::None,
        }
    }

    /// The URL the request goes to, as balena-request resolves it (an
    /// absolute `url` wins over `baseUrl`); `None` when it does not parse.
    pub fn absolute_url(&self) -> Option<url::Url> {
        let base = self.base_url.as_deref().filter(|b| !b.is_empty());
        match base {
            Some(base) if !crate::engine::url::is_absolute(&self.url) => {
                crate::engine::url::parse_with_base(&self.url, Some(base)).ok()
            }
            _ => url::Url::parse(&self.url).ok(),
        }
    }

    /// The method as sent: upper case, GET when the caller gave none.
    pub fn effective_method(&self) -> String {
        if self.method.is_empty() {
            "GET".to_string()
        } else {
            self.method.to_ascii_uppercase()
        }
    }
}

/// Something the binding keeps for the exchange and policies never look
/// into (a multipart form, an upload channel).
pub type OpaqueBody = Arc<dyn Any + Send + Sync>;

#[derive(Clone)]
pub enum PolicyBody {
    None,
    Bytes(Bytes),
    /// A multipart form: rebuilt from its parts for every attempt.
    Form(OpaqueBody),
    /// A streamed upload. `replayable` when the caller can give it again (a
    /// function body); a plain stream is consumed by its first send.
    Stream {
        handle: OpaqueBody,
        replayable: bool,
    },
}

impl PolicyBody {
    /// Whether the request may be sent again with the same body: a body
    /// that cannot be must never go out a second time, empty or cut.
    pub fn replayable(&self) -> bool {
        match self {
            PolicyBody::None | PolicyBody::Bytes(_) | PolicyBody::Form(_) => true,
            PolicyBody::Stream { replayable, .. } => *replayable,
        }
    }
}

impl std::fmt::Debug for PolicyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyBody::None => write!(f, "None"),
            PolicyBody::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            PolicyBody::Form(_) => write!(f, "Form"),
            PolicyBody::Stream { replayable, .. } => write!(f, "Stream(replayable: {replayable})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyResponse {
    pub status: u16,
    pub headers: HeaderList,
    pub body: PolicyResponseBody,
    /// How the exchange is to decode the body, when a `mime` policy decided
    /// it; `None` leaves the caller's `responseFormat` in charge.
    pub decode_as: Option<mime::Decoding>,
}

impl PolicyResponse {
    pub fn new(status: u16) -> PolicyResponse {
        PolicyResponse {
            status,
            headers: HeaderList::new(),
            body: PolicyResponseBody::Bytes(Bytes::new()),
            decode_as: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyResponseBody {
    Bytes(Bytes),
    /// `stream()`: the body is read by the caller after the chain returns.
    Streaming,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyFailureKind {
    /// The connection failed; `code` says how (ECONNRESET, ...).
    Network,
    /// A `timeout` policy ran out. A transient one may be retried by an
    /// outer `retry`; any other ends the call (rest.js's semantics).
    Timeout {
        transient: bool,
    },
    Cancelled,
    /// A response a policy turned into the caller's error (the exchange
    /// raises it as `BalenaRequestError` with the response's body).
    ErrorResponse,
    /// A policy written in JS threw; the error is in the call's JS slot.
    Js,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFailure {
    pub kind: PolicyFailureKind,
    /// Node's error code, e.g. `ECONNRESET`.
    pub code: Option<String>,
    pub message: String,
    /// Set by `retry` when the server asked for a wait longer than
    /// `maxRetryAfterInMs`: the caller may wait and call again.
    pub retry_after_ms: Option<u64>,
    /// The response behind an `ErrorResponse`.
    pub response: Option<Box<PolicyResponse>>,
}

impl PolicyFailure {
    pub fn new(kind: PolicyFailureKind, message: impl Into<String>) -> PolicyFailure {
        PolicyFailure {
            kind,
            code: None,
            message: message.into(),
            retry_after_ms: None,
            response: None,
        }
    }

    pub fn network(code: &str, message: impl Into<String>) -> PolicyFailure {
        PolicyFailure {
            code: Some(code.to_string()),
            ..PolicyFailure::new(PolicyFailureKind::Network, message)
        }
    }
}

impl std::fmt::Display for PolicyFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} ({code})", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for PolicyFailure {}

pub type PolicyOutcome = Result<PolicyResponse, PolicyFailure>;
pub type PolicyFuture<'a> = BoxFuture<'a, PolicyOutcome>;

/// What the innermost policy's `next` calls: the exchange.
pub type Terminal<'a> = dyn Fn(PolicyRequest) -> PolicyFuture<'a> + Send + Sync + 'a;

pub trait Policy: Send + Sync {
    /// The name the pipeline orders and removes it by.
    fn name(&self) -> &str;

    fn send<'a>(&'a self, request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a>;

    /// The status from which a response is the caller's error, when this
    /// policy decides it (`errorCode`); the exchange maps statuses with it.
    fn error_status_from(&self) -> Option<u16> {
        None
    }
}

/// The rest of the chain after a policy. `Copy`, so a policy may run it as
/// often as it needs (retry, location), each run going through every inner
/// policy again.
#[derive(Clone, Copy)]
pub struct Next<'a> {
    rest: &'a [Arc<dyn Policy>],
    terminal: &'a Terminal<'a>,
}

impl<'a> Next<'a> {
    /// The chain of `policies` (outermost first) ending in `terminal`.
    pub fn chain(policies: &'a [Arc<dyn Policy>], terminal: &'a Terminal<'a>) -> Next<'a> {
        Next {
            rest: policies,
            terminal,
        }
    }

    pub fn run(&self, request: PolicyRequest) -> PolicyFuture<'a> {
        match self.rest.split_first() {
            Some((policy, rest)) => policy.send(
                request,
                Next {
                    rest,
                    terminal: self.terminal,
                },
            ),
            None => (self.terminal)(request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{Script, TestResult};
    use super::*;

    /// Adds its name to a header on the way in and to a response header on
    /// the way out, to show the order in which a chain runs.
    struct Mark(&'static str);

    impl Policy for Mark {
        fn name(&self) -> &str {
            self.0
        }
        fn send<'a>(&'a self, mut request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
            Box::pin(async move {
                let seen = request.headers.get("x-path").unwrap_or("").to_string();
                request.headers.set("x-path", format!("{seen}{}>", self.0));
                let mut response = next.run(request).await?;
                let back = response.headers.get("x-back").unwrap_or("").to_string();
                response.headers.set("x-back", format!("{back}<{}", self.0));
                Ok(response)
            })
        }
    }

    #[tokio::test]
    async fn the_first_policy_is_the_outermost() -> TestResult {
        let policies: Vec<Arc<dyn Policy>> = vec![Arc::new(Mark("a")), Arc::new(Mark("b"))];
        let script = Script::new(vec![Ok(PolicyResponse::new(200))]);
        let response = script
            .run(&policies, PolicyRequest::new("GET", "http://127.0.0.1/"))
            .await?;
        assert_eq!(script.requests()?[0].headers.get("x-path"), Some("a>b>"));
        assert_eq!(response.headers.get("x-back"), Some("<b<a"));
        Ok(())
    }

    #[test]
    fn bodies_say_whether_they_can_be_sent_again() {
        let handle: OpaqueBody = Arc::new(());
        assert!(PolicyBody::None.replayable());
        assert!(PolicyBody::Bytes(Bytes::from_static(b"x")).replayable());
        assert!(PolicyBody::Form(handle.clone()).replayable());
        assert!(PolicyBody::Stream {
            handle: handle.clone(),
            replayable: true
        }
        .replayable());
        assert!(!PolicyBody::Stream {
            handle,
            replayable: false
        }
        .replayable());
    }

    #[test]
    fn absolute_urls_win_over_the_base() {
        let mut request = PolicyRequest::new("", "/v7/device?x=1");
        request.base_url = Some("https://api.example.test/base/".into());
        assert_eq!(
            request.absolute_url().map(|u| u.to_string()),
            Some("https://api.example.test/v7/device?x=1".to_string())
        );
        request.url = "http://127.0.0.1:8/a".into();
        assert_eq!(
            request.absolute_url().map(|u| u.to_string()),
            Some("http://127.0.0.1:8/a".to_string())
        );
        assert_eq!(request.effective_method(), "GET");
        request.url = "relative".into();
        request.base_url = None;
        assert_eq!(request.absolute_url(), None);
    }
}
