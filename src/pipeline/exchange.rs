//! Stage 4: the wire request goes out, the response comes back. For `send()`
//! the body is read whole and decoded; for `stream()` it becomes a
//! `Download` (an error status still reads the body, for the error text).

use super::types::{Failure, FailureKind, Outcome, RawResponse, ResponseBody, Wire, WireBody};
use crate::engine::body_format::BodyFormat;
use crate::engine::decode::Encoding;
use crate::engine::download::{read_whole, BodyInfo, Download, ReadWholeError};
use crate::engine::error_message::{error_text, ErrorText, UNSUCCESSFUL};
use crate::engine::latin1;
use crate::engine::request_headers::{self, Flavour};
use crate::engine::resume::ResumeRequest;
use crate::engine::transport::{OutgoingBody, OutgoingRequest, Transport, TransportError};
use crate::engine::url::request_url;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE,
    TRANSFER_ENCODING,
};
use reqwest::Method;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Send,
    Stream,
}

pub async fn exchange(
    transport: &Transport,
    wire: Wire,
    response_format: Option<&str>,
    mode: Mode,
) -> Outcome {
    match exchange_inner(transport, wire, response_format, mode).await {
        Ok(raw) => Outcome::Response(Box::new(raw)),
        Err(failure) => Outcome::Failure(failure),
    }
}

pub(super) async fn exchange_inner(
    transport: &Transport,
    wire: Wire,
    response_format: Option<&str>,
    mode: Mode,
) -> Result<RawResponse, Failure> {
    let decompress = wire.decompress;
    let pass_through = wire.pass_through;
    let received = wire.received.clone();
    let max_response_size = wire.max_response_size;
    let error_from = wire.error_from;
    // Resuming and the idle limit are stream()'s: send() reads a body whole
    // under its own timeout.
    let (resume_attempts, idle_timeout) = match mode {
        Mode::Stream => (
            wire.resume_attempts,
            wire.idle_timeout_ms.map(Duration::from_millis),
        ),
        Mode::Send => (0, None),
    };
    let request = to_outgoing(wire, mode)?;
    let started = Instant::now();
    let response = transport.send(&request).await.map_err(from_transport)?;
    let response = match &received {
        Some(counter) => counter.count(response),
        None => response,
    };
    let duration_ms = started.elapsed().as_millis() as f64;
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), latin1::decode(value.as_bytes())))
        .collect();
    let header = |name: &HeaderName| response.headers().get(name).and_then(|v| v.to_str().ok());
    let content_type = header(&CONTENT_TYPE).map(str::to_string);
    let encoding = Encoding::from_header(header(&CONTENT_ENCODING));
    let url = response.url().to_string();
    let info = BodyInfo {
        encoding: if !pass_through && (decompress || mode == Mode::Stream) {
            encoding
        } else {
            Encoding::Identity
        },
        content_length: header(&CONTENT_LENGTH).and_then(parse_length),
        transfer_length: response
            .headers()
            .get("x-transfer-length")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_length),
        wire_length: wire_length(&request.method, &response),
        resume: ResumeRequest::for_response(transport, &request, &response, resume_attempts),
        idle_timeout,
    };
    let mut download = Download::new(response, info);

    if mode == Mode::Stream && (status < error_from || pass_through) {
        return Ok(RawResponse {
            status,
            headers,
            request_url: request.url.to_string(),
            url,
            duration_ms,
            format: BodyFormat::Blob,
            body: ResponseBody::Stream(Box::new(download)),
            error_text: None,
            error_from,
            retry_after_ms: None,
            decode: None,
        });
    }

    let format = match mode {
        Mode::Send => BodyFormat::decide(response_format, content_type.as_deref())
            .map_err(|value| Failure::new(FailureKind::InvalidResponseFormat, value, false))?,
        Mode::Stream => BodyFormat::Text,
    };
    let body = read_whole(&mut download, max_response_size)
        .await
        .map_err(|err| match err {
            ReadWholeError::TooLarge { limit } => Failure::new(
                FailureKind::ResponseTooLarge,
                format!(
                    "The response body is larger than maxResponseSize ({limit} bytes): \
                     raise the maxResponseSize option of send(), or read it with stream()"
                ),
                true,
            ),
            ReadWholeError::Download(err) => match err.net {
                Some(net) => Failure {
                    net: Some(net),
                    ..Failure::new(FailureKind::Network, err.message, true)
                },
                None => Failure::new(FailureKind::Decode, err.message, false),
            },
        })?;
    let error_text = (status >= error_from).then(|| match mode {
        Mode::Send => error_text(format, &body),
        Mode::Stream if body.is_empty() => ErrorText::Text(UNSUCCESSFUL.into()),
        Mode::Stream => ErrorText::Text(String::from_utf8_lossy(&body).into_owned()),
    });
    Ok(RawResponse {
        status,
        headers,
        request_url: request.url.to_string(),
        url,
        duration_ms,
        format,
        body: ResponseBody::Full(body),
        error_text,
        error_from,
        retry_after_ms: None,
        decode: None,
    })
}

/// The exact body length the response announces, where it must hold: its
/// Content-Length, unless the body is chunked (which wins over it) or there
/// is no body (a HEAD request, 204, 304).
fn wire_length(method: &Method, response: &reqwest::Response) -> Option<u64> {
    let status = response.status().as_u16();
    if *method == Method::HEAD || status == 204 || status == 304 || (100..200).contains(&status) {
        return None;
    }
    let headers = response.headers();
    if headers.contains_key(TRANSFER_ENCODING) {
        return None;
    }
    let value = headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// `parseInt(value, 10) || undefined`
fn parse_length(value: &str) -> Option<u64> {
    let digits: String = value
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse::<u64>().ok().filter(|n| *n > 0)
}

fn from_transport(err: TransportError) -> Failure {
    let kind = match &err {
        TransportError::Network { .. } => FailureKind::Network,
        TransportError::TooManyRedirects(_) => FailureKind::TooManyRedirects,
        TransportError::Invalid(_) => FailureKind::InvalidRequest,
    };
    let message = err.to_string();
    let net = match err {
        TransportError::Network(net) => Some(net),
        _ => None,
    };
    Failure {
        net,
        ..Failure::new(kind, message, true)
    }
}

/// The methods fetch upper-cases; others (PATCH) are sent as written.
fn normalise_method(method: &str) -> Result<Method, Failure> {
    let upper = method.to_ascii_uppercase();
    let name = match upper.as_str() {
        "DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" => upper.as_str(),
        _ => method,
    };
    Method::from_bytes(name.as_bytes()).map_err(|_| {
        Failure::new(
            FailureKind::InvalidRequest,
            format!("Invalid method: {method:?}"),
            true,
        )
    })
}

fn to_outgoing(wire: Wire, mode: Mode) -> Result<OutgoingRequest, Failure> {
    let method = normalise_method(&wire.method)?;
    let url = request_url(&wire.url, wire.base_url.as_deref(), wire.qs.as_deref())
        .map_err(|e| Failure::new(FailureKind::InvalidUrl, e.to_string(), true))?;
    let mut headers = HeaderMap::with_capacity(wire.headers.len());
    for (name, value) in &wire.headers {
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Failure::new(
                FailureKind::InvalidRequest,
                format!("Invalid header name: {name:?}"),
                true,
            )
        })?;
        let header_value = latin1::encode(value)
            .and_then(|bytes| HeaderValue::from_bytes(&bytes).ok())
            .ok_or_else(|| {
                Failure::new(
                    FailureKind::InvalidRequest,
                    format!("Invalid value for header {name:?}: {value:?}"),
                    true,
                )
            })?;
        request_headers::append(&mut headers, header_name, header_value);
    }
    if !wire.pass_through {
        request_headers::add_client_defaults(
            &mut headers,
            match mode {
                Mode::Send => Flavour::Fetch,
                Mode::Stream => Flavour::NodeFetch,
            },
        );
    }
    let body = match wire.body {
        WireBody::None => OutgoingBody::Empty,
        WireBody::Bytes(bytes) => OutgoingBody::Bytes(bytes),
        WireBody::Multipart(parts) => OutgoingBody::Multipart(parts),
        WireBody::Stream(channel) => OutgoingBody::Stream(channel),
    };
    Ok(OutgoingRequest {
        method,
        url,
        headers,
        body,
        follow_redirects: wire.follow_redirect,
        retries: wire.retries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_parse_like_parse_int() {
        assert_eq!(parse_length("46"), Some(46));
        assert_eq!(parse_length(" 12abc"), Some(12));
        assert_eq!(parse_length("0"), None);
        assert_eq!(parse_length("x"), None);
    }

    #[test]
    fn methods_and_headers_are_checked() {
        assert_eq!(normalise_method("get").ok(), Some(Method::GET));
        assert_eq!(
            normalise_method("patch").ok().as_ref().map(Method::as_str),
            Some("patch")
        );
        assert!(normalise_method("bad method").is_err());
        let wire = Wire {
            url: "http://127.0.0.1/".into(),
            base_url: None,
            qs: None,
            method: "GET".into(),
            headers: vec![("X-Bad".into(), "a\r\nInjected: yes".into())],
            body: WireBody::None,
            follow_redirect: true,
            decompress: true,
            retries: 0,
            max_response_size: 1024,
            pass_through: false,
            received: None,
            resume_attempts: 0,
            idle_timeout_ms: None,
            error_from: 400,
        };
        let err = to_outgoing(wire, Mode::Send).err().map(|f| f.kind);
        assert_eq!(err, Some(FailureKind::InvalidRequest));
    }
}
