//! `mime({ mime, accept })` (rest.js): request bodies encoded by their
//! Content-Type, responses decoded by theirs. The decisions are pure
//! functions here; the body values themselves are JS values the binding
//! holds, so the binding encodes with `encode` and the exchange decodes with
//! `decode` as `PolicyResponse::decode_as` says.
//!
//! The policy itself gives a request with a body and no Content-Type the
//! configured `mime`, asks for `accept` (or, with only `mime`, rest.js's
//! `<mime>, application/json;q=0.8, text/plain;q=0.5, */*;q=0.2`) when the
//! request has no Accept, and marks how the response is to be decoded.

use super::config_value::{field, options, string};
use super::{Next, Policy, PolicyBody, PolicyFuture, PolicyRequest};
use bytes::Bytes;
use serde_json::{Map, Value};

const NAME: &str = "mime";

/// How a request body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    FormUrlEncoded,
    Text,
    /// Bytes as given (no encoding we know).
    Raw,
}

/// How a response body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoding {
    Json,
    FormUrlEncoded,
    Text,
    Bytes,
}

/// The media type without parameters, lower case: `application/json` of
/// `Application/JSON; charset=utf-8`.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(essence: &str) -> bool {
    essence == "application/json" || essence.ends_with("+json")
}

pub fn request_encoding(content_type: Option<&str>) -> Encoding {
    let Some(essence) = content_type.map(essence) else {
        return Encoding::Raw;
    };
    if is_json(&essence) {
        Encoding::Json
    } else if essence == "application/x-www-form-urlencoded" {
        Encoding::FormUrlEncoded
    } else if essence.starts_with("text/") {
        Encoding::Text
    } else {
        Encoding::Raw
    }
}

/// By `override_mime` when given (a server that labels JSON `text/plain`),
/// else by the response's Content-Type.
pub fn response_decoding(content_type: Option<&str>, override_mime: Option<&str>) -> Decoding {
    let Some(essence) = override_mime.or(content_type).map(essence) else {
        return Decoding::Bytes;
    };
    if is_json(&essence) {
        Decoding::Json
    } else if essence == "application/x-www-form-urlencoded" {
        Decoding::FormUrlEncoded
    } else if essence.starts_with("text/") {
        Decoding::Text
    } else {
        Decoding::Bytes
    }
}

/// A body value written as `encoding` says. Forms take an object whose
/// values are strings, numbers, booleans or arrays of them (a key repeated
/// per item, as rest.js's form converter writes arrays).
pub fn encode(value: &Value, encoding: Encoding) -> Result<Bytes, String> {
    match encoding {
        Encoding::Json => serde_json::to_vec(value)
            .map(Bytes::from)
            .map_err(|e| format!("{NAME}: the body cannot be written as JSON: {e}")),
        Encoding::FormUrlEncoded => {
            let object = value
                .as_object()
                .ok_or_else(|| format!("{NAME}: a form body must be an object, got {value}"))?;
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (name, item) in object {
                let items = match item {
                    Value::Array(items) => items.as_slice(),
                    single => std::slice::from_ref(single),
                };
                for item in items {
                    form.append_pair(name, &form_text(name, item)?);
                }
            }
            Ok(Bytes::from(form.finish()))
        }
        Encoding::Text | Encoding::Raw => match value {
            Value::String(text) => Ok(Bytes::from(text.clone())),
            other => Ok(Bytes::from(other.to_string())),
        },
    }
}

fn form_text(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(_) | Value::Bool(_) => Ok(value.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(format!(
            "{NAME}: form field `{name}` must be a string, number or boolean, got {other}"
        )),
    }
}

/// A response body read as `decoding` says: JSON parsed, a form as an
/// object (a repeated key becomes an array), text as a string; bytes are
/// not a JSON value, so they are `None` (the exchange keeps them).
pub fn decode(body: &[u8], decoding: Decoding) -> Result<Option<Value>, String> {
    match decoding {
        Decoding::Json => serde_json::from_slice(body)
            .map(Some)
            .map_err(|e| format!("{NAME}: the response is not JSON: {e}")),
        Decoding::FormUrlEncoded => {
            let mut object = Map::new();
            for (name, value) in url::form_urlencoded::parse(body) {
                let value = Value::String(value.into_owned());
                match object.get_mut(name.as_ref()) {
                    Some(Value::Array(items)) => items.push(value),
                    Some(first) => *first = Value::Array(vec![first.take(), value]),
                    None => {
                        object.insert(name.into_owned(), value);
                    }
                }
            }
            Ok(Some(Value::Object(object)))
        }
        Decoding::Text => Ok(Some(Value::String(
            String::from_utf8_lossy(body).into_owned(),
        ))),
        Decoding::Bytes => Ok(None),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub mime: Option<String>,
    pub accept: Option<String>,
}

impl Config {
    pub fn from_json(value: &Value) -> Result<Config, String> {
        let options = options(NAME, value)?;
        Ok(Config {
            mime: string(NAME, "mime", field(options, "mime"))?,
            accept: string(NAME, "accept", field(options, "accept"))?,
        })
    }

    pub fn accept_header(&self) -> Option<String> {
        self.accept.clone().or_else(|| {
            self.mime
                .as_ref()
                .map(|mime| format!("{mime}, application/json;q=0.8, text/plain;q=0.5, */*;q=0.2"))
        })
    }
}

pub struct Mime {
    config: Config,
    accept: Option<String>,
}

impl Mime {
    pub fn new(config: Config) -> Mime {
        let accept = config.accept_header();
        Mime { config, accept }
    }
}

impl Policy for Mime {
    fn name(&self) -> &str {
        NAME
    }

    fn send<'a>(&'a self, mut request: PolicyRequest, next: Next<'a>) -> PolicyFuture<'a> {
        if !matches!(request.body, PolicyBody::None) {
            if let Some(mime) = &self.config.mime {
                request.headers.set_if_absent("Content-Type", mime.clone());
            }
        }
        if let Some(accept) = &self.accept {
            request.headers.set_if_absent("Accept", accept.clone());
        }
        Box::pin(async move {
            let mut response = next.run(request).await?;
            response.decode_as = Some(response_decoding(
                response.headers.get("content-type"),
                None,
            ));
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{one, Script, TestResult};
    use super::super::PolicyResponse;
    use super::*;
    use serde_json::json;

    #[test]
    fn request_encoding_by_content_type() {
        assert_eq!(request_encoding(Some("application/json")), Encoding::Json);
        assert_eq!(
            request_encoding(Some("Application/JSON; charset=utf-8")),
            Encoding::Json
        );
        assert_eq!(
            request_encoding(Some("application/merge-patch+json")),
            Encoding::Json
        );
        assert_eq!(
            request_encoding(Some("application/x-www-form-urlencoded")),
            Encoding::FormUrlEncoded
        );
        assert_eq!(request_encoding(Some("text/csv")), Encoding::Text);
        assert_eq!(
            request_encoding(Some("application/octet-stream")),
            Encoding::Raw
        );
        assert_eq!(request_encoding(None), Encoding::Raw);
    }

    #[test]
    fn response_decoding_by_type_or_override() {
        assert_eq!(
            response_decoding(Some("application/json"), None),
            Decoding::Json
        );
        assert_eq!(
            response_decoding(Some("text/plain"), Some("application/json")),
            Decoding::Json
        );
        assert_eq!(
            response_decoding(Some("text/html; charset=utf-8"), None),
            Decoding::Text
        );
        assert_eq!(response_decoding(Some("image/png"), None), Decoding::Bytes);
        assert_eq!(response_decoding(None, None), Decoding::Bytes);
    }

    #[test]
    fn encodes_json_forms_and_text() -> TestResult {
        assert_eq!(
            encode(&json!({ "a": [1, "x"] }), Encoding::Json)?,
            Bytes::from(r#"{"a":[1,"x"]}"#)
        );
        assert_eq!(
            encode(
                &json!({ "q": "a b&c", "n": 2, "t": [true, "é"] }),
                Encoding::FormUrlEncoded
            )?,
            Bytes::from("q=a+b%26c&n=2&t=true&t=%C3%A9")
        );
        assert!(encode(&json!([1]), Encoding::FormUrlEncoded).is_err());
        assert!(encode(&json!({ "o": {} }), Encoding::FormUrlEncoded).is_err());
        assert_eq!(
            encode(&json!("plain"), Encoding::Text)?,
            Bytes::from("plain")
        );
        assert_eq!(encode(&json!(12), Encoding::Text)?, Bytes::from("12"));
        Ok(())
    }

    #[test]
    fn decodes_json_forms_and_text() -> TestResult {
        assert_eq!(
            decode(br#"{"a":1}"#, Decoding::Json)?,
            Some(json!({ "a": 1 }))
        );
        assert!(decode(b"{", Decoding::Json).is_err());
        assert_eq!(
            decode(b"a=1&b=x+y&a=2", Decoding::FormUrlEncoded)?,
            Some(json!({ "a": ["1", "2"], "b": "x y" }))
        );
        assert_eq!(decode(b"hi", Decoding::Text)?, Some(json!("hi")));
        assert_eq!(decode(b"\x00", Decoding::Bytes)?, None);
        Ok(())
    }

    #[test]
    fn config_types_and_accept() -> TestResult {
        assert_eq!(Config::from_json(&json!({}))?.accept_header(), None);
        assert_eq!(
            Config::from_json(&json!({ "mime": "application/json" }))?
                .accept_header()
                .as_deref(),
            Some("application/json, application/json;q=0.8, text/plain;q=0.5, */*;q=0.2")
        );
        assert_eq!(
            Config::from_json(&json!({ "mime": "a/b", "accept": "x/y" }))?
                .accept_header()
                .as_deref(),
            Some("x/y")
        );
        assert_eq!(
            Config::from_json(&json!({ "accept": 1 })).err(),
            Some("mime: `accept` must be a string, got 1".into())
        );
        Ok(())
    }

    #[tokio::test]
    async fn sets_headers_the_request_lacks_and_marks_the_decoding() -> TestResult {
        let policies = one(Mime::new(Config::from_json(
            &json!({ "mime": "application/json" }),
        )?));
        let mut json_response = PolicyResponse::new(200);
        json_response
            .headers
            .set("Content-Type", "application/json; charset=utf-8");
        let script = Script::new(vec![Ok(json_response), Ok(PolicyResponse::new(200))]);

        let mut with_body = PolicyRequest::new("POST", "/");
        with_body.body = PolicyBody::Bytes(Bytes::from_static(b"{}"));
        let response = script.run(&policies, with_body).await?;
        assert_eq!(response.decode_as, Some(Decoding::Json));

        let mut own = PolicyRequest::new("GET", "/");
        own.headers.set("accept", "text/csv");
        let response = script.run(&policies, own).await?;
        assert_eq!(response.decode_as, Some(Decoding::Bytes));

        let seen = script.requests()?;
        assert_eq!(
            seen[0].headers.get("Content-Type"),
            Some("application/json")
        );
        assert!(seen[0]
            .headers
            .get("Accept")
            .is_some_and(|a| a.starts_with("application/json, ")));
        assert_eq!(seen[1].headers.get("Content-Type"), None);
        assert_eq!(seen[1].headers.get("Accept"), Some("text/csv"));
        Ok(())
    }
}
