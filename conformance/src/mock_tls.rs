//! The mock behind TLS: a TLS terminator in front of a plain mock, as a TLS
//! proxy or a load balancer stands in front of an application server. It
//! relays bytes both ways as they come (each piece the client's TLS record
//! held is one write to the mock), and each end as the other side sees it:
//! the client's `close_notify` or FIN is a FIN to the mock, the mock's FIN
//! is `close_notify` and a FIN to the client, and a reset of the mock's
//! connection resets the client's.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// How long a client may take over its handshake.
const HANDSHAKE: Duration = Duration::from_secs(5);

/// A running TLS terminator; stops when dropped.
pub struct TlsFront {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TlsFront {
    /// Listens on `listen` with the certificate chain `chain` and its key,
    /// and relays each connection to `inner`.
    pub fn start(
        listen: &str,
        inner: SocketAddr,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> io::Result<TlsFront> {
        let mut config = ServerConfig::builder_with_provider(crate::transport::provider())
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        // Two threads: a handshake's arithmetic on one does not hold up the
        // relaying of answers on the other (on a loaded machine, one thread
        // made answers late enough to look like silence to the fuzzer).
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                tokio::select! {
                    _ = accept_loop(listener, acceptor, inner) => {}
                    _ = stopped => {}
                }
            });
        });
        Ok(TlsFront {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, inner: SocketAddr) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of descriptors, say: wait, do not spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await else {
                return;
            };
            let Ok(mock) = TcpStream::connect(inner).await else {
                return;
            };
            let _ = mock.set_nodelay(true);
            relay(tls, mock).await;
        });
    }
}

/// Relays one connection until both sides have ended.
async fn relay(tls: tokio_rustls::server::TlsStream<TcpStream>, mock: TcpStream) {
    let (mut cr, mut cw) = tokio::io::split(tls);
    let (mut mr, mut mw) = mock.into_split();
    let up = async {
        // The client's end, with or without close_notify, is a FIN to the mock.
        let _ = pump(&mut cr, &mut mw).await;
        let _ = mw.shutdown().await;
    };
    let down = async {
        let reset = pump(&mut mr, &mut cw).await.is_err();
        if !reset {
            let _ = cw.shutdown().await;
        }
        reset
    };
    let ((), reset) = tokio::join!(up, down);
    if reset {
        // The mock reset its connection: reset the client's (no
        // close_notify, no FIN), as the client would see without TLS.
        let tls = cr.unsplit(cw);
        let _ = tls.get_ref().0.set_zero_linger();
    }
}

/// Copies `from` to `to`, flushing each piece, until the end of `from`: an
/// error if a read failed (a reset), not for a failed write.
async fn pump<R, W>(from: &mut R, to: &mut W) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            // A client's FIN without close_notify ends its stream too.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        if to.write_all(&buf[..n]).await.is_err() || to.flush().await.is_err() {
            return Ok(());
        }
    }
}
