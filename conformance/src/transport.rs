//! How h1spec reaches a target: plain TCP (`HOST:PORT`, `http://HOST:PORT`)
//! or TLS (`https://HOST:PORT`, rustls with its `ring` provider). Every
//! connection the runner, the preflight and the fuzzer make goes through
//! [`connect`] (or [`secure`], for a TCP stream made elsewhere), and gives a
//! [`Conn`] that reads and writes the same raw bytes either way, so the code
//! above it does not know which it has.
//!
//! What TLS changes for raw-byte cases, and how it is kept close to TCP:
//!
//! * a write is flushed at once, as one TLS record (or several, past 16 KiB):
//!   the server reads the pieces the case split, as over TCP, though a TLS
//!   server's reads follow records, not TCP segments;
//! * a half-close sends `close_notify` and then the TCP FIN: a TLS server
//!   sees the two together, never a FIN alone, and some servers take
//!   `close_notify` as a full close;
//! * the server's `close_notify`, or a FIN without one (many servers skip
//!   it; rustls calls that an unexpected end), both read as the end of the
//!   stream.
//!
//! The trust settings are the process's (the `--insecure` and `--cacert`
//! flags), set once with [`configure`]: every target of one run is reached
//! the same way, and the address string the runner passes around stays the
//! whole description of where to connect.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A target address, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://`: speak TLS.
    pub tls: bool,
    /// The host, without brackets: a name or an IP address (the TLS server
    /// name, sent as SNI unless it is an IP address).
    pub host: String,
    /// The port.
    pub port: u16,
}

impl Endpoint {
    /// Reads `HOST:PORT`, `http://HOST:PORT` or `https://HOST:PORT` (a
    /// name, an IPv4 address or a bracketed IPv6 address; with a scheme the
    /// port may be left out: 80 or 443). A trailing `/` is allowed after a
    /// scheme.
    pub fn parse(addr: &str) -> Result<Endpoint, String> {
        let bad = || {
            format!(
                "{addr:?} is not HOST:PORT or https://HOST:PORT (e.g. 127.0.0.1:8080, localhost:80, [::1]:8080, https://localhost:8443)"
            )
        };
        let (tls, rest, default_port) = if let Some(r) = addr.strip_prefix("https://") {
            (true, r.strip_suffix('/').unwrap_or(r), Some(443))
        } else if let Some(r) = addr.strip_prefix("http://") {
            (false, r.strip_suffix('/').unwrap_or(r), Some(80))
        } else {
            (false, addr, None)
        };
        let (host, port) = split_port(rest, default_port).ok_or_else(bad)?;
        let host_ok = if let Some(v6) = host.strip_prefix('[') {
            v6.strip_suffix(']')
                .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
        } else {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        };
        if !host_ok {
            return Err(bad());
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Ok(Endpoint {
            tls,
            host: host.to_string(),
            port,
        })
    }

    /// `host:port` (IPv6 bracketed), what TCP connects to.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Whether `addr` names a TLS target (`https://`).
pub fn is_tls(addr: &str) -> bool {
    addr.starts_with("https://")
}

impl std::fmt::Display for Endpoint {
    /// `host:port`, or `https://host:port`: the form the rest of h1spec
    /// passes around (a plain `http://` is said without its scheme, as
    /// before TLS was supported).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.tls {
            f.write_str("https://")?;
        }
        f.write_str(&self.authority())
    }
}

/// `host` and the port of `host:port`; with no port, `default` if there is one.
fn split_port(s: &str, default: Option<u16>) -> Option<(&str, u16)> {
    // An IPv6 literal holds colons of its own: the port comes after `]`.
    let tail = s.rfind(']').map_or(s, |i| &s[i..]);
    match tail.rfind(':') {
        Some(i) => {
            let at = s.len() - tail.len() + i;
            let port = s[at + 1..].parse::<u16>().ok().filter(|p| *p > 0)?;
            Some((&s[..at], port))
        }
        None => default.map(|p| (s, p)),
    }
}

/// Whom TLS targets are trusted by: the `--insecure` and `--cacert` flags.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Accept any certificate (as `curl -k`).
    pub insecure: bool,
    /// PEM file of certificates to trust besides the built-in roots.
    pub cacert: Option<PathBuf>,
}

impl TlsOptions {
    /// The flags that give these options again, for a rerun line
    /// (` --insecure`, ` --cacert FILE`; empty for the defaults).
    pub fn flags(&self) -> String {
        let mut s = String::new();
        if self.insecure {
            s.push_str(" --insecure");
        }
        if let Some(f) = &self.cacert {
            s.push_str(&format!(" --cacert {}", f.display()));
        }
        s
    }
}

/// The process's TLS client settings (see [`configure`]).
struct Settings {
    config: Arc<ClientConfig>,
    options: TlsOptions,
}

static SETTINGS: RwLock<Option<Arc<Settings>>> = RwLock::new(None);

/// Sets how TLS targets are trusted from now on; an error for a `--cacert`
/// file that holds no usable certificate.
pub fn configure(options: &TlsOptions) -> Result<(), String> {
    let config = Arc::new(client_config(options)?);
    let settings = Settings {
        config,
        options: options.clone(),
    };
    *SETTINGS.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(settings));
    Ok(())
}

/// The settings in force: those [`configure`] set, else the built-in
/// roots only.
fn settings() -> Arc<Settings> {
    if let Some(s) = SETTINGS.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return s.clone();
    }
    let options = TlsOptions::default();
    let config = client_config(&options).expect("the built-in roots load");
    let s = Arc::new(Settings {
        config: Arc::new(config),
        options,
    });
    *SETTINGS.write().unwrap_or_else(|e| e.into_inner()) = Some(s.clone());
    s
}

/// The trust flags in force, as a rerun line gives them.
pub fn flags() -> String {
    settings().options.flags()
}

/// rustls with *ring*: it builds with a C compiler alone, where aws-lc-rs
/// (rustls's default) needs cmake. rustls deprecates it for lacking
/// post-quantum key exchange, which a conformance runner does not need: its
/// connections carry test requests, not secrets.
#[allow(deprecated)]
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls client configuration for `options`, offering ALPN `http/1.1`.
pub fn client_config(options: &TlsOptions) -> Result<ClientConfig, String> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // Read even with --insecure, so a bad file is said, not ignored.
    if let Some(file) = &options.cacert {
        add_pem(&mut roots, file)?;
    }
    let mut config = if options.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
            .with_no_client_auth()
    } else {
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Adds every certificate of the PEM file `file` to `roots`.
fn add_pem(roots: &mut RootCertStore, file: &std::path::Path) -> Result<(), String> {
    let at = |e: String| format!("--cacert {}: {e}", file.display());
    let text = std::fs::read(file).map_err(|e| at(e.to_string()))?;
    let mut n = 0;
    for cert in CertificateDer::pem_slice_iter(&text) {
        let cert = cert.map_err(|e| at(format!("not a readable PEM file ({e})")))?;
        roots.add(cert).map_err(|e| {
            at(format!(
                "a certificate in it cannot be a trust anchor ({e})"
            ))
        })?;
        n += 1;
    }
    if n == 0 {
        return Err(at(
            "no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(())
}

/// `--insecure`: any certificate is taken; the handshake's signatures are
/// still checked, so the connection is TLS, only not authenticated.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One connection to a target, plain or TLS.
#[derive(Debug)]
pub enum Conn {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

/// Connects to `addr` (any form [`Endpoint::parse`] reads), with Nagle off
/// so that each write goes out as the script split it, and with the TLS
/// handshake done for `https://`.
pub async fn connect(addr: &str) -> io::Result<Conn> {
    let ep = Endpoint::parse(addr).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let tcp = TcpStream::connect(ep.authority()).await?;
    tcp.set_nodelay(true)?;
    secure(tcp, &ep).await
}

/// `tcp` as a [`Conn`] to `ep`: as it is, or after the TLS handshake (SNI
/// from the host name, none for an IP address, whose certificate must then
/// name that address). A failed handshake says why.
pub async fn secure(tcp: TcpStream, ep: &Endpoint) -> io::Result<Conn> {
    if !ep.tls {
        return Ok(Conn::Plain(tcp));
    }
    let name = ServerName::try_from(ep.host.clone()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a TLS server name ({e})", ep.host),
        )
    })?;
    TlsConnector::from(settings().config.clone())
        .connect(name, tcp)
        .await
        .map(|s| Conn::Tls(Box::new(s)))
        .map_err(|e| explain(e, ep))
}

/// A handshake error in words a user can act on.
fn explain(e: io::Error, ep: &Endpoint) -> io::Error {
    let tls = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    let why = match tls {
        Some(rustls::Error::InvalidCertificate(c)) => certificate(c, &ep.host),
        Some(rustls::Error::InvalidMessage(_)) | Some(rustls::Error::InappropriateMessage { .. }) => {
            "no TLS on that port: the server answered the handshake with bytes that are not TLS (a plain HTTP server answers so: use HOST:PORT or http://)".to_string()
        }
        Some(rustls::Error::AlertReceived(a)) => {
            format!("the server refused the handshake (TLS alert: {a:?})")
        }
        Some(other) => other.to_string(),
        None if e.kind() == io::ErrorKind::UnexpectedEof => {
            "the server closed the connection during the handshake (no TLS on that port?)".into()
        }
        None => e.to_string(),
    };
    io::Error::new(e.kind(), format!("TLS handshake failed: {why}"))
}

/// Why a certificate was refused.
fn certificate(c: &CertificateError, host: &str) -> String {
    match c {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            "certificate not trusted: no trusted root signed it (give its CA with --cacert FILE, or --insecure)".into()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("certificate name mismatch: the certificate is not valid for {host}")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "certificate expired".into()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate not valid yet".into()
        }
        other => format!("certificate refused ({other:?})"),
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            // A FIN without close_notify is how many servers end a TLS
            // connection: the end of the stream, as over TCP, not an error.
            Conn::Tls(s) => match Pin::new(s.as_mut()).poll_read(cx, buf) {
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    Poll::Ready(Ok(()))
                }
                other => other,
            },
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    /// Plain: the FIN. TLS: `close_notify`, then the FIN.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let p = |s: &str| Endpoint::parse(s).map(|e| e.to_string());
        assert_eq!(p("127.0.0.1:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(p("http://localhost:80").unwrap(), "localhost:80");
        assert_eq!(p("http://localhost").unwrap(), "localhost:80");
        assert_eq!(p("https://localhost").unwrap(), "https://localhost:443");
        assert_eq!(p("https://[::1]:8443/").unwrap(), "https://[::1]:8443");
        assert_eq!(Endpoint::parse("https://[::1]:8443").unwrap().host, "::1");
        for bad in [
            "localhost",
            "https://",
            "https://a b:1",
            "a:0",
            "[::1]",
            "ftp://a:1",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }
}
