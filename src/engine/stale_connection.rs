//! When a request is sent once more, silently, because the pooled keep-alive
//! connection it went over was closed by the server as it arrived: the race
//! where the server's idle timeout fires just as the connection is reused.
//! The request never reached the application, so sending it again on a new
//! connection is safe if the method is idempotent (RFC 9110 9.2.2). Never a
//! POST or PATCH, never when the connection was opened for the request (a
//! server that kills every new connection is not asked twice), never after
//! the response head arrived.

use super::net_error::{NetError, NetErrorKind};
use super::new_connection::ConnectionOrigin;
use reqwest::Method;

/// RFC 9110 9.2.2.
pub fn is_idempotent(method: &Method) -> bool {
    [
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::PUT,
        Method::DELETE,
        Method::TRACE,
    ]
    .contains(method)
}

/// The connection ended (cleanly, by a reset, or under our write) before a
/// response head: what a server closing a connection it thinks idle causes.
/// hyper reports a connection closed after part of a head the same way as one
/// closed before any byte, so a partial head counts as none.
pub fn died_before_response(net: &NetError) -> bool {
    !net.in_body
        && match net.kind {
            NetErrorKind::Closed => true,
            NetErrorKind::System => matches!(net.code, Some("ECONNRESET" | "EPIPE")),
            _ => false,
        }
}

/// Whether a request that failed with `net` over a connection from `origin`
/// is sent once more on a new connection.
pub fn resend_on_new_connection(method: &Method, origin: ConnectionOrigin, net: &NetError) -> bool {
    origin == ConnectionOrigin::Pooled && is_idempotent(method) && died_before_response(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn failure(kind: NetErrorKind, code: Option<&'static str>, in_body: bool) -> NetError {
        NetError {
            url: "http://127.0.0.1:1/".into(),
            kind,
            code,
            errno_name: None,
            syscall: None,
            address: None,
            port: None,
            hostname: None,
            text: String::new(),
            reason: None,
            host: None,
            library: None,
            in_body,
            proxy: None,
        }
    }

    #[test]
    fn only_rfc_9110_idempotent_methods() -> TestResult {
        for method in ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"] {
            assert!(
                is_idempotent(&Method::from_bytes(method.as_bytes())?),
                "{method}"
            );
        }
        for method in ["POST", "PATCH", "CONNECT", "PROPFIND", "get"] {
            assert!(
                !is_idempotent(&Method::from_bytes(method.as_bytes())?),
                "{method}"
            );
        }
        Ok(())
    }

    #[test]
    fn a_close_or_reset_before_the_head_on_a_pooled_connection_is_resent() {
        use ConnectionOrigin::*;
        let closed = failure(NetErrorKind::Closed, None, false);
        let reset = failure(NetErrorKind::System, Some("ECONNRESET"), false);
        let broken_pipe = failure(NetErrorKind::System, Some("EPIPE"), false);
        for net in [&closed, &reset, &broken_pipe] {
            assert!(resend_on_new_connection(&Method::GET, Pooled, net));
            assert!(resend_on_new_connection(&Method::DELETE, Pooled, net));
            assert!(!resend_on_new_connection(&Method::POST, Pooled, net));
            assert!(!resend_on_new_connection(&Method::PATCH, Pooled, net));
            assert!(!resend_on_new_connection(&Method::GET, New, net));
        }
    }

    #[test]
    fn other_failures_and_failures_in_the_body_are_not_resent() {
        let not_resent = [
            failure(NetErrorKind::Closed, None, true),
            failure(NetErrorKind::System, Some("ECONNRESET"), true),
            failure(NetErrorKind::System, Some("ECONNREFUSED"), false),
            failure(NetErrorKind::System, Some("ETIMEDOUT"), false),
            failure(NetErrorKind::Other, Some("ETIMEDOUT"), false),
            failure(NetErrorKind::Other, None, false),
            failure(NetErrorKind::Tls, None, false),
            failure(NetErrorKind::Dns, Some("ENOTFOUND"), false),
        ];
        for net in &not_resent {
            assert!(
                !resend_on_new_connection(&Method::GET, ConnectionOrigin::Pooled, net),
                "{net:?}"
            );
        }
    }
}
