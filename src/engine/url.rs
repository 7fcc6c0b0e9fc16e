//! URL building, as balena-request does it: WHATWG URL resolution (the `url`
//! crate implements the same standard as Node's `URL`) is the only encoding
//! applied, so OData text such as `$filter=name eq 'x'` reaches the server as
//! `$filter=name%20eq%20%27x%27` and never as `%24filter`.

use std::fmt;

pub use ::url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidUrl(pub String);

impl fmt::Display for InvalidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid URL: {}", self.0)
    }
}

impl std::error::Error for InvalidUrl {}

/// `new URL(url, base)`; without a base, `new URL(url)`.
pub fn parse_with_base(url: &str, base: Option<&str>) -> Result<Url, InvalidUrl> {
    match base {
        Some(base) => {
            let base_url = Url::parse(base).map_err(|_| InvalidUrl(base.to_string()))?;
            base_url.join(url).map_err(|_| InvalidUrl(url.to_string()))
        }
        None => Url::parse(url).map_err(|_| InvalidUrl(url.to_string())),
    }
}

/// `URL.canParse(url)`: absolute URLs win over `baseUrl`.
pub fn is_absolute(url: &str) -> bool {
    Url::parse(url).is_ok()
}

/// Appends `apikey=<key>` to the URL text raw, with `?` or `&` as the URL
/// needs. The rest of the text is left exactly as it was written, so existing
/// query text is never re-encoded.
pub fn append_api_key(url: &str, base: Option<&str>, key: &str) -> Result<String, InvalidUrl> {
    let base = if is_absolute(url) { None } else { base };
    let parsed = parse_with_base(url, base)?;
    let has_search = parsed.query().is_some_and(|q| !q.is_empty());
    let separator = if has_search {
        "&"
    } else if parsed.as_str().ends_with('?') {
        ""
    } else {
        "?"
    };
    Ok(format!("{url}{separator}apikey={key}"))
}

/// The URL a request goes to: `url` resolved against a non-empty `baseUrl`,
/// then the serialised `qs` appended with `?` or `&` (as balena-request does,
/// even when the serialised text is empty).
pub fn request_url(url: &str, base: Option<&str>, qs: Option<&str>) -> Result<Url, InvalidUrl> {
    let base = base.filter(|b| !b.is_empty());
    let mut href = match base {
        Some(_) => parse_with_base(url, base)?.to_string(),
        None => url.to_string(),
    };
    if let Some(params) = qs {
        href.push(if href.contains('?') { '&' } else { '?' });
        href.push_str(params);
    }
    Url::parse(&href).map_err(|_| InvalidUrl(href.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const BASE: &str = "http://127.0.0.1:1234";

    #[test]
    fn odata_query_stays_as_whatwg_leaves_it() -> TestResult {
        let u = request_url(
            "/v7/device?$filter=name eq 'a b'&$select=id",
            Some(BASE),
            None,
        )?;
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:1234/v7/device?$filter=name%20eq%20%27a%20b%27&$select=id"
        );
        Ok(())
    }

    #[test]
    fn api_key_separator() -> TestResult {
        assert_eq!(append_api_key("/foo", Some(BASE), "k")?, "/foo?apikey=k");
        assert_eq!(
            append_api_key("/foo?$bar=baz", Some(BASE), "k")?,
            "/foo?$bar=baz&apikey=k"
        );
        assert_eq!(append_api_key("/foo?", Some(BASE), "k")?, "/foo?apikey=k");
        assert_eq!(
            append_api_key("http://x/foo", None, "k")?,
            "http://x/foo?apikey=k"
        );
        assert!(append_api_key("/foo", None, "k").is_err());
        Ok(())
    }

    #[test]
    fn absolute_wins_and_qs_appends() -> TestResult {
        assert!(is_absolute("http://a/b"));
        assert!(!is_absolute("/b"));
        let u = request_url("http://h/p?x=1", Some(BASE), Some("a=1"))?;
        assert_eq!(u.as_str(), "http://h/p?x=1&a=1");
        let u = request_url("/p", Some(BASE), Some("a%5Bb%5D=1"))?;
        assert_eq!(u.as_str(), "http://127.0.0.1:1234/p?a%5Bb%5D=1");
        Ok(())
    }

    #[test]
    fn invalid_urls_name_the_input() -> TestResult {
        let e = request_url("not a url", None, None)
            .err()
            .ok_or("expected an error")?;
        assert_eq!(e.to_string(), "Invalid URL: not a url");
        assert!(request_url("/x", Some("nope"), None).is_err());
        Ok(())
    }
}
