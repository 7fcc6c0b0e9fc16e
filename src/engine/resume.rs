//! Resuming a `stream()` download whose connection failed mid-body: which
//! responses may be resumed, the ranged request that asks for the rest, and
//! whether the answer really is the rest of the same bytes.
//!
//! A resume is only safe when the server can prove it is serving the same
//! representation: it must offer byte ranges and a validator (a strong ETag,
//! else Last-Modified), which goes back in `If-Range` so that a changed file
//! gets a `200` (refused here) rather than a splice of two versions. The
//! continuation must be a `206` whose `Content-Range` starts exactly at the
//! byte we have, for the same total, with the same encoding: anything else
//! would duplicate or skip bytes, so it ends the download instead.

use super::net_error::NetError;
use super::redirect::next_headers;
use super::transport::{OutgoingBody, OutgoingRequest, Transport, TransportError};
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT_RANGES, CONTENT_ENCODING, CONTENT_RANGE, ETAG, IF_RANGE,
    LAST_MODIFIED, RANGE,
};
use reqwest::{Method, Response};
use std::fmt;
use std::time::Duration;
use url::Url;

/// How many times `stream()` asks again, by default, before it gives up.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// The wait before the first re-request; it doubles up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// The wait before re-request number `attempt` (0 for the first).
pub fn backoff(attempt: u32) -> Duration {
    FIRST_BACKOFF
        .checked_mul(1 << attempt.min(16))
        .map_or(MAX_BACKOFF, |wait| wait.min(MAX_BACKOFF))
}

/// What proves a continuation is of the same representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// A strong ETag (a weak one cannot vouch for bytes, RFC 9110 8.8.1).
    pub etag: Option<HeaderValue>,
    pub last_modified: Option<HeaderValue>,
    /// The response's Content-Encoding: offsets count encoded bytes, so the
    /// continuation must be encoded the same way.
    pub encoding: Option<HeaderValue>,
}

impl Validators {
    /// `If-Range`'s value: the ETag, else the date.
    fn if_range(&self) -> Option<&HeaderValue> {
        self.etag.as_ref().or(self.last_modified.as_ref())
    }
}

/// The validators of a response that may be resumed, or `None`: it must be
/// a `200` that accepts byte ranges and has a strong ETag or a date.
pub fn resumable(status: u16, headers: &HeaderMap) -> Option<Validators> {
    if status != 200 {
        return None;
    }
    let accepts_bytes = headers.get_all(ACCEPT_RANGES).iter().any(|value| {
        value.to_str().is_ok_and(|text| {
            text.split(',')
                .any(|unit| unit.trim().eq_ignore_ascii_case("bytes"))
        })
    });
    if !accepts_bytes {
        return None;
    }
    let etag = headers
        .get(ETAG)
        .filter(|tag| !tag.is_empty() && !tag.as_bytes().starts_with(b"W/"))
        .cloned();
    let last_modified = headers
        .get(LAST_MODIFIED)
        .filter(|date| !date.is_empty())
        .cloned();
    let validators = Validators {
        etag,
        last_modified,
        encoding: headers.get(CONTENT_ENCODING).cloned(),
    };
    validators.if_range().is_some().then_some(validators)
}

/// A parsed `Content-Range: bytes <first>-<last>/<complete or *>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub first: u64,
    pub last: u64,
    pub complete: Option<u64>,
}

pub fn parse_content_range(value: &str) -> Option<ContentRange> {
    let rest = value.trim();
    let (unit, rest) = rest.split_once(' ')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (range, complete) = rest.trim_start().split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok()
    };
    let first = number(first)?;
    let last = number(last)?;
    let complete = match complete.trim() {
        "*" => None,
        text => Some(number(text)?),
    };
    let in_bounds = complete.is_none_or(|complete| last < complete);
    (first <= last && in_bounds).then_some(ContentRange {
        first,
        last,
        complete,
    })
}

/// Why an answer to the ranged request is not the rest of the download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a 206: a 200 is the whole (perhaps changed) file again.
    Status(u16),
    MissingRange,
    WrongStart {
        expected: u64,
        got: u64,
    },
    WrongLength {
        expected: u64,
        got: u64,
    },
    ValidatorChanged(&'static str),
    EncodingChanged,
    /// The request could not be built (should not happen: the first one was).
    Invalid(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Status(status) => {
                write!(
                    f,
                    "the server answered {status} instead of 206 Partial Content"
                )
            }
            Refusal::MissingRange => f.write_str("the 206 answer has no usable Content-Range"),
            Refusal::WrongStart { expected, got } => {
                write!(f, "the server sent bytes from {got}, not from {expected}")
            }
            Refusal::WrongLength { expected, got } => {
                write!(f, "the file is now {got} bytes long, not {expected}")
            }
            Refusal::ValidatorChanged(name) => write!(f, "the file changed ({name} differs)"),
            Refusal::EncodingChanged => f.write_str("the Content-Encoding changed"),
            Refusal::Invalid(message) => f.write_str(message),
        }
    }
}

/// Whether a response to `Range: bytes=<offset>-` continues the download
/// exactly at `offset`; `total` is the wire length first announced.
pub fn check_continuation(
    status: u16,
    headers: &HeaderMap,
    offset: u64,
    total: Option<u64>,
    validators: &Validators,
) -> Result<ContentRange, Refusal> {
    if status != 206 {
        return Err(Refusal::Status(status));
    }
    let range = headers
        .get(CONTENT_RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_content_range)
        .ok_or(Refusal::MissingRange)?;
    if range.first != offset {
        return Err(Refusal::WrongStart {
            expected: offset,
            got: range.first,
        });
    }
    if let (Some(expected), Some(got)) = (total, range.complete) {
        if expected != got {
            return Err(Refusal::WrongLength { expected, got });
        }
    }
    // If-Range made the server compare already; a server that ignores it
    // is caught here when it names its (new) validator.
    let changed = |name, first: &Option<HeaderValue>, now: Option<&HeaderValue>| match (first, now)
    {
        (Some(first), Some(now)) if first != now => Err(Refusal::ValidatorChanged(name)),
        _ => Ok(()),
    };
    changed("ETag", &validators.etag, headers.get(ETAG))?;
    changed(
        "Last-Modified",
        &validators.last_modified,
        headers.get(LAST_MODIFIED),
    )?;
    let encoding = |value: Option<&HeaderValue>| {
        value
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty() && v != "identity")
    };
    if encoding(validators.encoding.as_ref()) != encoding(headers.get(CONTENT_ENCODING)) {
        return Err(Refusal::EncodingChanged);
    }
    Ok(range)
}

/// Why one re-request did not give a continuation.
#[derive(Debug)]
pub enum AttemptError {
    /// The network failed again: worth another attempt.
    Network(Box<NetError>),
    /// The server answered, but not with the rest of these bytes: final.
    Refused(Refusal),
}

/// Everything needed to ask the server for the rest of a download.
pub struct ResumeRequest {
    transport: Transport,
    /// The URL the body came from (after redirects) and the headers sent there.
    url: Url,
    headers: HeaderMap,
    validators: Validators,
    pub max_attempts: u32,
}

impl ResumeRequest {
    /// For a response to `request`, if it may be resumed: a body-less GET
    /// (the only request that can be repeated as it was sent) answered by a
    /// resumable `200`.
    pub fn for_response(
        transport: &Transport,
        request: &OutgoingRequest,
        response: &Response,
        max_attempts: u32,
    ) -> Option<ResumeRequest> {
        if max_attempts == 0
            || request.method != Method::GET
            || !matches!(request.body, OutgoingBody::Empty)
        {
            return None;
        }
        let validators = resumable(response.status().as_u16(), response.headers())?;
        let url = response.url().clone();
        let mut headers = request.headers.clone();
        // The redirect rule: credentials never leave their origin. (A chain
        // that left the origin and came back would have dropped them; this
        // sends them back only to the origin the caller gave them to.)
        next_headers(&mut headers, &request.url, &url, true);
        Some(ResumeRequest {
            transport: transport.clone(),
            url,
            headers,
            validators,
            max_attempts,
        })
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Asks for the bytes from `offset` on; `total` is the wire length first
    /// announced. The answer's head must come within `idle` when set.
    pub async fn send(
        &self,
        offset: u64,
        total: Option<u64>,
        idle: Option<Duration>,
    ) -> Result<(Response, ContentRange), AttemptError> {
        let mut headers = self.headers.clone();
        let range = HeaderValue::from_str(&format!("bytes={offset}-"))
            .map_err(|e| AttemptError::Refused(Refusal::Invalid(e.to_string())))?;
        headers.insert(RANGE, range);
        if let Some(validator) = self.validators.if_range() {
            headers.insert(IF_RANGE, validator.clone());
        }
        let request = OutgoingRequest {
            method: Method::GET,
            url: self.url.clone(),
            headers,
            body: OutgoingBody::Empty,
            follow_redirects: false,
            retries: 0,
        };
        let sent = self.transport.send(&request);
        let result = match idle {
            None => sent.await,
            Some(idle) => match tokio::time::timeout(idle, sent).await {
                Ok(result) => result,
                Err(_) => {
                    return Err(AttemptError::Network(Box::new(idle_timeout(
                        &self.url, idle, false,
                    ))))
                }
            },
        };
        let response = result.map_err(|err| match err {
            TransportError::Network(net) => AttemptError::Network(net),
            other => AttemptError::Refused(Refusal::Invalid(other.to_string())),
        })?;
        let range = check_continuation(
            response.status().as_u16(),
            response.headers(),
            offset,
            total,
            &self.validators,
        )
        .map_err(AttemptError::Refused)?;
        Ok((response, range))
    }
}

/// No byte arrived for `idle`: a connection that stalled, treated as one
/// that failed (code ETIMEDOUT, as Node's socket timeouts say).
pub fn idle_timeout(url: &Url, idle: Duration, in_body: bool) -> NetError {
    NetError::other(
        url,
        "ETIMEDOUT",
        format!("no data received for {} ms", idle.as_millis()),
        in_body,
    )
}

/// The download stopped at `offset` (`cause` says why) and the server's
/// answer to the ranged request was not its continuation: the stream's
/// error, with a code a caller can test for.
pub fn refused(url: &Url, cause: &str, offset: u64, why: &Refusal) -> NetError {
    NetError::other(
        url,
        "ERR_BALENA_RESUME_REFUSED",
        format!("{cause} (after {offset} bytes), and could not resume: {why}"),
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn strong() -> Validators {
        Validators {
            etag: Some(HeaderValue::from_static("\"v1\"")),
            last_modified: None,
            encoding: None,
        }
    }

    #[test]
    fn a_200_with_byte_ranges_and_a_strong_etag_or_a_date_is_resumable() {
        let etag = resumable(
            200,
            &headers(&[("accept-ranges", "bytes"), ("etag", "\"v1\"")]),
        );
        assert_eq!(etag, Some(strong()));
        let date = resumable(
            200,
            &headers(&[
                ("accept-ranges", "none, Bytes"),
                ("last-modified", "Tue, 24 Nov 2026 10:00:00 GMT"),
                ("content-encoding", "gzip"),
            ]),
        );
        assert!(date.is_some_and(|v| v.etag.is_none()
            && v.last_modified.is_some()
            && v.encoding == Some(HeaderValue::from_static("gzip"))));
    }

    #[test]
    fn other_responses_are_not() {
        let cases = [
            (200, headers(&[("etag", "\"v1\"")])),
            (
                200,
                headers(&[("accept-ranges", "none"), ("etag", "\"v1\"")]),
            ),
            (200, headers(&[("accept-ranges", "bytes")])),
            (
                200,
                headers(&[("accept-ranges", "bytes"), ("etag", "W/\"v1\"")]),
            ),
            (
                206,
                headers(&[("accept-ranges", "bytes"), ("etag", "\"v1\"")]),
            ),
        ];
        for (status, headers) in cases {
            assert_eq!(resumable(status, &headers), None, "{status} {headers:?}");
        }
        // A weak ETag does not count, but a date beside it does.
        let weak_and_date = headers(&[
            ("accept-ranges", "bytes"),
            ("etag", "W/\"v1\""),
            ("last-modified", "Tue, 24 Nov 2026 10:00:00 GMT"),
        ]);
        assert!(resumable(200, &weak_and_date).is_some_and(|v| v.etag.is_none()));
    }

    #[test]
    fn content_ranges_parse() {
        let range = |first, last, complete| {
            Some(ContentRange {
                first,
                last,
                complete,
            })
        };
        assert_eq!(
            parse_content_range("bytes 100-199/200"),
            range(100, 199, Some(200))
        );
        assert_eq!(parse_content_range(" BYTES  5-9/*"), range(5, 9, None));
        for bad in [
            "bytes */200",
            "bytes 10-5/200",
            "bytes 100-200/200",
            "items 0-1/2",
            "bytes 1-2",
            "bytes -1-2/3",
            "bytes 0x1-2/3",
            "",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_the_exact_continuation_is_accepted() -> TestResult {
        let ok = headers(&[("content-range", "bytes 100-199/200"), ("etag", "\"v1\"")]);
        assert_eq!(
            check_continuation(206, &ok, 100, Some(200), &strong()),
            Ok(ContentRange {
                first: 100,
                last: 199,
                complete: Some(200)
            })
        );
        // A total the first response did not announce is taken as given.
        assert!(check_continuation(206, &ok, 100, None, &strong()).is_ok());
        let star = headers(&[("content-range", "bytes 100-199/*")]);
        assert!(check_continuation(206, &star, 100, Some(200), &strong()).is_ok());

        let refused = |status, h: &HeaderMap, offset, total| {
            check_continuation(status, h, offset, total, &strong()).err()
        };
        assert_eq!(
            refused(200, &ok, 100, Some(200)),
            Some(Refusal::Status(200))
        );
        assert_eq!(
            refused(206, &ok, 90, Some(200)),
            Some(Refusal::WrongStart {
                expected: 90,
                got: 100
            })
        );
        assert_eq!(
            refused(206, &ok, 100, Some(300)),
            Some(Refusal::WrongLength {
                expected: 300,
                got: 200
            })
        );
        assert_eq!(
            refused(206, &headers(&[]), 100, Some(200)),
            Some(Refusal::MissingRange)
        );
        let new_tag = headers(&[("content-range", "bytes 100-199/200"), ("etag", "\"v2\"")]);
        assert_eq!(
            refused(206, &new_tag, 100, Some(200)),
            Some(Refusal::ValidatorChanged("ETag"))
        );
        let gzip = headers(&[
            ("content-range", "bytes 100-199/200"),
            ("content-encoding", "gzip"),
        ]);
        assert_eq!(
            refused(206, &gzip, 100, Some(200)),
            Some(Refusal::EncodingChanged)
        );
        let gzipped = Validators {
            encoding: Some(HeaderValue::from_static("gzip")),
            ..strong()
        };
        let same = headers(&[
            ("content-range", "bytes 100-199/200"),
            ("content-encoding", "GZIP"),
        ]);
        assert!(check_continuation(206, &same, 100, Some(200), &gzipped).is_ok());
        Ok(())
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(4), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
