//! What went wrong on the network, as plain data: the kind of failure and
//! the fields Node puts on the error it makes for the same situation (`code`,
//! `syscall`, `address`, `port`, `hostname`, and for TLS the text OpenSSL
//! gives). JavaScript builds the error a caller of balena-request expects from
//! this (`lib/errors.js`); the rules here only read reqwest's error chain.

use super::tls::UntrustedSelfSigned;
use rustls::pki_types::ServerName;
use rustls::{CertificateError, InvalidMessage};
use std::error::Error as StdError;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetErrorKind {
    /// A system call failed (connect ECONNREFUSED, read ECONNRESET, ...).
    System,
    /// The name did not resolve (getaddrinfo ENOTFOUND, EAI_AGAIN).
    Dns,
    /// The server closed the connection cleanly too early (no OS error).
    Closed,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// Anything else (a malformed response, a connect timeout): `text` says.
    Other,
}

impl NetErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NetErrorKind::System => "system",
            NetErrorKind::Dns => "dns",
            NetErrorKind::Closed => "closed",
            NetErrorKind::Tls => "tls",
            NetErrorKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetError {
    /// The URL of the request that failed (the redirect hop's own).
    pub url: String,
    pub kind: NetErrorKind,
    /// Node's `code`: ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, ...
    pub code: Option<&'static str>,
    /// The libuv name whose number is Node's `errno`, where it differs from
    /// `code` (getaddrinfo's EAI_NONAME for ENOTFOUND).
    pub errno_name: Option<&'static str>,
    pub syscall: Option<&'static str>,
    pub address: Option<String>,
    pub port: Option<u16>,
    /// The name that did not resolve.
    pub hostname: Option<String>,
    /// TLS: the message Node's error has; otherwise the innermost cause's text.
    pub text: String,
    /// TLS: Node's `reason` (host name mismatch, OpenSSL reason string).
    pub reason: Option<String>,
    /// TLS host name mismatch: the host that was asked for.
    pub host: Option<String>,
    /// OpenSSL library name of a protocol error ("SSL routines").
    pub library: Option<&'static str>,
    /// The failure happened while the response body was read.
    pub in_body: bool,
    /// The proxy the request went through (without credentials), so that
    /// the error can say a proxy failed rather than the API.
    pub proxy: Option<String>,
}

impl NetError {
    fn new(kind: NetErrorKind, text: String) -> NetError {
        NetError {
            url: String::new(),
            kind,
            code: None,
            errno_name: None,
            syscall: None,
            address: None,
            port: None,
            hostname: None,
            text,
            reason: None,
            host: None,
            library: None,
            in_body: false,
            proxy: None,
        }
    }

    /// A failure of our own making (`code`, `text`), which `lib/errors.js`
    /// shows as `download from <url> failed: <text>`.
    pub fn other(url: &url::Url, code: &'static str, text: String, in_body: bool) -> NetError {
        let mut net = NetError::new(NetErrorKind::Other, text);
        net.url = url.to_string();
        net.code = Some(code);
        net.in_body = in_body;
        net
    }

    /// A body that ended before its declared length: the server (or a proxy)
    /// closed early, whatever the protocol said (curl's words).
    pub fn body_cut_short(url: &url::Url, remaining: u64) -> NetError {
        let mut net = NetError::new(
            NetErrorKind::Closed,
            format!("transfer closed with {remaining} bytes remaining to read"),
        );
        net.url = url.to_string();
        net.in_body = true;
        net
    }

    /// Classifies a reqwest error for a request to `url`.
    pub fn from_reqwest(url: &url::Url, err: &reqwest::Error) -> NetError {
        let mut net = classify(url, err);
        net.url = url.to_string();
        net.in_body = err.is_body() || err.is_decode();
        if net.kind == NetErrorKind::Other && err.is_timeout() {
            net.code = Some("ETIMEDOUT");
        }
        net
    }
}

/// What the error chain holds that the rules look at.
#[derive(Default)]
struct Findings<'a> {
    tls: Option<&'a rustls::Error>,
    io: Option<&'a std::io::Error>,
    dns: bool,
    /// The address hyper-util was connecting to when connecting failed.
    connect_addr: Option<SocketAddr>,
    closed_before_head: bool,
    innermost: String,
}

/// The error chain, including what `std::io::Error` wraps: its `source()`
/// skips the wrapped error itself (which is where tokio-rustls puts the
/// `rustls::Error`), so the walk goes through `get_ref()` instead.
fn findings<'a>(err: &'a (dyn StdError + 'static)) -> Findings<'a> {
    let mut found = Findings::default();
    let mut current: Option<&'a (dyn StdError + 'static)> = Some(err);
    while let Some(error) = current {
        found.innermost = error.to_string();
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            found.tls = Some(tls);
        }
        let io = error.downcast_ref::<std::io::Error>();
        if let Some(io) = io {
            found.io = Some(io);
        }
        let text = found.innermost.as_str();
        // hyper-util's ConnectError has no public accessors: its message
        // says what failed, and its Debug form holds the address.
        if text == "dns error" {
            found.dns = true;
        } else if text == "tcp connect error" {
            found.connect_addr = connect_address(&format!("{error:?}"));
        } else if text == "connection closed before message completed" {
            found.closed_before_head = true;
        }
        current = match io {
            // hyper-rustls wraps tokio-rustls's io::Error in another one.
            Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
            None => error.source(),
        };
    }
    found
}

/// The address in `ConnectError("tcp connect error", 127.0.0.1:80, ...)`.
fn connect_address(debug: &str) -> Option<SocketAddr> {
    let rest = debug.strip_prefix("ConnectError(\"tcp connect error\", ")?;
    rest.split([',', ')']).next()?.trim().parse().ok()
}

fn classify(url: &url::Url, err: &(dyn StdError + 'static)) -> NetError {
    let found = findings(err);
    if let Some(tls) = found.tls {
        return tls_error(tls, url);
    }
    if found.dns {
        return dns_error(&found, url);
    }
    if let Some(io) = found.io {
        if io.kind() == std::io::ErrorKind::UnexpectedEof {
            return NetError::new(NetErrorKind::Closed, found.innermost);
        }
        if let Some(code) = system_code(io.kind()) {
            let mut net = NetError::new(NetErrorKind::System, found.innermost.clone());
            net.code = Some(code);
            match found.connect_addr {
                Some(addr) => {
                    net.syscall = Some("connect");
                    net.address = Some(addr.ip().to_string());
                    net.port = Some(addr.port());
                }
                None if io.kind() == std::io::ErrorKind::BrokenPipe => net.syscall = Some("write"),
                None => net.syscall = Some("read"),
            }
            return net;
        }
    }
    if found.closed_before_head {
        return NetError::new(NetErrorKind::Closed, found.innermost);
    }
    NetError::new(NetErrorKind::Other, found.innermost)
}

/// Node's names for the OS errors a connection meets.
fn system_code(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind::*;
    Some(match kind {
        ConnectionRefused => "ECONNREFUSED",
        ConnectionReset => "ECONNRESET",
        ConnectionAborted => "ECONNABORTED",
        BrokenPipe => "EPIPE",
        TimedOut => "ETIMEDOUT",
        HostUnreachable => "EHOSTUNREACH",
        NetworkUnreachable => "ENETUNREACH",
        NetworkDown => "ENETDOWN",
        AddrNotAvailable => "EADDRNOTAVAIL",
        PermissionDenied => "EACCES",
        _ => return None,
    })
}

/// getaddrinfo's failure, from the text glibc's `gai_strerror` gives (std
/// only keeps the text). Node reports EAI_NONAME and EAI_NODATA as
/// ENOTFOUND; an unknown text (another libc, a translated message) is taken
/// as a name that does not exist, by far the most common case.
fn dns_error(found: &Findings<'_>, url: &url::Url) -> NetError {
    let text = found.innermost.as_str();
    let (code, errno_name) = if text.contains("Temporary failure in name resolution") {
        ("EAI_AGAIN", "EAI_AGAIN")
    } else if text.contains("Non-recoverable failure in name resolution") {
        ("EAI_FAIL", "EAI_FAIL")
    } else if text.contains("No address associated with hostname") {
        ("ENOTFOUND", "EAI_NODATA")
    } else {
        ("ENOTFOUND", "EAI_NONAME")
    };
    let mut net = NetError::new(NetErrorKind::Dns, found.innermost.clone());
    net.code = Some(code);
    net.errno_name = Some(errno_name);
    net.syscall = Some("getaddrinfo");
    net.hostname = url.host_str().map(str::to_string);
    net
}

/// The code and message Node (OpenSSL's verifier, Node's host name check)
/// gives for the same failure.
fn tls_error(err: &rustls::Error, url: &url::Url) -> NetError {
    let verify = |code: &'static str, text: &str| {
        let mut net = NetError::new(NetErrorKind::Tls, text.to_string());
        net.code = Some(code);
        net
    };
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            // The chain does not lead to a trusted root. OpenSSL tells apart
            // which certificate it stopped at; rustls does not say, and the
            // server sending only its own certificate is the common case.
            CertificateError::UnknownIssuer => verify(
                "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
                "unable to verify the first certificate",
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                verify("CERT_HAS_EXPIRED", "certificate has expired")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                verify("CERT_NOT_YET_VALID", "certificate is not yet valid")
            }
            CertificateError::Revoked => verify("CERT_REVOKED", "certificate revoked"),
            CertificateError::BadSignature => {
                verify("CERT_SIGNATURE_FAILURE", "certificate signature failure")
            }
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                verify("INVALID_PURPOSE", "unsupported certificate purpose")
            }
            CertificateError::NotValidForNameContext {
                expected,
                presented,
            } => name_mismatch(&expected_host(expected), presented),
            CertificateError::NotValidForName => {
                let host = url.host_str().unwrap_or_default().to_string();
                name_mismatch(&host, &[])
            }
            // Our verifier's word for what OpenSSL calls self-signed (see
            // `tls::openssl_reason`).
            CertificateError::Other(other) => match other.0.downcast_ref::<UntrustedSelfSigned>() {
                Some(UntrustedSelfSigned::Certificate) => {
                    verify("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate")
                }
                Some(UntrustedSelfSigned::InChain) => verify(
                    "SELF_SIGNED_CERT_IN_CHAIN",
                    "self-signed certificate in certificate chain",
                ),
                None => NetError::new(NetErrorKind::Tls, err.to_string()),
            },
            _ => NetError::new(NetErrorKind::Tls, err.to_string()),
        },
        // A plain-HTTP server's answer read as a TLS record.
        rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType) => {
            let mut net = verify(
                "ERR_SSL_WRONG_VERSION_NUMBER",
                "error:0A00010B:SSL routines::wrong version number",
            );
            net.library = Some("SSL routines");
            net.reason = Some("wrong version number".into());
            net
        }
        _ => NetError::new(NetErrorKind::Tls, err.to_string()),
    }
}

fn expected_host(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_string(),
        ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

/// A name from webpki's list of presented names (`DnsName("a.b")`,
/// `IpAddress(1.2.3.4)`) as Node's `subjectaltname` writes it.
fn alt_name(presented: &str) -> Option<String> {
    if let Some(dns) = presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
    {
        return Some(format!("DNS:{dns}"));
    }
    if let Some(ip) = presented
        .strip_prefix("IpAddress(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return Some(format!("IP Address:{}", canonical_ip(ip)));
    }
    presented
        .strip_prefix("UniformResourceIdentifier(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .map(|uri| format!("URI:{uri}"))
}

/// webpki writes IPv6 addresses as eight uncompressed groups; Node compares
/// and prints them canonical (compressed).
fn canonical_ip(text: &str) -> String {
    text.parse::<IpAddr>()
        .map(|ip| ip.to_string())
        .or_else(|_| text.parse::<Ipv6Addr>().map(|ip| ip.to_string()))
        .unwrap_or_else(|_| text.to_string())
}

/// Node's `checkServerIdentity` failure: `ERR_TLS_CERT_ALTNAME_INVALID` with
/// its `reason` and `host`.
fn name_mismatch(host: &str, presented: &[String]) -> NetError {
    let host = host.strip_suffix('.').unwrap_or(host);
    let alt_names: Vec<String> = presented.iter().filter_map(|p| alt_name(p)).collect();
    let reason = if host.parse::<IpAddr>().is_ok() {
        let ips: Vec<&str> = alt_names
            .iter()
            .filter_map(|name| name.strip_prefix("IP Address:"))
            .collect();
        format!("IP: {host} is not in the cert's list: {}", ips.join(", "))
    } else if alt_names.iter().any(|name| name.starts_with("DNS:")) {
        format!(
            "Host: {host}. is not in the cert's altnames: {}",
            alt_names.join(", ")
        )
    } else {
        // Node would compare the subject's CN here, which rustls does not
        // look at (nor report).
        "Cert does not contain a DNS name".to_string()
    };
    let mut net = NetError::new(
        NetErrorKind::Tls,
        format!("Hostname/IP does not match certificate's altnames: {reason}"),
    );
    net.code = Some("ERR_TLS_CERT_ALTNAME_INVALID");
    net.reason = Some(reason);
    net.host = Some(host.to_string());
    net
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_server::read_head;
    use std::fmt;
    use std::io::Write;
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::time::Duration;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn url(text: &str) -> Result<url::Url, url::ParseError> {
        url::Url::parse(text)
    }

    /// An error in the chain with a given message and source, like
    /// hyper-util's ConnectError or hyper's Error.
    #[derive(Debug)]
    struct Layer(&'static str, Box<dyn StdError + Send + Sync>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl StdError for Layer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&*self.1)
        }
    }

    /// How a rustls error reaches reqwest: tokio-rustls wraps it in an
    /// io::Error, which hyper-rustls wraps in another.
    fn tls_chain(err: rustls::Error) -> Layer {
        let tokio_rustls = std::io::Error::new(std::io::ErrorKind::InvalidData, err);
        Layer(
            "client error (Connect)",
            Box::new(std::io::Error::other(tokio_rustls)),
        )
    }

    fn tls_code(err: rustls::Error) -> Result<(Option<&'static str>, String), url::ParseError> {
        let net = classify(&url("https://127.0.0.1:1/")?, &tls_chain(err));
        assert_eq!(net.kind, NetErrorKind::Tls);
        Ok((net.code, net.text))
    }

    #[test]
    fn an_unknown_issuer_is_an_unverifiable_first_certificate() -> TestResult {
        let (code, text) = tls_code(CertificateError::UnknownIssuer.into())?;
        assert_eq!(code, Some("UNABLE_TO_VERIFY_LEAF_SIGNATURE"));
        assert_eq!(text, "unable to verify the first certificate");
        Ok(())
    }

    #[test]
    fn self_signed_refusals_have_openssls_codes() -> TestResult {
        for (which, code, text) in [
            (
                UntrustedSelfSigned::Certificate,
                "DEPTH_ZERO_SELF_SIGNED_CERT",
                "self-signed certificate",
            ),
            (
                UntrustedSelfSigned::InChain,
                "SELF_SIGNED_CERT_IN_CHAIN",
                "self-signed certificate in certificate chain",
            ),
        ] {
            let other = rustls::OtherError(Arc::new(which));
            let (got_code, got_text) = tls_code(CertificateError::Other(other).into())?;
            assert_eq!(got_code, Some(code));
            assert_eq!(got_text, text);
        }
        Ok(())
    }

    #[test]
    fn validity_and_other_certificate_failures_have_openssls_codes() -> TestResult {
        let cases: [(CertificateError, &str, &str); 6] = [
            (
                CertificateError::Expired,
                "CERT_HAS_EXPIRED",
                "certificate has expired",
            ),
            (
                CertificateError::ExpiredContext {
                    time: rustls::pki_types::UnixTime::since_unix_epoch(Duration::from_secs(10)),
                    not_after: rustls::pki_types::UnixTime::since_unix_epoch(Duration::from_secs(
                        5,
                    )),
                },
                "CERT_HAS_EXPIRED",
                "certificate has expired",
            ),
            (
                CertificateError::NotValidYet,
                "CERT_NOT_YET_VALID",
                "certificate is not yet valid",
            ),
            (
                CertificateError::Revoked,
                "CERT_REVOKED",
                "certificate revoked",
            ),
            (
                CertificateError::BadSignature,
                "CERT_SIGNATURE_FAILURE",
                "certificate signature failure",
            ),
            (
                CertificateError::InvalidPurpose,
                "INVALID_PURPOSE",
                "unsupported certificate purpose",
            ),
        ];
        for (err, code, text) in cases {
            assert_eq!(tls_code(err.into())?, (Some(code), text.to_string()));
        }
        Ok(())
    }

    #[test]
    fn a_name_mismatch_for_an_ip_lists_the_certificates_ips() -> TestResult {
        let err = CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("127.0.0.1")?.to_owned(),
            presented: vec![
                "DnsName(\"other.test\")".into(),
                "IpAddress(10.0.0.1)".into(),
                "IpAddress(0:0:0:0:0:0:0:1)".into(),
            ],
        };
        let net = classify(&url("https://127.0.0.1:1/")?, &tls_chain(err.into()));
        assert_eq!(net.code, Some("ERR_TLS_CERT_ALTNAME_INVALID"));
        let reason = "IP: 127.0.0.1 is not in the cert's list: 10.0.0.1, ::1";
        assert_eq!(net.reason.as_deref(), Some(reason));
        assert_eq!(net.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(
            net.text,
            format!("Hostname/IP does not match certificate's altnames: {reason}")
        );
        Ok(())
    }

    #[test]
    fn a_name_mismatch_for_a_host_lists_the_alt_names() -> TestResult {
        let err = CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("api.example.com")?.to_owned(),
            presented: vec![
                "DnsName(\"other.test\")".into(),
                "IpAddress(10.0.0.1)".into(),
            ],
        };
        let net = classify(&url("https://api.example.com/")?, &tls_chain(err.into()));
        assert_eq!(
            net.reason.as_deref(),
            Some("Host: api.example.com. is not in the cert's altnames: DNS:other.test, IP Address:10.0.0.1")
        );
        let only_ips = CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("api.example.com")?.to_owned(),
            presented: vec!["IpAddress(10.0.0.1)".into()],
        };
        let net = classify(
            &url("https://api.example.com/")?,
            &tls_chain(only_ips.into()),
        );
        assert_eq!(
            net.reason.as_deref(),
            Some("Cert does not contain a DNS name")
        );
        Ok(())
    }

    #[test]
    fn a_plain_http_answer_is_a_wrong_version_number() -> TestResult {
        let net = classify(
            &url("https://127.0.0.1:1/")?,
            &tls_chain(rustls::Error::InvalidMessage(
                InvalidMessage::InvalidContentType,
            )),
        );
        assert_eq!(net.code, Some("ERR_SSL_WRONG_VERSION_NUMBER"));
        assert_eq!(net.library, Some("SSL routines"));
        assert_eq!(net.reason.as_deref(), Some("wrong version number"));
        Ok(())
    }

    #[test]
    fn other_tls_failures_keep_rustls_text_without_a_code() -> TestResult {
        let net = classify(
            &url("https://127.0.0.1:1/")?,
            &tls_chain(rustls::Error::HandshakeNotComplete),
        );
        assert_eq!((net.kind, net.code), (NetErrorKind::Tls, None));
        assert_eq!(net.text, rustls::Error::HandshakeNotComplete.to_string());
        Ok(())
    }

    fn dns_chain(detail: &str) -> Layer {
        Layer(
            "client error (Connect)",
            Box::new(Layer(
                "dns error",
                Box::new(std::io::Error::other(format!(
                    "failed to lookup address information: {detail}"
                ))),
            )),
        )
    }

    #[test]
    fn lookup_failures_are_getaddrinfo_errors_for_the_host() -> TestResult {
        let cases = [
            ("Name or service not known", "ENOTFOUND", "EAI_NONAME"),
            (
                "No address associated with hostname",
                "ENOTFOUND",
                "EAI_NODATA",
            ),
            (
                "Temporary failure in name resolution",
                "EAI_AGAIN",
                "EAI_AGAIN",
            ),
            (
                "Non-recoverable failure in name resolution",
                "EAI_FAIL",
                "EAI_FAIL",
            ),
            ("Nom inconnu", "ENOTFOUND", "EAI_NONAME"),
        ];
        for (detail, code, errno_name) in cases {
            let net = classify(&url("http://no-such.test:8080/x")?, &dns_chain(detail));
            assert_eq!(net.kind, NetErrorKind::Dns);
            assert_eq!((net.code, net.errno_name), (Some(code), Some(errno_name)));
            assert_eq!(net.syscall, Some("getaddrinfo"));
            assert_eq!(net.hostname.as_deref(), Some("no-such.test"));
        }
        Ok(())
    }

    #[test]
    fn the_connect_address_is_read_from_hyper_utils_debug_form() {
        assert_eq!(
            connect_address(
                "ConnectError(\"tcp connect error\", 127.0.0.1:8080, Os { code: 111 })"
            ),
            "127.0.0.1:8080".parse().ok()
        );
        assert_eq!(
            connect_address("ConnectError(\"tcp connect error\", [::1]:443, Os { code: 111 })"),
            "[::1]:443".parse().ok()
        );
        assert_eq!(connect_address("ConnectError(\"dns error\", Custom)"), None);
    }

    #[test]
    fn other_failures_keep_the_innermost_text() -> TestResult {
        let chain = Layer(
            "error sending request",
            Box::new(Layer(
                "invalid HTTP header parsed",
                Box::new(std::fmt::Error),
            )),
        );
        let net = classify(&url("http://127.0.0.1:1/")?, &chain);
        assert_eq!(net.kind, NetErrorKind::Other);
        assert_eq!(net.text, std::fmt::Error.to_string());
        Ok(())
    }

    // Real failures through reqwest, so that a change in the error chains of
    // reqwest, hyper or hyper-util shows here.

    async fn get(url_text: &str) -> Result<NetError, Box<dyn std::error::Error>> {
        let client = reqwest::Client::builder().no_proxy().build()?;
        let target = url::Url::parse(url_text)?;
        match client.get(target.clone()).send().await {
            Ok(response) => match response.bytes().await {
                Ok(_) => Err("the request succeeded".into()),
                Err(e) => Ok(NetError::from_reqwest(&target, &e)),
            },
            Err(e) => Ok(NetError::from_reqwest(&target, &e)),
        }
    }

    /// A server thread that accepts one connection and hands it to `behave`.
    fn serve_once(
        behave: impl FnOnce(std::net::TcpStream) -> std::io::Result<()> + Send + 'static,
    ) -> std::io::Result<String> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        std::thread::spawn(move || -> std::io::Result<()> {
            let (socket, _) = listener.accept()?;
            behave(socket)
        });
        Ok(format!("http://{addr}/x"))
    }

    #[tokio::test]
    async fn a_refused_connection_is_connect_econnrefused_with_the_address() -> TestResult {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let net = get(&format!("http://127.0.0.1:{port}/x")).await?;
        assert_eq!(net.kind, NetErrorKind::System);
        assert_eq!(net.code, Some("ECONNREFUSED"));
        assert_eq!(net.syscall, Some("connect"));
        assert_eq!(net.address.as_deref(), Some("127.0.0.1"));
        assert_eq!(net.port, Some(port));
        Ok(())
    }

    #[tokio::test]
    async fn a_reset_is_read_econnreset() -> TestResult {
        // Closing a socket with unread data in it sends a reset (RST).
        let url_text = serve_once(|socket| {
            std::thread::sleep(Duration::from_millis(100));
            drop(socket);
            Ok(())
        })?;
        let net = get(&url_text).await?;
        assert_eq!(
            (net.kind, net.code),
            (NetErrorKind::System, Some("ECONNRESET"))
        );
        assert_eq!((net.syscall, net.address.as_deref()), (Some("read"), None));
        Ok(())
    }

    #[tokio::test]
    async fn a_clean_close_before_the_head_is_closed() -> TestResult {
        let url_text = serve_once(|mut socket| {
            read_head(&mut socket)?;
            socket.shutdown(std::net::Shutdown::Both)
        })?;
        let net = get(&url_text).await?;
        assert_eq!(
            (net.kind, net.code, net.in_body),
            (NetErrorKind::Closed, None, false)
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_clean_close_mid_body_is_closed_in_the_body() -> TestResult {
        let url_text = serve_once(|mut socket| {
            read_head(&mut socket)?;
            socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")?;
            socket.shutdown(std::net::Shutdown::Both)
        })?;
        let net = get(&url_text).await?;
        assert_eq!((net.kind, net.in_body), (NetErrorKind::Closed, true));
        Ok(())
    }
}
