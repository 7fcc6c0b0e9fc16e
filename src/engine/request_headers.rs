//! The request header lines a server sees, made the same as upstream's.
//!
//! balena-request sends `send()` through Node's `fetch` (undici) and
//! `stream()` through node-fetch 2. Both keep headers in a `Headers` object:
//! a name given twice in any letter case becomes one line, its values joined
//! with ", " (a caller's `authorization` next to the saved token's
//! `Authorization`, say). Both then add headers of their own when the caller
//! did not give them; those are listed here, as measured on Node 20.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Which of upstream's HTTP clients a call stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// `send()`: Node's `fetch`.
    Fetch,
    /// `stream()`: node-fetch 2 on Node's global agent (keep-alive since Node 19).
    NodeFetch,
}

/// Headers the client adds only when the request has none of that name.
const FETCH_DEFAULTS: &[(&str, &str)] = &[
    ("connection", "keep-alive"),
    ("accept", "*/*"),
    ("accept-language", "*"),
    ("user-agent", "node"),
];

const NODE_FETCH_DEFAULTS: &[(&str, &str)] = &[
    ("accept", "*/*"),
    (
        "user-agent",
        "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    ),
    ("connection", "keep-alive"),
];

/// `Headers.append`: a second value for a name joins the first one's line.
pub fn append(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) {
    let joined = match headers.get(&name) {
        None => None,
        Some(existing) => {
            let mut bytes = Vec::with_capacity(existing.len() + 2 + value.len());
            bytes.extend_from_slice(existing.as_bytes());
            bytes.extend_from_slice(b", ");
            bytes.extend_from_slice(value.as_bytes());
            // Both parts are valid header values, and ", " is too.
            HeaderValue::from_bytes(&bytes).ok()
        }
    };
    headers.insert(name, joined.unwrap_or(value));
}

/// Adds the headers upstream's client would add to this request.
pub fn add_client_defaults(headers: &mut HeaderMap, flavour: Flavour) {
    let defaults = match flavour {
        Flavour::Fetch => FETCH_DEFAULTS,
        Flavour::NodeFetch => NODE_FETCH_DEFAULTS,
    };
    for (name, value) in defaults {
        if !headers.contains_key(*name) {
            headers.insert(*name, HeaderValue::from_static(value));
        }
    }
    if flavour == Flavour::Fetch {
        // fetch sets the request's mode whatever the caller wrote.
        headers.insert("sec-fetch-mode", HeaderValue::from_static("cors"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn a_name_given_twice_becomes_one_line() -> TestResult {
        let mut h = HeaderMap::new();
        append(
            &mut h,
            HeaderName::from_bytes(b"authorization")?,
            HeaderValue::from_static("Bearer mine"),
        );
        append(
            &mut h,
            HeaderName::from_bytes(b"Authorization")?,
            HeaderValue::from_static("Bearer saved"),
        );
        assert_eq!(h.get_all("authorization").iter().count(), 1);
        assert_eq!(
            value(&h, "authorization"),
            Some("Bearer mine, Bearer saved")
        );
        Ok(())
    }

    #[test]
    fn fetch_defaults_yield_to_the_caller_except_the_mode() -> TestResult {
        let mut h = HeaderMap::new();
        h.insert("user-agent", HeaderValue::from_static("me"));
        h.insert("sec-fetch-mode", HeaderValue::from_static("navigate"));
        add_client_defaults(&mut h, Flavour::Fetch);
        assert_eq!(value(&h, "user-agent"), Some("me"));
        assert_eq!(value(&h, "sec-fetch-mode"), Some("cors"));
        assert_eq!(value(&h, "accept-language"), Some("*"));
        assert_eq!(value(&h, "connection"), Some("keep-alive"));
        Ok(())
    }

    #[test]
    fn node_fetch_defaults() -> TestResult {
        let mut h = HeaderMap::new();
        h.insert("accept", HeaderValue::from_static("x/y"));
        add_client_defaults(&mut h, Flavour::NodeFetch);
        assert_eq!(value(&h, "accept"), Some("x/y"));
        assert!(value(&h, "user-agent").is_some_and(|ua| ua.starts_with("node-fetch/1.0")));
        assert_eq!(value(&h, "sec-fetch-mode"), None);
        assert_eq!(value(&h, "accept-language"), None);
        Ok(())
    }
}
