//! How a `send()` body is decoded: by `responseFormat`, else by content type.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    None,
    Blob,
    Json,
    Text,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::None => "none",
            BodyFormat::Blob => "blob",
            BodyFormat::Json => "json",
            BodyFormat::Text => "text",
        }
    }

    /// `Err(value)` for a `responseFormat` balena-request rejects.
    pub fn decide(
        response_format: Option<&str>,
        content_type: Option<&str>,
    ) -> Result<Self, String> {
        let ct = content_type.unwrap_or("");
        match response_format {
            Some("none") => Ok(BodyFormat::None),
            Some("blob") => Ok(BodyFormat::Blob),
            Some("json") => Ok(BodyFormat::Json),
            Some("text") => Ok(BodyFormat::Text),
            Some(other) => Err(other.to_string()),
            None if ct.contains("binary/octet-stream") => Ok(BodyFormat::Blob),
            None if ct.contains("application/json") => Ok(BodyFormat::Json),
            None => Ok(BodyFormat::Text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_format_wins() {
        assert_eq!(
            BodyFormat::decide(Some("text"), Some("application/json")),
            Ok(BodyFormat::Text)
        );
        assert_eq!(BodyFormat::decide(Some("none"), None), Ok(BodyFormat::None));
        assert_eq!(BodyFormat::decide(Some("xml"), None), Err("xml".into()));
    }

    #[test]
    fn sniffed_from_content_type() {
        assert_eq!(
            BodyFormat::decide(None, Some("application/json; charset=utf-8")),
            Ok(BodyFormat::Json)
        );
        assert_eq!(
            BodyFormat::decide(None, Some("binary/octet-stream")),
            Ok(BodyFormat::Blob)
        );
        assert_eq!(
            BodyFormat::decide(None, Some("application/octet-stream")),
            Ok(BodyFormat::Text)
        );
        assert_eq!(BodyFormat::decide(None, None), Ok(BodyFormat::Text));
    }
}
