//! The transport: one pooled reqwest client (keep-alive, HTTP/2 when the
//! server offers it over TLS, rustls configured in `tls.rs`, proxies from
//! `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` decided in `proxy.rs`), redirects
//! followed here, `retries` on network-level failures, and one silent
//! re-send of an idempotent request whose pooled connection died as it
//! arrived (`stale_connection.rs`).

use super::net_error::NetError;
use super::new_connection::{self, MarkNewConnections};
use super::proxy::{self, ProxyRoutes};
use super::redirect::{is_redirect, next_headers, next_method, MAX_REDIRECTS};
use super::stale_connection;
use super::tls;
use super::upload::UploadChannel;
use bytes::Bytes;
use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION};
use reqwest::{Client, Method, RequestBuilder, Response};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

pub enum OutgoingBody {
    Empty,
    Bytes(Bytes),
    Multipart(Vec<FormPart>),
    /// Written while it is sent (`upload.rs`); sent again only if its
    /// producer can start over.
    Stream(Arc<UploadChannel>),
}

impl OutgoingBody {
    /// Whether the request can go out once more with its whole body.
    fn can_resend(&self) -> bool {
        match self {
            OutgoingBody::Stream(channel) => channel.can_open(),
            _ => true,
        }
    }
}

/// Cloned when a policy sends the request again (retry).
#[derive(Clone)]
pub struct FormPart {
    pub name: String,
    pub value: FormValue,
}

#[derive(Clone)]
pub enum FormValue {
    Text(String),
    File {
        data: Bytes,
        filename: String,
        content_type: Option<String>,
    },
}

pub struct OutgoingRequest {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: OutgoingBody,
    pub follow_redirects: bool,
    /// How many more times to send after a network-level failure.
    pub retries: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// Connecting, writing or reading failed; `net` says how, in the terms
    /// Node uses (see `net_error`).
    Network(Box<NetError>),
    TooManyRedirects(String),
    Invalid(String),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Network(net) => {
                write!(f, "request to {} failed, reason: {}", net.url, net.text)
            }
            TransportError::TooManyRedirects(url) => {
                write!(
                    f,
                    "too many redirects (more than {MAX_REDIRECTS}) while requesting {url}"
                )
            }
            TransportError::Invalid(message) => f.write_str(message),
        }
    }
}

impl TransportError {
    pub fn network(url: &Url, err: &reqwest::Error) -> TransportError {
        TransportError::Network(Box::new(NetError::from_reqwest(url, err)))
    }
}

/// Cheap to clone (the clients and routes are shared): a resumable
/// download keeps one to ask for the rest of its body.
#[derive(Clone)]
pub struct Transport {
    client: Client,
    /// Keeps no idle connection, so that every request it sends goes over a
    /// connection opened for it: the re-send after a pooled connection died
    /// must not meet another connection in the same state.
    unpooled: Client,
    proxies: Arc<ProxyRoutes>,
}

impl Transport {
    /// Reads the environment (proxies, `NODE_EXTRA_CA_CERTS`) once, here.
    pub fn new() -> Result<Transport, String> {
        Transport::with_proxies(ProxyRoutes::from_env())
    }

    pub fn with_proxies(proxies: ProxyRoutes) -> Result<Transport, String> {
        let proxies = Arc::new(proxies);
        let tls = tls::client_config()?;
        let client = Transport::client_builder(tls.clone(), &proxies)
            .pool_idle_timeout(Duration::from_secs(30))
            // Tells `new_connection::observe` which attempts opened a
            // connection (a pooled one does not pass through the connector).
            .connector_layer(MarkNewConnections);
        let unpooled = Transport::client_builder(tls, &proxies).pool_max_idle_per_host(0);
        let build = |builder: reqwest::ClientBuilder| {
            builder
                .build()
                .map_err(|e| format!("cannot start the HTTP client: {e}"))
        };
        Ok(Transport {
            client: build(client)?,
            unpooled: build(unpooled)?,
            proxies,
        })
    }

    fn client_builder(
        tls: rustls::ClientConfig,
        proxies: &Arc<ProxyRoutes>,
    ) -> reqwest::ClientBuilder {
        let builder = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(60))
            .tls_backend_preconfigured(tls)
            // reqwest's own reading of the proxy variables is replaced by
            // ours, so that we know which proxy served each request.
            .no_proxy();
        if proxies.is_empty() {
            builder
        } else {
            builder.proxy(Arc::clone(proxies).into_reqwest())
        }
    }

    /// A network error, naming the proxy the request went through if any
    /// (without its credentials): a refused or broken proxy must not read
    /// as the API refusing the connection.
    fn network_error(&self, url: &Url, err: &reqwest::Error) -> TransportError {
        let mut net = NetError::from_reqwest(url, err);
        net.proxy = self
            .proxies
            .proxy_for(url)
            .map(|proxy| proxy::shown(&proxy));
        TransportError::Network(Box::new(net))
    }

    /// Sends, following redirects when asked, and sends again after a
    /// network-level failure up to `retries` times (never after a status).
    /// Each hop of each of these sends may also be re-sent once on a new
    /// connection (`send_hop`); that one does not count against `retries`.
    pub async fn send(&self, request: &OutgoingRequest) -> Result<Response, TransportError> {
        let mut attempt = 0;
        loop {
            match self.send_following(request).await {
                Err(TransportError::Network(_))
                    if attempt < request.retries && request.body.can_resend() =>
                {
                    attempt += 1
                }
                result => return result,
            }
        }
    }

    async fn send_following(&self, request: &OutgoingRequest) -> Result<Response, TransportError> {
        let mut method = request.method.clone();
        let mut url = request.url.clone();
        // The caller's headers until a redirect changes them.
        let mut redirected_headers: Option<HeaderMap> = None;
        let mut with_body = true;
        for hop in 0..=MAX_REDIRECTS {
            let hop_request = Hop {
                method: &method,
                url: &url,
                headers: redirected_headers.as_ref().unwrap_or(&request.headers),
                body: if with_body {
                    &request.body
                } else {
                    &OutgoingBody::Empty
                },
            };
            let response = self.send_hop(&hop_request).await?;
            let status = response.status().as_u16();
            if !request.follow_redirects || !is_redirect(status) {
                return Ok(response);
            }
            let next = match response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
            {
                Some(next) => next,
                None => return Ok(response),
            };
            if hop == MAX_REDIRECTS {
                return Err(TransportError::TooManyRedirects(request.url.to_string()));
            }
            let (next_method_value, keeps_body) = next_method(status, &method);
            let headers = redirected_headers.get_or_insert_with(|| request.headers.clone());
            next_headers(headers, &url, &next, keeps_body && with_body);
            method = next_method_value;
            with_body = with_body && keeps_body;
            url = next;
        }
        Err(TransportError::TooManyRedirects(request.url.to_string()))
    }

    /// One request of a redirect chain. If it went over a pooled connection
    /// that the server closed as it arrived, an idempotent one is sent once
    /// more over a connection opened for it (`stale_connection.rs`); the
    /// caller sees only the second outcome.
    async fn send_hop(&self, hop: &Hop<'_>) -> Result<Response, TransportError> {
        let attempt = hop.build(&self.client)?.send();
        let (result, origin) = new_connection::observe(attempt).await;
        let first_error = match result {
            Ok(response) => return Ok(response),
            Err(e) => self.network_error(hop.url, &e),
        };
        match &first_error {
            TransportError::Network(net)
                if stale_connection::resend_on_new_connection(hop.method, origin, net)
                    && hop.body.can_resend() => {}
            _ => return Err(first_error),
        }
        hop.build(&self.unpooled)?
            .send()
            .await
            .map_err(|e| self.network_error(hop.url, &e))
    }
}

/// What one request of a redirect chain sends.
struct Hop<'a> {
    method: &'a Method,
    url: &'a Url,
    headers: &'a HeaderMap,
    body: &'a OutgoingBody,
}

impl Hop<'_> {
    fn build(&self, client: &Client) -> Result<RequestBuilder, TransportError> {
        let mut builder = client.request(self.method.clone(), self.url.clone());
        let mut headers = self.headers.clone();
        match self.body {
            OutgoingBody::Empty => {}
            OutgoingBody::Bytes(bytes) => builder = builder.body(bytes.clone()),
            OutgoingBody::Multipart(parts) => {
                // The form sets its own Content-Type with the boundary.
                headers.remove(CONTENT_TYPE);
                builder = builder.multipart(build_form(parts)?);
            }
            OutgoingBody::Stream(channel) => {
                let stream = channel
                    .open()
                    .map_err(|e| TransportError::Invalid(e.to_string()))?;
                builder = builder.body(stream.into_body());
            }
        }
        Ok(builder.headers(headers))
    }
}

fn build_form(parts: &[FormPart]) -> Result<reqwest::multipart::Form, TransportError> {
    use reqwest::multipart::{Form, Part};
    let mut form = Form::new();
    for part in parts {
        form = match &part.value {
            FormValue::Text(text) => form.text(part.name.clone(), text.clone()),
            FormValue::File {
                data,
                filename,
                content_type,
            } => {
                let mut file = Part::stream_with_length(data.clone(), data.len() as u64)
                    .file_name(filename.clone());
                if let Some(ct) = content_type.as_deref().filter(|ct| !ct.is_empty()) {
                    file = file.mime_str(ct).map_err(|_| {
                        TransportError::Invalid(format!(
                            "Invalid content type for form field {}: {ct}",
                            part.name
                        ))
                    })?;
                } else {
                    file = file
                        .mime_str("application/octet-stream")
                        .map_err(|_| TransportError::Invalid("Invalid content type".into()))?;
                }
                form.part(part.name.clone(), file)
            }
        };
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_server::read_head;
    use std::io::Read;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A dropped request (timeout, abort) closes its connection, so that a
    /// server that never answers is not left holding a socket.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_a_request_closes_its_connection() -> TestResult {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = std::thread::spawn(move || -> std::io::Result<bool> {
            let (mut socket, _) = listener.accept()?;
            socket.set_read_timeout(Some(Duration::from_secs(5)))?;
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf); // the request head
            Ok(matches!(socket.read(&mut buf), Ok(0)))
        });
        let transport = Transport::new()?;
        let request = OutgoingRequest {
            method: Method::GET,
            url: Url::parse(&format!("http://{addr}/"))?,
            headers: HeaderMap::new(),
            body: OutgoingBody::Empty,
            follow_redirects: true,
            retries: 0,
        };
        let result =
            tokio::time::timeout(Duration::from_millis(200), transport.send(&request)).await;
        assert!(result.is_err());
        let closed = tokio::task::spawn_blocking(move || server.join()).await?;
        assert!(
            matches!(closed, Ok(Ok(true))),
            "the server should see the connection close"
        );
        Ok(())
    }

    /// The server answers one request, closes that connection when the
    /// next request arrives, and answers on the next connection: a GET is
    /// sent again there, a POST fails. Returns the connections it accepted.
    async fn stale_second_request(
        method: Method,
    ) -> Result<(bool, usize), Box<dyn std::error::Error>> {
        stale_second_request_with(method, OutgoingBody::Empty).await
    }

    /// The same, the second request carrying `body`.
    async fn stale_second_request_with(
        method: Method,
        body: OutgoingBody,
    ) -> Result<(bool, usize), Box<dyn std::error::Error>> {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = std::thread::spawn(move || -> std::io::Result<usize> {
            let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            let (mut first, _) = listener.accept()?;
            read_head(&mut first)?;
            first.write_all(ok)?;
            read_head(&mut first)?;
            drop(first);
            listener.set_nonblocking(true)?;
            let deadline = std::time::Instant::now() + Duration::from_millis(500);
            let mut accepted = 1;
            while std::time::Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut socket, _)) => {
                        socket.set_nonblocking(false)?;
                        accepted += 1;
                        read_head(&mut socket)?;
                        socket.write_all(ok)?;
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            Ok(accepted)
        });
        let transport = Transport::new()?;
        let request =
            |method: Method, body: OutgoingBody| -> Result<OutgoingRequest, url::ParseError> {
                Ok(OutgoingRequest {
                    method,
                    url: Url::parse(&format!("http://{addr}/"))?,
                    headers: HeaderMap::new(),
                    body,
                    follow_redirects: true,
                    retries: 0,
                })
            };
        transport
            .send(&request(Method::GET, OutgoingBody::Empty)?)
            .await
            .map_err(|e| e.to_string())?
            .bytes()
            .await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = transport.send(&request(method, body)?).await;
        let accepted = tokio::task::spawn_blocking(move || server.join())
            .await?
            .map_err(|_| "the server thread panicked")??;
        Ok((second.is_ok(), accepted))
    }

    #[tokio::test]
    async fn a_get_whose_pooled_connection_dies_is_sent_again_on_a_new_one() -> TestResult {
        assert_eq!(stale_second_request(Method::GET).await?, (true, 2));
        Ok(())
    }

    #[tokio::test]
    async fn a_post_whose_pooled_connection_dies_is_not() -> TestResult {
        assert_eq!(stale_second_request(Method::POST).await?, (false, 1));
        Ok(())
    }

    /// A stream body (its producer writes `body` at once for each
    /// generation it is asked for, if `renewable`).
    fn stream_body(renewable: bool) -> OutgoingBody {
        use super::super::upload::{Renew, UploadChannel};
        use std::sync::{OnceLock, Weak};
        let slot: Arc<OnceLock<Weak<UploadChannel>>> = Arc::new(OnceLock::new());
        let producer = Arc::clone(&slot);
        let renew: Option<Renew> = renewable.then(|| -> Renew {
            Box::new(move |generation| {
                if let Some(channel) = producer.get().and_then(Weak::upgrade) {
                    channel.write(generation, || Bytes::from_static(b"body"));
                    channel.finish(generation);
                }
            })
        });
        let channel = UploadChannel::new(renew);
        let _ = slot.set(Arc::downgrade(&channel));
        channel.write(0, || Bytes::from_static(b"body"));
        channel.finish(0);
        OutgoingBody::Stream(channel)
    }

    #[tokio::test]
    async fn a_put_with_a_plain_stream_is_not_sent_again() -> TestResult {
        let outcome = stale_second_request_with(Method::PUT, stream_body(false)).await?;
        assert_eq!(outcome, (false, 1));
        Ok(())
    }

    #[tokio::test]
    async fn a_put_with_a_renewable_stream_is_sent_again_with_a_fresh_body() -> TestResult {
        let outcome = stale_second_request_with(Method::PUT, stream_body(true)).await?;
        assert_eq!(outcome, (true, 2));
        Ok(())
    }
}
