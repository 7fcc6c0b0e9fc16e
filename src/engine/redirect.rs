//! Following redirects ourselves (reqwest's policy is per client, our
//! `followRedirect` is per request), with fetch's rules: 303, and 301/302 after
//! a POST, become a body-less GET; credentials never go to another origin.

use reqwest::header::{
    HeaderMap, HeaderName, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, PROXY_AUTHORIZATION,
};
use reqwest::Method;
use url::Url;

/// fetch's limit.
pub const MAX_REDIRECTS: usize = 20;

pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The method of the next hop, and whether the body goes with it.
pub fn next_method(status: u16, method: &Method) -> (Method, bool) {
    let to_get = (status == 303 && *method != Method::HEAD)
        || ((status == 301 || status == 302) && *method == Method::POST);
    if to_get {
        (Method::GET, false)
    } else {
        (method.clone(), true)
    }
}

/// Request headers that carry credentials: they never go to another origin
/// (also the `location` policy's rule: `pipeline/policies/location.rs`).
pub const CREDENTIAL_HEADERS: [HeaderName; 3] = [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION];

/// Request headers that describe the body: dropped with it.
pub const BODY_HEADERS: [HeaderName; 2] = [CONTENT_TYPE, CONTENT_LENGTH];

/// Adjusts the headers for the next hop.
pub fn next_headers(headers: &mut HeaderMap, from: &Url, to: &Url, keeps_body: bool) {
    if from.origin() != to.origin() {
        for name in &CREDENTIAL_HEADERS {
            headers.remove(name);
        }
    }
    if !keeps_body {
        for name in &BODY_HEADERS {
            headers.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn methods() -> TestResult {
        assert_eq!(next_method(303, &Method::PUT), (Method::GET, false));
        assert_eq!(next_method(302, &Method::POST), (Method::GET, false));
        assert_eq!(next_method(307, &Method::POST), (Method::POST, true));
        assert_eq!(next_method(301, &Method::GET), (Method::GET, true));
        Ok(())
    }

    #[test]
    fn credentials_stay_on_their_origin() -> TestResult {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            reqwest::header::HeaderValue::from_static("Bearer x"),
        );
        let a = Url::parse("http://127.0.0.1:1/a")?;
        let b = Url::parse("http://127.0.0.1:1/b")?;
        let c = Url::parse("http://localhost:1/b")?;
        next_headers(&mut h, &a, &b, true);
        assert!(h.contains_key(AUTHORIZATION));
        next_headers(&mut h, &a, &c, true);
        assert!(!h.contains_key(AUTHORIZATION));
        Ok(())
    }
}
