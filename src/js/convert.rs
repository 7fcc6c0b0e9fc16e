//! Plain-data shapes that cross the N-API boundary, and their conversions.

use crate::engine::body_format::BodyFormat;
use crate::engine::download::{Download, DEFAULT_MAX_RESPONSE_SIZE};
use crate::engine::error_message::ErrorText;
use crate::engine::net_error::NetError;
use crate::engine::transport::{FormPart, FormValue};
use crate::pipeline::{
    CallInit, Failure, FailureKind, Mode, Outcome, Patch, RawResponse, ResponseBody, Settled, Wire,
    WireBody,
};
use bytes::Bytes;
use napi::bindgen_prelude::{Buffer, Either};
use napi_derive::napi;
use std::sync::Arc;

use super::boundary::{CallInitJs, FormPartJs, PatchJs, ResponseJs, SettledJs, WireJs};
use super::download::NativeDownload;
use super::upload::{take_received_bytes, take_upload};

/// A network failure's fields (`NetError`), from which `lib/errors.js`
/// builds the error Node's fetch or node-fetch would give.
#[napi(object, object_from_js = false)]
pub struct NetFailureJs {
    pub url: String,
    pub kind: String,
    pub code: Option<String>,
    pub errno_name: Option<String>,
    pub syscall: Option<String>,
    pub address: Option<String>,
    pub port: Option<u32>,
    pub hostname: Option<String>,
    pub text: String,
    pub reason: Option<String>,
    pub host: Option<String>,
    pub library: Option<String>,
    pub in_body: bool,
    /// The proxy the request went through, as the error shows it.
    pub proxy: Option<String>,
}

#[napi(object, object_from_js = false)]
pub struct FailureJs {
    pub kind: String,
    pub message: String,
    pub net: Option<NetFailureJs>,
    pub with_options: bool,
}

fn qs_text(qs_json: Option<String>) -> Result<Option<String>, String> {
    match qs_json {
        None => Ok(None),
        Some(text) => serde_json::from_str::<serde_json::Value>(&text)
            .map(|value| Some(crate::engine::qs::stringify(&value)))
            .map_err(|e| format!("qs could not be serialised: {e}")),
    }
}

pub fn wire_from_js(js: WireJs) -> Result<Wire, String> {
    let WireJs {
        url,
        base_url,
        qs_json,
        method,
        headers: flat_headers,
        body,
        form,
        follow_redirect,
        decompress,
        retries,
        max_response_size,
        upload,
        pass_through,
        download_progress,
        resume_attempts,
        idle_timeout: idle_timeout_ms,
    } = js;
    let mut flat = flat_headers.into_iter();
    let mut headers = Vec::with_capacity(flat.len() / 2);
    while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
        headers.push((name, value));
    }
    let body = match (form, body) {
        _ if upload.is_some() => match upload.and_then(take_upload) {
            Some(channel) => WireBody::Stream(channel),
            None => {
                return Err("the request body stream was already used by another request".into())
            }
        },
        (Some(parts), _) => WireBody::Multipart(parts.into_iter().map(form_part).collect()),
        (None, Some(Either::A(text))) => WireBody::Bytes(Bytes::from(text)),
        (None, Some(Either::B(buffer))) => WireBody::Bytes(Bytes::copy_from_slice(&buffer)),
        (None, None) => WireBody::None,
    };
    Ok(Wire {
        url,
        base_url,
        qs: qs_text(qs_json)?,
        method,
        headers,
        body,
        follow_redirect,
        decompress,
        retries,
        // A size JS checked (a positive number); anything else is the default.
        max_response_size: max_response_size
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map_or(DEFAULT_MAX_RESPONSE_SIZE, |n| n as u64),
        pass_through: pass_through.unwrap_or(false),
        received: download_progress.and_then(take_received_bytes),
        resume_attempts,
        error_from: 400,
        // Milliseconds JS checked; 0 or anything else is no limit.
        idle_timeout_ms: idle_timeout_ms
            .filter(|n| n.is_finite() && *n >= 1.0)
            .map(|n| n as u64),
    })
}

fn form_part(js: FormPartJs) -> FormPart {
    let value = match js.data {
        Some(data) => FormValue::File {
            data: Bytes::copy_from_slice(&data),
            filename: js.filename.unwrap_or_default(),
            content_type: js.content_type,
        },
        None => FormValue::Text(js.value.unwrap_or_default()),
    };
    FormPart {
        name: js.name,
        value,
    }
}

pub fn call_init_from_js(js: CallInitJs) -> Result<CallInit, String> {
    let CallInitJs {
        stream,
        url,
        base_url,
        api_key,
        send_token,
        refresh_token,
        has_auth,
        response_format,
        has_request_hooks,
        has_response_hooks,
        wire,
    } = js;
    Ok(CallInit {
        mode: if stream { Mode::Stream } else { Mode::Send },
        url,
        base_url,
        api_key,
        send_token,
        refresh_token,
        has_auth,
        response_format,
        has_request_hooks,
        has_response_hooks,
        wire: wire.map(wire_from_js).transpose()?,
        // The engine puts its pipeline's policies here when the call starts.
        policies: Arc::new([]),
    })
}

pub fn patch_to_js(patch: Patch) -> PatchJs {
    PatchJs {
        url: patch.url,
        drop_base_url: patch.drop_base_url,
        authorization: patch.authorization,
    }
}

pub fn failure_to_js(failure: Failure) -> FailureJs {
    FailureJs {
        kind: failure.kind.as_str().to_string(),
        message: failure.message,
        net: failure.net.map(|net| net_failure_to_js(*net)),
        with_options: failure.with_options,
    }
}

pub fn net_failure_to_js(net: NetError) -> NetFailureJs {
    let text = |value: Option<&'static str>| value.map(str::to_string);
    NetFailureJs {
        url: net.url,
        kind: net.kind.as_str().to_string(),
        code: text(net.code),
        errno_name: text(net.errno_name),
        syscall: text(net.syscall),
        address: net.address,
        port: net.port.map(u32::from),
        hostname: net.hostname,
        text: net.text,
        reason: net.reason,
        host: net.host,
        library: text(net.library),
        in_body: net.in_body,
        proxy: net.proxy,
    }
}

/// Text as fetch's `text()` gives it: UTF-8, invalid bytes replaced, a
/// leading byte-order mark dropped.
fn body_text(body: Bytes) -> String {
    let body = if body.starts_with(&[0xEF, 0xBB, 0xBF]) {
        body.slice(3..)
    } else {
        body
    };
    match String::from_utf8(Vec::from(body)) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

pub fn settled_to_js(settled: Settled) -> SettledJs {
    let patch = settled.patch.map(patch_to_js);
    let (kind, response, failure) = match settled.outcome {
        Outcome::Response(raw) => (0, Some(response_to_js(*raw)), None),
        Outcome::Failure(failure) => (1, None, Some(failure_to_js(failure))),
        Outcome::JsValue => (2, None, None),
        Outcome::JsError => (3, None, None),
    };
    SettledJs {
        kind,
        response,
        failure,
        patch,
    }
}

fn response_to_js(raw: RawResponse) -> ResponseJs {
    let (error_text, error_uses_body) = match raw.error_text {
        None => (None, false),
        Some(ErrorText::Text(text)) => (Some(text), false),
        Some(ErrorText::WholeBody) => (None, true),
    };
    let format = raw.format.as_str();
    let (text, data, download) = match raw.body {
        ResponseBody::Stream(download) => (None, None, Some(download_to_js(*download))),
        ResponseBody::Full(body) => match raw.format {
            BodyFormat::Json | BodyFormat::Text => (Some(body_text(body)), None, None),
            BodyFormat::Blob => (None, Some(Buffer::from(Vec::from(body))), None),
            BodyFormat::None => (None, None, None),
        },
    };
    let mut headers = Vec::with_capacity(raw.headers.len() * 2);
    for (name, value) in raw.headers {
        headers.push(name);
        headers.push(value);
    }
    ResponseJs {
        status: raw.status as u32,
        headers,
        request_url: raw.request_url,
        url: raw.url,
        duration: raw.duration_ms,
        format,
        text,
        data,
        error_text,
        error_uses_body,
        download,
        error_from: u32::from(raw.error_from),
        retry_after_ms: raw.retry_after_ms.map(|ms| ms as f64),
        decode: raw.decode,
    }
}

fn download_to_js(download: Download) -> NativeDownload {
    NativeDownload::new(download)
}

/// A failure for things that went wrong inside the binding itself.
pub fn internal_failure(message: impl Into<String>) -> Settled {
    Settled {
        outcome: Outcome::Failure(Failure::new(FailureKind::Host, message, false)),
        patch: None,
    }
}
