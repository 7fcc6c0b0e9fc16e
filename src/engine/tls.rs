//! The TLS client configuration: what reqwest 0.13 builds for its `rustls`
//! feature (system roots through rustls-platform-verifier plus the roots of
//! `NODE_EXTRA_CA_CERTS`, aws-lc-rs unless a process-wide provider is
//! installed, TLS 1.2 and 1.3, ALPN `h2` then `http/1.1`), with one change
//! so that we trust what Node trusts: a server certificate that is itself a
//! trusted root is accepted even when it is a CA certificate.
//!
//! webpki refuses a CA certificate (basicConstraints CA:TRUE) as a server's
//! own certificate (`CaUsedAsEndEntity`). `openssl req -x509` makes exactly
//! that by default, so openBalena and lab setups often serve one and trust
//! it through `NODE_EXTRA_CA_CERTS`; OpenSSL, and so Node and upstream
//! balena-request, accept it because the certificate is a trust anchor.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, SignatureScheme};
use std::sync::Arc;

/// The client configuration the transport hands to reqwest.
pub fn client_config() -> Result<ClientConfig, String> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let extra_roots = extra_roots_from_env();
    // The same verifier reqwest builds: the platform's on macOS and Windows,
    // webpki over the system roots (rustls-native-certs) elsewhere.
    let platform = if extra_roots.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone())
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(
            extra_roots.clone(),
            provider.clone(),
        )
    }
    .map_err(|e| format!("cannot load the trusted certificates: {e}"))?;
    let verifier = TrustAnchorAsServer {
        inner: Arc::new(platform),
        anchors: extra_roots,
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| format!("cannot configure TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // HTTP/2 when the server offers it, as reqwest does with `http2` on.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificates of the PEM file named by `NODE_EXTRA_CA_CERTS`. Like
/// Node, an unreadable file only means no extra roots, and a certificate
/// that cannot be a trust anchor is skipped rather than failing the others
/// (the platform verifier refuses to start with one).
fn extra_roots_from_env() -> Vec<CertificateDer<'static>> {
    let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS") else {
        return Vec::new();
    };
    match std::fs::read(path) {
        Ok(pem) => usable_roots(&pem),
        Err(_) => Vec::new(),
    }
}

fn usable_roots(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .filter(|cert| webpki::anchor_from_trusted_cert(cert).is_ok())
        .collect()
}

/// The standard verifier, plus OpenSSL's rule that a server certificate
/// which is itself one of our trusted roots is trusted.
#[derive(Debug)]
struct TrustAnchorAsServer {
    inner: Arc<dyn ServerCertVerifier>,
    /// Roots whose very bytes a server may present as its certificate: those
    /// of `NODE_EXTRA_CA_CERTS`, the only extra roots Node trusts (Node does
    /// not read the system store, so neither do we for this rule).
    anchors: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for TrustAnchorAsServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let refusal = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(refusal) => refusal,
        };
        let ca_as_end_entity = is_ca_used_as_end_entity(&refusal);
        let is_anchor = || {
            self.anchors
                .iter()
                .any(|a| a.as_ref() == end_entity.as_ref())
        };
        if !ca_as_end_entity || !is_anchor() {
            return Err(openssl_reason(
                refusal,
                ca_as_end_entity,
                end_entity,
                intermediates,
            ));
        }
        // webpki checks a certificate's validity dates before its basic
        // constraints, so `CaUsedAsEndEntity` means the dates were good at
        // `now` (the expired and not-yet-valid tests below hold it to that).
        // What it did not get to is the name, which we check the same way.
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

/// A refusal in the terms OpenSSL (so Node) uses where webpki's do not say
/// it: webpki reports a self-signed certificate nobody trusts as an unknown
/// issuer (or, for a CA certificate, as "CA used as end entity", since it
/// stops at the CA flag); OpenSSL says it is self-signed, or that the chain
/// holds a self-signed root (`net_error.rs` turns these into Node's codes).
fn openssl_reason(
    refusal: Error,
    ca_as_end_entity: bool,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> Error {
    let unknown_issuer = matches!(
        refusal,
        Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    if !unknown_issuer && !ca_as_end_entity {
        return refusal;
    }
    let self_signed = if intermediates.is_empty() && is_self_issued(end_entity) {
        Some(UntrustedSelfSigned::Certificate)
    } else if intermediates.last().is_some_and(is_self_issued) {
        Some(UntrustedSelfSigned::InChain)
    } else {
        None
    };
    match self_signed {
        Some(which) => {
            Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(which))))
        }
        // A CA certificate nobody trusts, issued by someone else.
        None if ca_as_end_entity => CertificateError::UnknownIssuer.into(),
        None => refusal,
    }
}

/// A self-signed certificate that no trusted root vouches for: the server's
/// own (`DEPTH_ZERO_SELF_SIGNED_CERT`), or the root of the chain it sent
/// (`SELF_SIGNED_CERT_IN_CHAIN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UntrustedSelfSigned {
    Certificate,
    InChain,
}

impl std::fmt::Display for UntrustedSelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UntrustedSelfSigned::Certificate => "self-signed certificate",
            UntrustedSelfSigned::InChain => "self-signed certificate in certificate chain",
        })
    }
}

impl std::error::Error for UntrustedSelfSigned {}

fn is_self_issued(cert: &CertificateDer<'_>) -> bool {
    webpki::EndEntityCert::try_from(cert).is_ok_and(|c| c.issuer() == c.subject())
}

/// rustls passes webpki's `CaUsedAsEndEntity` on as an opaque "other"
/// certificate error; the webpki error inside says which.
fn is_ca_used_as_end_entity(err: &Error) -> bool {
    match err {
        Error::InvalidCertificate(CertificateError::Other(other)) => matches!(
            other.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A verifier over exactly `roots`, for tests that must not depend on the
    /// machine's trust store.
    fn verifier_trusting(roots: &[CertificateDer<'static>]) -> Result<TrustAnchorAsServer, String> {
        let mut store = rustls::RootCertStore::empty();
        for root in roots {
            store.add(root.clone()).map_err(|e| e.to_string())?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let inner =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
                .build()
                .map_err(|e| e.to_string())?;
        Ok(TrustAnchorAsServer {
            inner,
            anchors: roots.to_vec(),
        })
    }

    // Made with __test__/helpers/certificates.js (openssl, P-256), all
    // valid from 2025-01-01 to 2035-01-01.
    /// Self-signed, CA:TRUE, SAN DNS:localhost IP:127.0.0.1.
    const CA_AS_SERVER: &str = "-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIJAMKvzaQexoLQMAoGCCqGSM49BAMCMBcxFTATBgNVBAMM
DGNhLWFzLXNlcnZlcjAeFw0yNTAxMDEwMDAwMDBaFw0zNTAxMDEwMDAwMDBaMBcx
FTATBgNVBAMMDGNhLWFzLXNlcnZlcjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA
BDr+vgkA9bmHhXYFMldzRAx4IDE89+IuW4e7OyQx+JaYgzdX4tR3qq1lMMGY19OE
oaMS2NXjL48z3chLMVkTEhmjXjBcMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/
BAQDAgGGMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAdBgNVHQ4EFgQUf285
12UgmQn+VI8VVEWoCYn6lRAwCgYIKoZIzj0EAwIDSAAwRQIhALMDCaFvob6NEKUR
pvr1MP/j9c3t+80Fl3j21xzAkQQ+AiA/f/vMLuzOyRzRwxt8iY+dXYRrpF8F9m0p
+z0F9We+Aw==
-----END CERTIFICATE-----
";
    /// Another self-signed CA with the same names, never trusted.
    const OTHER_SELF_SIGNED: &str = "-----BEGIN CERTIFICATE-----
MIIBjTCCATKgAwIBAgIIK8EItmPXS/swCgYIKoZIzj0EAwIwHDEaMBgGA1UEAwwR
b3RoZXItc2VsZi1zaWduZWQwHhcNMjUwMTAxMDAwMDAwWhcNMzUwMTAxMDAwMDAw
WjAcMRowGAYDVQQDDBFvdGhlci1zZWxmLXNpZ25lZDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABIJP2IcjzUeG47zt+vZXk19ulKEs4YkIz9FI4A5ymnvGRrE+IrSI
b49NOVH0voTC/8AGf06KCbsuZ41pAmB/iJqjXjBcMA8GA1UdEwEB/wQFMAMBAf8w
DgYDVR0PAQH/BAQDAgGGMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAdBgNV
HQ4EFgQUt3g7q5iPh9FmYFARslemwojgc60wCgYIKoZIzj0EAwIDSQAwRgIhALD9
AkxsTdOhvp2vILj1Q9Htd6JS9Juj4grBlGa7Vy7TAiEAndAEYvTGEerq5nojQA07
bSt/XGum+V0+cQyQleZwBh0=
-----END CERTIFICATE-----
";
    /// A CA (no names) that signed `LEAF`.
    const ROOT: &str = "-----BEGIN CERTIFICATE-----
MIIBVDCB/KADAgECAggjzavd+MzB7DAKBggqhkjOPQQDAjAPMQ0wCwYDVQQDDARy
b290MB4XDTI1MDEwMTAwMDAwMFoXDTM1MDEwMTAwMDAwMFowDzENMAsGA1UEAwwE
cm9vdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABA5v/JtLe1pcK604Bvu7Xnhx
Tgnlfy735UwK9YUywYhKFBrJFRiGESKQaD0sOaJwAFesrtPZ12mJJ6RRcpBAebCj
QjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgGGMB0GA1UdDgQWBBRl
bCQoGhBC7Q91tACoshBExwpX0zAKBggqhkjOPQQDAgNHADBEAiAetRI9CENxO0i0
o8J82Gf0mBT0fj4Qkfnb3QbGuFuOogIgbKp6Z0z/niqq61FLTTAeB/Rzwazinunn
M5iJjkrvVk4=
-----END CERTIFICATE-----
";
    /// CA:FALSE, serverAuth, SAN IP:127.0.0.1, signed by `ROOT`.
    const LEAF: &str = "-----BEGIN CERTIFICATE-----
MIIBnDCCAUKgAwIBAgIIBMCHTEpjjFEwCgYIKoZIzj0EAwIwDzENMAsGA1UEAwwE
cm9vdDAeFw0yNTAxMDEwMDAwMDBaFw0zNTAxMDEwMDAwMDBaMA8xDTALBgNVBAMM
BGxlYWYwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQ4E0qGhEdMwHwOYHvUZg/H
JMWyHy9r0J+OehhNW2pvq+NTSWzmq5Qm1ogrJClyzDvYCXnhBUhy1X7toeEXyqjs
o4GHMIGEMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoG
CCsGAQUFBwMBMA8GA1UdEQQIMAaHBH8AAAEwHQYDVR0OBBYEFOfbENRoqFPkCUUJ
BXbi1szRHuQRMB8GA1UdIwQYMBaAFGVsJCgaEELtD3W0AKiyEETHClfTMAoGCCqG
SM49BAMCA0gAMEUCIFlpbHAn0Au5DGfP3fx7U51ySddJRGA1kVMN13sYpcTNAiEA
vQriHndv2qYZpvRgqRkIR+SU3GktU1dz0/h6ssmk8z4=
-----END CERTIFICATE-----
";

    /// 2030-01-01, 2040-01-01 and 2024-01-01.
    const DURING: u64 = 1_893_456_000;
    const AFTER: u64 = 2_208_988_800;
    const BEFORE: u64 = 1_704_067_200;

    fn cert(pem: &str) -> Result<CertificateDer<'static>, Box<dyn std::error::Error>> {
        Ok(CertificateDer::from_pem_slice(pem.as_bytes())?)
    }

    fn verify(
        verifier: &TrustAnchorAsServer,
        server_cert: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &str,
        at: u64,
    ) -> Result<ServerCertVerified, Box<dyn std::error::Error>> {
        let name = ServerName::try_from(name.to_owned())?;
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at));
        Ok(verifier.verify_server_cert(server_cert, intermediates, &name, &[], now)?)
    }

    fn refusal(result: Result<ServerCertVerified, Box<dyn std::error::Error>>) -> String {
        match result {
            Ok(_) => "accepted".to_owned(),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn a_trusted_ca_certificate_serving_as_its_own_server_certificate_is_accepted() -> TestResult {
        let ca = cert(CA_AS_SERVER)?;
        let verifier = verifier_trusting(std::slice::from_ref(&ca))?;
        verify(&verifier, &ca, &[], "127.0.0.1", DURING)?;
        verify(&verifier, &ca, &[], "localhost", DURING)?;
        Ok(())
    }

    #[test]
    fn webpki_alone_refuses_it_as_ca_used_as_end_entity() -> TestResult {
        // The reason the wrapper exists; if webpki ever accepts it, the
        // wrapper's rule becomes dead code and can go.
        let ca = cert(CA_AS_SERVER)?;
        let verifier = verifier_trusting(std::slice::from_ref(&ca))?;
        let name = ServerName::try_from("127.0.0.1")?;
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(DURING));
        let refused = verifier
            .inner
            .verify_server_cert(&ca, &[], &name, &[], now)
            .err()
            .ok_or("webpki accepted a CA certificate as end entity")?;
        assert!(is_ca_used_as_end_entity(&refused), "{refused}");
        Ok(())
    }

    #[test]
    fn the_name_is_still_checked() -> TestResult {
        let ca = cert(CA_AS_SERVER)?;
        let verifier = verifier_trusting(std::slice::from_ref(&ca))?;
        let refused = refusal(verify(&verifier, &ca, &[], "example.com", DURING));
        assert!(refused.contains("NotValidForName"), "{refused}");
        let refused = refusal(verify(&verifier, &ca, &[], "127.0.0.2", DURING));
        assert!(refused.contains("NotValidForName"), "{refused}");
        Ok(())
    }

    #[test]
    fn the_validity_dates_are_still_checked() -> TestResult {
        let ca = cert(CA_AS_SERVER)?;
        let verifier = verifier_trusting(std::slice::from_ref(&ca))?;
        let refused = refusal(verify(&verifier, &ca, &[], "127.0.0.1", AFTER));
        assert!(refused.contains("Expired"), "{refused}");
        let refused = refusal(verify(&verifier, &ca, &[], "127.0.0.1", BEFORE));
        assert!(refused.contains("NotValidYet"), "{refused}");
        Ok(())
    }

    #[test]
    fn an_untrusted_self_signed_certificate_is_refused_as_self_signed() -> TestResult {
        let verifier = verifier_trusting(&[cert(CA_AS_SERVER)?])?;
        let refused = refusal(verify(
            &verifier,
            &cert(OTHER_SELF_SIGNED)?,
            &[],
            "127.0.0.1",
            DURING,
        ));
        assert!(refused.ends_with("OtherError(Certificate)))"), "{refused}");
        // The same certificate sent as the root of a chain.
        let refused = refusal(verify(
            &verifier,
            &cert(LEAF)?,
            &[cert(OTHER_SELF_SIGNED)?],
            "127.0.0.1",
            DURING,
        ));
        assert!(refused.ends_with("OtherError(InChain)))"), "{refused}");
        Ok(())
    }

    #[test]
    fn only_a_byte_identical_root_is_accepted() -> TestResult {
        // The same CA trusted by the standard verifier but missing from the
        // list of certificates a server may present as itself.
        let ca = cert(CA_AS_SERVER)?;
        let mut verifier = verifier_trusting(std::slice::from_ref(&ca))?;
        verifier.anchors = vec![cert(OTHER_SELF_SIGNED)?];
        let refused = refusal(verify(&verifier, &ca, &[], "127.0.0.1", DURING));
        assert!(refused.ends_with("OtherError(Certificate)))"), "{refused}");
        Ok(())
    }

    #[test]
    fn a_chain_to_a_trusted_root_is_verified_as_before() -> TestResult {
        let verifier = verifier_trusting(&[cert(ROOT)?])?;
        let leaf = cert(LEAF)?;
        verify(&verifier, &leaf, &[], "127.0.0.1", DURING)?;
        let refused = refusal(verify(&verifier, &leaf, &[], "localhost", DURING));
        assert!(refused.contains("NotValidForName"), "{refused}");
        // The root alone, presented by a server, is a CA with no names.
        let refused = refusal(verify(&verifier, &cert(ROOT)?, &[], "127.0.0.1", DURING));
        assert!(refused.contains("NotValidForName"), "{refused}");
        Ok(())
    }

    #[test]
    fn a_leaf_whose_issuer_is_unknown_is_refused() -> TestResult {
        let verifier = verifier_trusting(&[cert(CA_AS_SERVER)?])?;
        let refused = refusal(verify(&verifier, &cert(LEAF)?, &[], "127.0.0.1", DURING));
        assert!(refused.contains("UnknownIssuer"), "{refused}");
        Ok(())
    }

    #[test]
    fn unusable_pem_sections_are_skipped() -> TestResult {
        let mut pem = String::from("not a certificate\n");
        pem.push_str(CA_AS_SERVER);
        pem.push_str("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        pem.push_str(ROOT);
        let roots = usable_roots(pem.as_bytes());
        assert_eq!(roots, vec![cert(CA_AS_SERVER)?, cert(ROOT)?]);
        Ok(())
    }

    #[test]
    fn the_client_config_offers_http2_then_http1() -> TestResult {
        let config = client_config()?;
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        Ok(())
    }
}
