//! The text of a `BalenaRequestError` for an error status, from the decoded
//! body: `body.error.text`, else a string `body.message` or `body.error`,
//! else the body itself, else "The request was unsuccessful".

use super::body_format::BodyFormat;
use serde_json::Value;

pub const UNSUCCESSFUL: &str = "The request was unsuccessful";

/// Where the message comes from. `WholeBody` means the decoded body value is
/// the message (an object, a Blob): only JavaScript can hold that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorText {
    Text(String),
    WholeBody,
}

pub fn error_text(format: BodyFormat, body: &[u8]) -> ErrorText {
    match format {
        BodyFormat::None => ErrorText::Text(UNSUCCESSFUL.into()),
        BodyFormat::Blob => ErrorText::WholeBody,
        BodyFormat::Text if body.is_empty() => ErrorText::Text(UNSUCCESSFUL.into()),
        BodyFormat::Text => ErrorText::Text(String::from_utf8_lossy(body).into_owned()),
        BodyFormat::Json => match serde_json::from_slice::<Value>(body) {
            Ok(value) => from_json(&value),
            // Invalid JSON: JavaScript's JSON.parse fails the call first.
            Err(_) => ErrorText::WholeBody,
        },
    }
}

fn from_json(value: &Value) -> ErrorText {
    let falsy = match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        _ => false,
    };
    if falsy {
        return ErrorText::Text(UNSUCCESSFUL.into());
    }
    if let Some(text) = value.get("error").and_then(|e| e.get("text")) {
        if !text.is_null() {
            return match text {
                Value::String(s) => ErrorText::Text(s.clone()),
                _ => ErrorText::WholeBody.with_value(text),
            };
        }
    }
    if value.is_object() {
        for prop in ["message", "error"] {
            if let Some(Value::String(s)) = value.get(prop) {
                return ErrorText::Text(s.clone());
            }
        }
    }
    match value {
        Value::String(s) => ErrorText::Text(s.clone()),
        _ => ErrorText::WholeBody,
    }
}

impl ErrorText {
    /// A non-string `error.text` is rare; JS prints it with `${}` the same
    /// way as its JSON form for numbers and booleans, so keep those as text.
    fn with_value(self, value: &Value) -> ErrorText {
        match value {
            Value::Number(n) => ErrorText::Text(n.to_string()),
            Value::Bool(b) => ErrorText::Text(b.to_string()),
            _ => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> ErrorText {
        ErrorText::Text(s.into())
    }

    #[test]
    fn message_sources_in_order() {
        let j = BodyFormat::Json;
        assert_eq!(
            error_text(j, br#"{"error":{"text":"a"},"message":"b"}"#),
            t("a")
        );
        assert_eq!(error_text(j, br#"{"message":"b","error":"c"}"#), t("b"));
        assert_eq!(error_text(j, br#"{"message":1,"error":"c"}"#), t("c"));
        assert_eq!(error_text(j, br#"{"other":1}"#), ErrorText::WholeBody);
        assert_eq!(error_text(j, br#""plain""#), t("plain"));
        assert_eq!(error_text(j, b"null"), t(UNSUCCESSFUL));
        assert_eq!(error_text(BodyFormat::Text, b"oops"), t("oops"));
        assert_eq!(error_text(BodyFormat::Text, b""), t(UNSUCCESSFUL));
        assert_eq!(error_text(BodyFormat::None, b"x"), t(UNSUCCESSFUL));
        assert_eq!(error_text(BodyFormat::Blob, b"x"), ErrorText::WholeBody);
    }
}
