//! The HTTPS listener of the benchmark server, for the `send-small-tls`
//! scenario: a CA and a leaf certificate for 127.0.0.1 and localhost, both
//! made at startup (nothing to keep in the repository, nothing that
//! expires), rustls offering ALPN `h2` then `http/1.1`, and hyper serving
//! whichever protocol the client chose. The CA's PEM goes into a file that
//! bench/run.js hands to the clients (NODE_EXTRA_CA_CERTS, undici's `ca`).
//!
//! Every response carries `X-Served-Protocol` (`h2` or `http/1.1`): the
//! benchmark prints it next to each client, so a row says what it compared.
//!
//! GET  /small   the same JSON as the plain listener's
//! POST /post    reads the body, answers the same JSON

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The certificates a TLS listener serves, and where the CA's PEM is.
pub struct Identity {
    pub acceptor: TlsAcceptor,
    pub ca_pem_path: PathBuf,
}

/// Makes the CA and the leaf, writes the CA's PEM to a temporary file (the
/// caller removes it) and builds the server side of TLS.
pub fn make_identity() -> Result<Identity, Error> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "balena-request-native bench CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

    let ca_pem_path = std::env::temp_dir().join(format!("brn-bench-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_pem_path, ca.pem())?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Identity {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_pem_path,
    })
}

/// Accepts connections for ever, each served on the current thread.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    small: &'static str,
) -> std::io::Result<()> {
    loop {
        let (socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        let acceptor = acceptor.clone();
        tokio::task::spawn_local(async move {
            let Ok(tls) = acceptor.accept(socket).await else {
                return;
            };
            // Reads the first bytes to tell HTTP/2's preface from HTTP/1.1,
            // which agrees with what ALPN chose.
            let builder = auto::Builder::new(TokioExecutor::new());
            let service = hyper::service::service_fn(move |request| respond(request, small));
            let _ = builder.serve_connection(TokioIo::new(tls), service).await;
        });
    }
}

async fn respond(
    request: Request<Incoming>,
    small: &'static str,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let protocol = match request.version() {
        Version::HTTP_2 => "h2",
        Version::HTTP_11 => "http/1.1",
        Version::HTTP_10 => "http/1.0",
        _ => "other",
    };
    let known = matches!(
        (request.method(), request.uri().path()),
        (&Method::GET, "/small") | (&Method::POST, "/post")
    );
    // Read the whole request body, as the plain listener does, before answering.
    let body_read = request.into_body().collect().await.is_ok();
    let mut response = if known && body_read {
        let mut response = Response::new(Full::new(Bytes::from_static(small.as_bytes())));
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        response
    } else {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NOT_FOUND;
        response
    };
    response
        .headers_mut()
        .insert("x-served-protocol", HeaderValue::from_static(protocol));
    Ok(response)
}
