//! Which proxy, if any, carries a request. The rules are the ones reqwest
//! applied on its own until now (hyper-util's, which follow curl):
//! `HTTP_PROXY` for `http:` targets, `HTTPS_PROXY` for `https:` targets,
//! `ALL_PROXY` for either when the specific one is unset; each upper-case
//! name before its lower-case one; `NO_PROXY` (then `no_proxy`) lists hosts
//! that go direct; nothing at all when `REQUEST_METHOD` says we run as CGI
//! (where `HTTP_PROXY` could come from a request header, "httpoxy").
//! Deciding it here rather than inside reqwest lets the transport say which
//! proxy a failed request went through.

use hyper_util::client::proxy::matcher::Matcher;
use url::Url;

pub struct ProxyRoutes {
    matcher: Matcher,
    /// The configured proxies as written, credentials included, in the
    /// order they apply to `http:` and to `https:` targets.
    for_http: Vec<Url>,
    for_https: Vec<Url>,
}

impl ProxyRoutes {
    /// Reads the environment; call it when the client is made.
    pub fn from_env() -> ProxyRoutes {
        ProxyRoutes::from_vars(|name| std::env::var(name).ok())
    }

    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> ProxyRoutes {
        if var("REQUEST_METHOD").is_some() {
            return ProxyRoutes::none();
        }
        let first = |names: [&str; 2]| names.iter().find_map(|name| var(name)).unwrap_or_default();
        let no_proxy = first(["NO_PROXY", "no_proxy"]);
        // hyper-util applies `*` to host names only, not to IP addresses;
        // curl (and the README) promise that `*` turns proxies off.
        if no_proxy.split(',').any(|entry| entry.trim() == "*") {
            return ProxyRoutes::none();
        }
        let all = first(["ALL_PROXY", "all_proxy"]);
        let http = first(["HTTP_PROXY", "http_proxy"]);
        let https = first(["HTTPS_PROXY", "https_proxy"]);
        let matcher = Matcher::builder()
            .all(all.as_str())
            .http(http.as_str())
            .https(https.as_str())
            .no(no_proxy)
            .build();
        let configured = |values: [&str; 2]| values.iter().filter_map(|v| parse(v)).collect();
        ProxyRoutes {
            matcher,
            for_http: configured([&http, &all]),
            for_https: configured([&https, &all]),
        }
    }

    fn none() -> ProxyRoutes {
        ProxyRoutes {
            matcher: Matcher::builder().build(),
            for_http: Vec::new(),
            for_https: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.for_http.is_empty() && self.for_https.is_empty()
    }

    /// The proxy for `target`, with its credentials, or `None` to go direct.
    pub fn proxy_for(&self, target: &Url) -> Option<Url> {
        if self.is_empty() {
            return None;
        }
        let uri = target.as_str().parse::<http::Uri>().ok()?;
        let chosen = self.matcher.intercept(&uri)?;
        let candidates = match target.scheme() {
            "https" => &self.for_https,
            _ => &self.for_http,
        };
        // The matcher answers without credentials; take the configured URL
        // it stands for.
        let chosen_uri = chosen.uri();
        candidates
            .iter()
            .find(|url| {
                Some(url.scheme()) == chosen_uri.scheme_str()
                    && url.host_str() == chosen_uri.host()
                    && url.port_or_known_default() == port_or_default(chosen_uri)
            })
            .cloned()
    }

    /// What reqwest asks for every connection it opens.
    pub fn into_reqwest(self: std::sync::Arc<Self>) -> reqwest::Proxy {
        reqwest::Proxy::custom(move |target| self.proxy_for(target))
    }
}

/// A proxy as an error message may show it: scheme, host and port, never
/// the credentials.
pub fn shown(proxy: &Url) -> String {
    let host = proxy.host_str().unwrap_or_default();
    match proxy.port() {
        Some(port) => format!("{}://{host}:{port}", proxy.scheme()),
        None => format!("{}://{host}", proxy.scheme()),
    }
}

/// A variable's value as a URL; like curl, a value without a scheme means
/// an HTTP proxy.
fn parse(value: &str) -> Option<Url> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.contains("://") {
        Url::parse(value).ok()
    } else {
        Url::parse(&format!("http://{value}")).ok()
    }
}

fn port_or_default(uri: &http::Uri) -> Option<u16> {
    uri.port_u16().or(match uri.scheme_str() {
        Some("http") => Some(80),
        Some("https") => Some(443),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn routes(vars: &[(&str, &str)]) -> ProxyRoutes {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProxyRoutes::from_vars(|name| vars.get(name).cloned())
    }

    /// The proxy chosen for `target`, shown with credentials.
    fn via(routes: &ProxyRoutes, target: &str) -> Result<Option<String>, url::ParseError> {
        Ok(routes
            .proxy_for(&Url::parse(target)?)
            .map(|u| u.as_str().trim_end_matches('/').to_owned()))
    }

    #[test]
    fn each_scheme_has_its_own_variable() -> TestResult {
        let r = routes(&[("HTTP_PROXY", "http://p1:3128")]);
        assert_eq!(
            via(&r, "http://api.test/v7")?.as_deref(),
            Some("http://p1:3128")
        );
        assert_eq!(via(&r, "https://api.test/v7")?, None);
        let r = routes(&[("HTTPS_PROXY", "http://p2:3128")]);
        assert_eq!(via(&r, "http://api.test/")?, None);
        assert_eq!(
            via(&r, "https://api.test/")?.as_deref(),
            Some("http://p2:3128")
        );
        Ok(())
    }

    #[test]
    fn all_proxy_serves_both_unless_a_specific_one_is_set() -> TestResult {
        let r = routes(&[("ALL_PROXY", "http://all:1"), ("HTTPS_PROXY", "http://s:2")]);
        assert_eq!(via(&r, "http://a.test/")?.as_deref(), Some("http://all:1"));
        assert_eq!(via(&r, "https://a.test/")?.as_deref(), Some("http://s:2"));
        Ok(())
    }

    #[test]
    fn upper_case_names_come_first() -> TestResult {
        let r = routes(&[
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:2"),
        ]);
        assert_eq!(
            via(&r, "http://a.test/")?.as_deref(),
            Some("http://upper:1")
        );
        let r = routes(&[("https_proxy", "http://lower:2")]);
        assert_eq!(
            via(&r, "https://a.test/")?.as_deref(),
            Some("http://lower:2")
        );
        Ok(())
    }

    #[test]
    fn no_proxy_sends_listed_hosts_direct() -> TestResult {
        let r = routes(&[
            ("HTTPS_PROXY", "http://p:1"),
            (
                "NO_PROXY",
                "internal.test, .corp.test,10.0.0.0/8 ,192.168.1.7,::1",
            ),
        ]);
        for direct in [
            "https://internal.test/",
            "https://api.internal.test/",
            "https://corp.test/",
            "https://x.corp.test:8443/",
            "https://10.1.2.3/",
            "https://192.168.1.7/",
            "https://[::1]:9/",
        ] {
            assert_eq!(via(&r, direct)?, None, "{direct}");
        }
        for proxied in [
            "https://notinternal.test/",
            "https://11.0.0.1/",
            "https://192.168.1.8/",
        ] {
            assert!(via(&r, proxied)?.is_some(), "{proxied}");
        }
        Ok(())
    }

    #[test]
    fn a_star_in_no_proxy_turns_proxies_off() -> TestResult {
        for name in ["NO_PROXY", "no_proxy"] {
            let r = routes(&[("ALL_PROXY", "http://p:1"), (name, "*")]);
            assert_eq!(via(&r, "http://a.test/")?, None);
            assert_eq!(via(&r, "https://127.0.0.1:8443/")?, None);
            assert!(r.is_empty());
        }
        let r = routes(&[("ALL_PROXY", "http://p:1"), ("NO_PROXY", "a.test, *")]);
        assert!(r.is_empty());
        Ok(())
    }

    #[test]
    fn upper_case_no_proxy_comes_first() -> TestResult {
        let r = routes(&[
            ("HTTP_PROXY", "http://p:1"),
            ("NO_PROXY", "a.test"),
            ("no_proxy", "*"),
        ]);
        assert_eq!(via(&r, "http://a.test/")?, None);
        assert!(via(&r, "http://b.test/")?.is_some());
        Ok(())
    }

    #[test]
    fn credentials_are_kept_for_the_proxy_but_never_shown() -> TestResult {
        let r = routes(&[("HTTPS_PROXY", "http://me:s%40cret@p.test:3128")]);
        let proxy = r
            .proxy_for(&Url::parse("https://api.test/")?)
            .ok_or("not proxied")?;
        assert_eq!(proxy.username(), "me");
        assert_eq!(proxy.password(), Some("s%40cret"));
        assert_eq!(shown(&proxy), "http://p.test:3128");
        Ok(())
    }

    #[test]
    fn a_value_without_a_scheme_is_an_http_proxy() -> TestResult {
        let r = routes(&[("HTTP_PROXY", "p.test:3128")]);
        assert_eq!(
            via(&r, "http://a.test/")?.as_deref(),
            Some("http://p.test:3128")
        );
        Ok(())
    }

    #[test]
    fn nothing_is_proxied_under_cgi() -> TestResult {
        let r = routes(&[("HTTP_PROXY", "http://p:1"), ("REQUEST_METHOD", "GET")]);
        assert!(r.is_empty());
        assert_eq!(via(&r, "http://a.test/")?, None);
        Ok(())
    }

    #[test]
    fn no_variables_no_proxy() -> TestResult {
        let r = routes(&[("NO_PROXY", "a.test"), ("HTTP_PROXY", "")]);
        assert!(r.is_empty());
        assert_eq!(via(&r, "http://b.test/")?, None);
        Ok(())
    }

    /// Through a real client: what a proxy on a loopback socket receives and
    /// what the caller is told when it fails.
    mod through_the_transport {
        use super::*;
        use crate::engine::transport::{OutgoingBody, OutgoingRequest, Transport, TransportError};
        use reqwest::header::HeaderMap;
        use reqwest::Method;
        use std::io::{Read, Write};
        use std::net::TcpListener;
        use std::time::Duration;

        // "me:s@cret" in Basic auth.
        const AUTH: &str = "Proxy-Authorization: Basic bWU6c0BjcmV0";

        fn transport(proxy_port: u16) -> Result<Transport, String> {
            let proxy = format!("http://me:s%40cret@127.0.0.1:{proxy_port}");
            Transport::with_proxies(routes(&[
                ("HTTP_PROXY", proxy.as_str()),
                ("HTTPS_PROXY", proxy.as_str()),
            ]))
        }

        fn get(url: &str) -> Result<OutgoingRequest, url::ParseError> {
            Ok(OutgoingRequest {
                method: Method::GET,
                url: Url::parse(url)?,
                headers: HeaderMap::new(),
                body: OutgoingBody::Empty,
                follow_redirects: false,
                retries: 0,
            })
        }

        /// A one-shot proxy: reads one request head, answers `reply`, and
        /// returns the head it read.
        fn proxy_answering(
            reply: &'static str,
        ) -> std::io::Result<(u16, std::thread::JoinHandle<std::io::Result<String>>)> {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let port = listener.local_addr()?.port();
            let handle = std::thread::spawn(move || {
                let (mut socket, _) = listener.accept()?;
                socket.set_read_timeout(Some(Duration::from_secs(5)))?;
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.ends_with(b"\r\n\r\n") {
                    let n = socket.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                socket.write_all(reply.as_bytes())?;
                Ok(String::from_utf8_lossy(&head).into_owned())
            });
            Ok((port, handle))
        }

        /// The reason as the caller reads it (lib/errors.js appends the proxy).
        fn reason(err: &TransportError) -> String {
            match err {
                TransportError::Network(net) => match &net.proxy {
                    Some(proxy) => format!("{} (proxy {proxy})", net.text),
                    None => net.text.clone(),
                },
                other => format!("not a network error: {other}"),
            }
        }

        #[tokio::test]
        async fn a_refused_proxy_is_named_without_its_credentials() -> TestResult {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let transport = transport(port)?;
            for target in ["http://127.0.0.1:9/v7/device", "https://127.0.0.1:9/"] {
                let err = match transport.send(&get(target)?).await {
                    Ok(_) => return Err("a refused proxy answered".into()),
                    Err(err) => err,
                };
                let reason = reason(&err);
                assert!(
                    reason.ends_with(&format!(" (proxy http://127.0.0.1:{port})")),
                    "{reason}"
                );
                let message = err.to_string();
                assert!(message.starts_with(&format!("request to {target} failed")));
                assert!(
                    !message.contains("cret") && !message.contains("me:"),
                    "{message}"
                );
            }
            Ok(())
        }

        #[tokio::test]
        async fn a_refused_connect_is_an_error_naming_the_proxy() -> TestResult {
            let (port, proxy) = proxy_answering("HTTP/1.1 403 Forbidden\r\n\r\n")?;
            let result = transport(port)?.send(&get("https://127.0.0.1:9/x")?).await;
            let head = tokio::task::spawn_blocking(move || proxy.join())
                .await?
                .map_err(|_| "proxy thread panicked")??;
            assert!(
                head.starts_with("CONNECT 127.0.0.1:9 HTTP/1.1\r\n"),
                "{head}"
            );
            assert!(head.contains(AUTH), "{head}");
            let err = result.err().ok_or("a 403 CONNECT made a tunnel")?;
            assert!(
                reason(&err).ends_with(&format!(" (proxy http://127.0.0.1:{port})")),
                "{err}"
            );
            Ok(())
        }

        #[tokio::test]
        async fn http_targets_go_to_the_proxy_in_absolute_form() -> TestResult {
            let (port, proxy) = proxy_answering("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")?;
            let response = transport(port)?
                .send(&get("http://127.0.0.1:9/v7/device?x=1")?)
                .await
                .map_err(|e| e.to_string())?;
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(response.bytes().await?.as_ref(), b"ok");
            let head = tokio::task::spawn_blocking(move || proxy.join())
                .await?
                .map_err(|_| "proxy thread panicked")??;
            assert!(
                head.starts_with("GET http://127.0.0.1:9/v7/device?x=1 HTTP/1.1\r\n"),
                "{head}"
            );
            assert!(
                head.to_ascii_lowercase()
                    .contains(&AUTH.to_ascii_lowercase()),
                "{head}"
            );
            Ok(())
        }
    }
}
