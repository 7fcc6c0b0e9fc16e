//! Header bytes as JavaScript sees them. HTTP header values are bytes; Node,
//! fetch and `Headers` read and write them as Latin-1, one byte one
//! character (a `filename="café"` an old server writes as the byte 0xE9
//! reads as `é`, and goes back out as 0xE9). UTF-8 would turn such a byte
//! into U+FFFD, which `Headers` then refuses.

/// Each byte as the character of the same number.
pub fn decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&byte| char::from(byte)).collect()
}

/// Each character as one byte; `None` if one is above U+00FF.
pub fn encode(text: &str) -> Option<Vec<u8>> {
    text.chars().map(|c| u8::try_from(c).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_above_ascii_round_trip() {
        let bytes = b"attachment; filename=\"caf\xe9.txt\"";
        let text = decode(bytes);
        assert_eq!(text, "attachment; filename=\"café.txt\"");
        assert_eq!(encode(&text).as_deref(), Some(&bytes[..]));
    }

    #[test]
    fn characters_above_latin1_do_not_encode() {
        assert_eq!(encode("snow \u{2603}"), None);
        assert_eq!(encode("plain").as_deref(), Some(&b"plain"[..]));
    }
}
