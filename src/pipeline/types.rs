//! Plain data the pipeline passes between its stages and to the binding.

use crate::engine::body_format::BodyFormat;
use crate::engine::download::Download;
use crate::engine::error_message::ErrorText;
use crate::engine::net_error::NetError;
use crate::engine::received_bytes::ReceivedBytes;
use crate::engine::transport::FormPart;
use crate::engine::upload::UploadChannel;
use bytes::Bytes;
use std::sync::Arc;

use super::exchange::Mode;
use super::policies::Policy;

/// What JS hands over when a call starts.
pub struct CallInit {
    pub mode: Mode,
    /// `url` (or its alias `uri`) of the options after defaults.
    pub url: Option<String>,
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub send_token: bool,
    pub refresh_token: bool,
    pub has_auth: bool,
    /// The caller's own `responseFormat` (hooks cannot change it upstream).
    pub response_format: Option<String>,
    /// Whether an interceptor had a request-phase hook when the call
    /// started: if not, that phase never crosses into JS. Which hooks run is
    /// JS's snapshot, taken when the phase starts, as balena-request does.
    pub has_request_hooks: bool,
    /// The same for the response phase.
    pub has_response_hooks: bool,
    /// The request as JS built it from the options, when no request hook
    /// will change them; `None` also when building it failed in JS.
    pub wire: Option<Wire>,
    /// The policies the request goes through around the exchange (the
    /// engine's pipeline when the call started), outermost first.
    pub policies: Policies,
}

/// A pipeline's policies, outermost first; shared by the calls started
/// while it was the engine's.
pub type Policies = Arc<[Step]>;

/// One policy of the pipeline as the engine keeps it.
#[derive(Clone)]
pub enum Step {
    Native(Arc<dyn Policy>),
    /// A policy written in JS, run through the host; its position in the
    /// pipeline names it to JS (`lib/policy-step.js`).
    Js(u32),
}

/// A request as it goes on the wire, before URL resolution.
pub struct Wire {
    pub url: String,
    pub base_url: Option<String>,
    pub qs: Option<String>,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: WireBody,
    pub follow_redirect: bool,
    pub decompress: bool,
    pub retries: u32,
    /// `send()` refuses a decoded body larger than this (`maxResponseSize`).
    pub max_response_size: u64,
    /// Forwarding (`lib/forward.js`): the body comes back as it came, not
    /// decoded, and no default header of ours is added to the request.
    pub pass_through: bool,
    /// Counts the response body as it arrives (`onDownloadProgress`).
    pub received: Option<Arc<ReceivedBytes>>,
    /// `stream()`: how many times to ask again for the rest of a body whose
    /// connection failed (`resume.maxAttempts`; 0 with `resume: false`).
    pub resume_attempts: u32,
    /// `stream()`: a body silent this long counts as a failed connection.
    pub idle_timeout_ms: Option<u64>,
    /// The status from which a response is the caller's error: 400 unless
    /// an `errorCode` policy says otherwise.
    pub error_from: u16,
}

pub enum WireBody {
    None,
    Bytes(Bytes),
    Multipart(Vec<FormPart>),
    /// Written by JS while it is sent (`engine/upload.rs`).
    Stream(Arc<UploadChannel>),
}

/// What preparation changed in the options; JS applies it to the options
/// object it shows to hooks and puts on errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    pub url: Option<String>,
    pub drop_base_url: bool,
    pub authorization: Option<String>,
}

impl Patch {
    pub fn apply(&self, mut wire: Wire) -> Wire {
        if let Some(url) = &self.url {
            wire.url = url.clone();
        }
        if self.drop_base_url {
            wire.base_url = None;
        }
        if let Some(auth) = &self.authorization {
            wire.headers.retain(|(name, _)| name != "Authorization");
            wire.headers.push(("Authorization".into(), auth.clone()));
        }
        wire
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Network,
    Cancelled,
    InvalidUrl,
    InvalidRequest,
    InvalidResponseFormat,
    TooManyRedirects,
    Decode,
    ResponseTooLarge,
    Host,
    /// A `timeout` policy ran out.
    PolicyTimeout,
    /// Another failure a policy made.
    Policy,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Network => "network",
            FailureKind::Cancelled => "cancelled",
            FailureKind::InvalidUrl => "invalidUrl",
            FailureKind::InvalidRequest => "invalidRequest",
            FailureKind::InvalidResponseFormat => "invalidResponseFormat",
            FailureKind::TooManyRedirects => "tooManyRedirects",
            FailureKind::Decode => "decode",
            FailureKind::ResponseTooLarge => "responseTooLarge",
            FailureKind::Host => "host",
            FailureKind::PolicyTimeout => "policyTimeout",
            FailureKind::Policy => "policy",
        }
    }
}

/// A failure that happened natively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    /// How a network failure happened, for JS to build Node's error shape.
    pub net: Option<Box<NetError>>,
    /// Whether the error carries the prepared options (transport failures).
    pub with_options: bool,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>, with_options: bool) -> Failure {
        Failure {
            kind,
            message: message.into(),
            net: None,
            with_options,
        }
    }
}

pub enum ResponseBody {
    Full(Bytes),
    Stream(Box<Download>),
}

/// A response as received, before JS turns it into the response object.
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The URL the request was sent to (before any redirect).
    pub request_url: String,
    /// The URL the response came from.
    pub url: String,
    pub duration_ms: f64,
    pub format: BodyFormat,
    pub body: ResponseBody,
    /// For an error status: the `BalenaRequestError` text.
    pub error_text: Option<ErrorText>,
    /// The status from which this response is an error (`Wire::error_from`).
    pub error_from: u16,
    /// Set when a `retry` policy gave up because the server asked for a
    /// longer wait than it may make: the error carries the wait.
    pub retry_after_ms: Option<u64>,
    /// How JS decodes the body instead of by its format, when a `mime`
    /// policy decided it: only "form" (an urlencoded body to an object).
    pub decode: Option<&'static str>,
}

pub enum Outcome {
    Response(Box<RawResponse>),
    Failure(Failure),
    /// The JS slot holds the result value (after response hooks).
    JsValue,
    /// The JS slot holds the error.
    JsError,
}

/// The end of the request side (or of the whole call), with the patch JS
/// needs to show the prepared options.
pub struct Settled {
    pub outcome: Outcome,
    pub patch: Option<Patch>,
}
