//! Plain-data shapes that cross the N-API boundary, and their conversions.

use crate::engine::download::Download;
use crate::engine::error_message::ErrorText;
use crate::engine::transport::{FormPart, FormValue};
use crate::pipeline::{
    CallInit, Failure, FailureKind, Mode, Outcome, Patch, ResponseBody, Settled, Wire, WireBody,
};
use bytes::Bytes;
use napi::bindgen_prelude::{Buffer, Either};
use napi_derive::napi;

use super::download::NativeDownload;

#[napi(object, object_to_js = false)]
pub struct FormPartJs {
    pub name: String,
    pub value: Option<String>,
    pub data: Option<Buffer>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

/// A request as `lib/wire.js` builds it from an options object.
#[napi(object, object_to_js = false)]
pub struct WireJs {
    pub url: String,
    pub base_url: Option<String>,
    /// `JSON.stringify(options.qs)`; serialised with qs rules here.
    pub qs_json: Option<String>,
    pub method: String,
    /// Name, value, name, value, ...
    pub headers: Vec<String>,
    pub body: Option<Either<String, Buffer>>,
    pub form: Option<Vec<FormPartJs>>,
    pub follow_redirect: bool,
    pub decompress: bool,
    pub retries: u32,
}

#[napi(object, object_to_js = false)]
pub struct CallInitJs {
    pub stream: bool,
    pub url: Option<String>,
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub send_token: bool,
    pub refresh_token: bool,
    pub has_auth: bool,
    pub response_format: Option<String>,
    pub request_hooks: Vec<u32>,
    pub response_hooks: Vec<u32>,
    pub wire: Option<WireJs>,
}

#[napi(object, object_from_js = false)]
pub struct PatchJs {
    pub url: Option<String>,
    pub drop_base_url: bool,
    pub authorization: Option<String>,
}

#[napi(object, object_from_js = false)]
pub struct FailureJs {
    pub kind: String,
    pub message: String,
    pub code: Option<String>,
    pub with_options: bool,
}

#[napi(object, object_from_js = false)]
pub struct ResponseJs {
    pub status: u32,
    pub headers: Vec<String>,
    pub request_url: String,
    pub url: String,
    pub duration: f64,
    pub format: String,
    /// The body for the json and text formats.
    pub text: Option<String>,
    /// The body for the blob format.
    pub data: Option<Buffer>,
    pub error_text: Option<String>,
    /// The decoded body itself is the error message.
    pub error_uses_body: bool,
    pub download: Option<NativeDownload>,
}

#[napi(object, object_from_js = false)]
pub struct SettledJs {
    /// "response" | "failure" | "jsValue" | "jsError"
    pub kind: String,
    pub response: Option<ResponseJs>,
    pub failure: Option<FailureJs>,
    pub patch: Option<PatchJs>,
}

fn qs_text(qs_json: Option<String>) -> Result<Option<String>, String> {
    match qs_json {
        None => Ok(None),
        Some(text) => serde_json::from_str::<serde_json::Value>(&text)
            .map(|value| Some(crate::engine::qs::stringify(&value)))
            .map_err(|e| format!("qs could not be serialised: {e}")),
    }
}

impl TryFrom<WireJs> for Wire {
    type Error = String;

    fn try_from(js: WireJs) -> Result<Wire, String> {
        let headers = js
            .headers
            .chunks_exact(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect();
        let body = match (js.form, js.body) {
            (Some(parts), _) => WireBody::Multipart(parts.into_iter().map(form_part).collect()),
            (None, Some(Either::A(text))) => WireBody::Bytes(Bytes::from(text)),
            (None, Some(Either::B(buffer))) => WireBody::Bytes(Bytes::copy_from_slice(&buffer)),
            (None, None) => WireBody::None,
        };
        Ok(Wire {
            url: js.url,
            base_url: js.base_url,
            qs: qs_text(js.qs_json)?,
            method: js.method,
            headers,
            body,
            follow_redirect: js.follow_redirect,
            decompress: js.decompress,
            retries: js.retries,
        })
    }
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

impl TryFrom<CallInitJs> for CallInit {
    type Error = String;

    fn try_from(js: CallInitJs) -> Result<CallInit, String> {
        Ok(CallInit {
            mode: if js.stream { Mode::Stream } else { Mode::Send },
            url: js.url,
            base_url: js.base_url,
            api_key: js.api_key,
            send_token: js.send_token,
            refresh_token: js.refresh_token,
            has_auth: js.has_auth,
            response_format: js.response_format,
            request_hooks: js.request_hooks,
            response_hooks: js.response_hooks,
            wire: js.wire.map(Wire::try_from).transpose()?,
        })
    }
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
        code: failure.code.map(str::to_string),
        with_options: failure.with_options,
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
        Outcome::Response(raw) => {
            let (error_text, error_uses_body) = match raw.error_text {
                None => (None, false),
                Some(ErrorText::Text(text)) => (Some(text), false),
                Some(ErrorText::WholeBody) => (None, true),
            };
            let format = raw.format.as_str();
            let (text, data, download) = match raw.body {
                ResponseBody::Stream(download) => (None, None, Some(download_to_js(download))),
                ResponseBody::Full(body) => match format {
                    "json" | "text" => (Some(body_text(body)), None, None),
                    "blob" => (None, Some(Buffer::from(Vec::from(body))), None),
                    _ => (None, None, None),
                },
            };
            let mut headers = Vec::with_capacity(raw.headers.len() * 2);
            for (name, value) in raw.headers {
                headers.push(name);
                headers.push(value);
            }
            let response = ResponseJs {
                status: raw.status as u32,
                headers,
                request_url: raw.request_url,
                url: raw.url,
                duration: raw.duration_ms,
                format: format.to_string(),
                text,
                data,
                error_text,
                error_uses_body,
                download,
            };
            ("response", Some(response), None)
        }
        Outcome::Failure(failure) => ("failure", None, Some(failure_to_js(failure))),
        Outcome::JsValue => ("jsValue", None, None),
        Outcome::JsError => ("jsError", None, None),
    };
    SettledJs {
        kind: kind.to_string(),
        response,
        failure,
        patch,
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
