//! Stage 4a: the request goes through the pipeline's policies
//! (`policies/`), outermost first, and the innermost hands it to the
//! exchange. Without policies this is the exchange itself, unchanged.
//!
//! Policies see a `PolicyRequest` (method, URL, headers, body) and a
//! `PolicyResponse` (status, headers); the rest of the wire request rides
//! along untouched, and the exchange's own results are kept aside, so that
//! what the caller finally gets is exactly what the last exchange gave (the
//! same response object, the same network error as without policies)
//! unless a policy made a failure of its own.

use super::exchange::{exchange, exchange_inner, Mode};
use super::host::Host;
use super::js_policy::JsPolicy;
use super::policies::{
    HeaderList, Next, OpaqueBody, Policy, PolicyBody, PolicyFailure, PolicyFailureKind,
    PolicyFuture, PolicyOutcome, PolicyRequest, PolicyResponse, PolicyResponseBody, Terminal,
};
use super::types::{
    Failure, FailureKind, Outcome, RawResponse, ResponseBody, Step, Wire, WireBody,
};
use crate::engine::received_bytes::ReceivedBytes;
use crate::engine::transport::{FormPart, Transport};
use crate::engine::upload::UploadChannel;
use std::sync::{Arc, Mutex};

/// The parts of a wire request policies do not see.
#[derive(Clone)]
pub(super) struct WireRest {
    qs: Option<String>,
    follow_redirect: bool,
    decompress: bool,
    retries: u32,
    max_response_size: u64,
    pass_through: bool,
    received: Option<Arc<ReceivedBytes>>,
    resume_attempts: u32,
    idle_timeout_ms: Option<u64>,
}

pub(super) fn split(wire: Wire) -> (PolicyRequest, WireRest) {
    let body = match wire.body {
        WireBody::None => PolicyBody::None,
        WireBody::Bytes(bytes) => PolicyBody::Bytes(bytes),
        WireBody::Multipart(parts) => PolicyBody::Form(Arc::new(parts) as OpaqueBody),
        // A streamed body is read from the caller once.
        WireBody::Stream(channel) => PolicyBody::Stream {
            handle: channel as OpaqueBody,
            replayable: false,
        },
    };
    let request = PolicyRequest {
        method: wire.method,
        url: wire.url,
        base_url: wire.base_url,
        headers: HeaderList(wire.headers),
        body,
    };
    let rest = WireRest {
        qs: wire.qs,
        follow_redirect: wire.follow_redirect,
        decompress: wire.decompress,
        retries: wire.retries,
        max_response_size: wire.max_response_size,
        pass_through: wire.pass_through,
        received: wire.received,
        resume_attempts: wire.resume_attempts,
        idle_timeout_ms: wire.idle_timeout_ms,
    };
    (request, rest)
}

fn join(request: PolicyRequest, rest: WireRest, error_from: u16) -> Result<Wire, Failure> {
    let body = match request.body {
        PolicyBody::None => WireBody::None,
        PolicyBody::Bytes(bytes) => WireBody::Bytes(bytes),
        PolicyBody::Form(parts) => match parts.downcast::<Vec<FormPart>>() {
            Ok(parts) => WireBody::Multipart(parts.as_ref().clone()),
            Err(_) => return Err(internal("a form body of an unknown kind")),
        },
        PolicyBody::Stream { handle, .. } => match handle.downcast::<UploadChannel>() {
            Ok(channel) => WireBody::Stream(channel),
            Err(_) => return Err(internal("a streamed body of an unknown kind")),
        },
    };
    Ok(Wire {
        method: if request.method.is_empty() {
            "GET".to_string()
        } else {
            request.method
        },
        url: request.url,
        base_url: request.base_url,
        headers: request.headers.0,
        body,
        qs: rest.qs,
        follow_redirect: rest.follow_redirect,
        decompress: rest.decompress,
        retries: rest.retries,
        max_response_size: rest.max_response_size,
        pass_through: rest.pass_through,
        received: rest.received,
        resume_attempts: rest.resume_attempts,
        idle_timeout_ms: rest.idle_timeout_ms,
        error_from,
    })
}

pub(super) fn internal(message: &str) -> Failure {
    Failure::new(
        FailureKind::Host,
        format!("policy pipeline: {message}"),
        false,
    )
}

/// What policies see of an exchange's result. The headers move into the
/// policies' response (not copied: this runs for every request) and come
/// back from the response the chain ends with (`ChainState::settle`).
fn for_policies(result: &mut Result<RawResponse, Failure>) -> PolicyOutcome {
    match result {
        Ok(raw) => Ok(PolicyResponse {
            status: raw.status,
            headers: HeaderList(std::mem::take(&mut raw.headers)),
            body: match &raw.body {
                ResponseBody::Full(bytes) => PolicyResponseBody::Bytes(bytes.clone()),
                ResponseBody::Stream(_) => PolicyResponseBody::Streaming,
            },
            decode_as: None,
        }),
        Err(failure) => Err(PolicyFailure {
            kind: match failure.kind {
                FailureKind::Network => PolicyFailureKind::Network,
                FailureKind::Cancelled => PolicyFailureKind::Cancelled,
                _ => PolicyFailureKind::Other,
            },
            code: failure
                .net
                .as_ref()
                .and_then(|net| net.code.map(str::to_string)),
            ..PolicyFailure::new(PolicyFailureKind::Other, failure.message.clone())
        }),
    }
}

/// Who made the response (or error) a policy got from `next` last.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Producer {
    /// The exchange: its result is in `ChainState::last`.
    Exchange,
    /// A JS policy: its result is in the call's JS slot.
    Js,
}

/// What the steps of one call's chain share.
pub(super) struct ChainState {
    /// The last exchange's own result, until something takes it.
    last: Mutex<Option<Result<RawResponse, Failure>>>,
    producer: Mutex<Producer>,
    may_redecode: bool,
}

impl ChainState {
    fn keep(&self, mut result: Result<RawResponse, Failure>) -> PolicyOutcome {
        let outcome = for_policies(&mut result);
        if let Ok(mut slot) = self.last.lock() {
            *slot = Some(result);
        }
        self.set_producer(Producer::Exchange);
        outcome
    }

    pub(super) fn set_producer(&self, producer: Producer) {
        if let Ok(mut slot) = self.producer.lock() {
            *slot = producer;
        }
    }

    /// What a chain's `outcome` is for the caller (or for the JS policy
    /// whose `next` it answers): the exchange's own result when it came
    /// from there, the JS slot when a JS policy made it, or the failure a
    /// policy made.
    pub(super) fn settle(&self, outcome: PolicyOutcome) -> Outcome {
        let producer = self
            .producer
            .lock()
            .map(|p| *p)
            .unwrap_or(Producer::Exchange);
        let last = self.last.lock().ok().and_then(|mut slot| slot.take());
        match (outcome, producer, last) {
            (Ok(_), Producer::Js, _) => Outcome::JsValue,
            (Ok(response), Producer::Exchange, Some(Ok(mut raw))) => {
                if self.may_redecode {
                    redecode(&mut raw, &response);
                }
                raw.headers = response.headers.0;
                Outcome::Response(Box::new(raw))
            }
            (Ok(_), _, _) => Outcome::Failure(internal("a policy answered without sending")),
            (Err(failure), Producer::Js, _) if failure.kind == PolicyFailureKind::Js => {
                Outcome::JsError
            }
            // retry gave up on a wait the server asked for: the response's
            // error, with the wait on it.
            (Err(failure), Producer::Exchange, Some(Ok(mut raw)))
                if failure.retry_after_ms.is_some() =>
            {
                raw.retry_after_ms = failure.retry_after_ms;
                if let Some(response) = failure.response {
                    raw.headers = response.headers.0;
                }
                Outcome::Response(Box::new(raw))
            }
            // The exchange's own failure, passed on by the policies: as it was.
            (Err(failure), Producer::Exchange, Some(Err(original)))
                if matches!(
                    failure.kind,
                    PolicyFailureKind::Network | PolicyFailureKind::Other
                ) && failure.message == original.message =>
            {
                Outcome::Failure(original)
            }
            (Err(failure), _, _) => Outcome::Failure(policy_failure(failure)),
        }
    }
}

/// Sends `wire` through the pipeline's `steps` (outermost first) to the
/// exchange.
pub async fn exchange_through<H: Host + 'static>(
    host: &Arc<H>,
    call: u32,
    steps: &[Step],
    transport: &Transport,
    wire: Wire,
    response_format: Option<&str>,
    mode: Mode,
) -> Outcome {
    if steps.is_empty() {
        return exchange(transport, wire, response_format, mode).await;
    }
    let state = Arc::new(ChainState {
        last: Mutex::new(None),
        producer: Mutex::new(Producer::Exchange),
        may_redecode: response_format.is_none(),
    });
    let policies: Vec<Arc<dyn Policy>> = steps
        .iter()
        .map(|step| match step {
            Step::Native(policy) => policy.clone(),
            Step::Js(position) => Arc::new(JsPolicy {
                host: host.clone(),
                call,
                position: *position,
                state: state.clone(),
            }) as Arc<dyn Policy>,
        })
        .collect();
    let error_from = policies
        .iter()
        .find_map(|policy| policy.error_status_from())
        .unwrap_or(wire.error_from);
    let (request, rest) = split(wire);
    let terminal = |request: PolicyRequest| -> PolicyFuture<'_> {
        let rest = rest.clone();
        let state = &state;
        Box::pin(async move {
            let result = match join(request, rest, error_from) {
                Ok(wire) => exchange_inner(transport, wire, response_format, mode).await,
                Err(failure) => Err(failure),
            };
            state.keep(result)
        })
    };
    let terminal: &Terminal<'_> = &terminal;
    let outcome = Next::chain(&policies, terminal).run(request).await;
    state.settle(outcome)
}

/// A failure a policy made (a `timeout`, a refused re-send, ...).
fn policy_failure(failure: PolicyFailure) -> Failure {
    let kind = match failure.kind {
        PolicyFailureKind::Timeout { .. } => FailureKind::PolicyTimeout,
        PolicyFailureKind::Cancelled => FailureKind::Cancelled,
        _ => FailureKind::Policy,
    };
    Failure::new(kind, failure.message, true)
}

/// A `mime` policy's decision on how to decode the body, applied when the
/// caller did not choose a `responseFormat` of its own.
fn redecode(raw: &mut RawResponse, response: &PolicyResponse) {
    use super::policies::mime::Decoding;
    use crate::engine::body_format::BodyFormat;
    let Some(decoding) = response.decode_as else {
        return;
    };
    if !matches!(raw.body, ResponseBody::Full(_)) {
        return;
    }
    match decoding {
        Decoding::Json => raw.format = BodyFormat::Json,
        Decoding::Text => raw.format = BodyFormat::Text,
        Decoding::FormUrlEncoded => {
            raw.format = BodyFormat::Text;
            raw.decode = Some("form");
        }
        Decoding::Bytes => raw.format = BodyFormat::Blob,
    }
}
