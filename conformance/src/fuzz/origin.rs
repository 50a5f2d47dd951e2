//! The echo origin of proxy mode (`--via FRONT --origin-listen ADDR`): a
//! small HTTP/1.1 server behind the front end under test that records every
//! request the front end forwards (method, target, body length), so what
//! the front end made of the client's bytes can be compared with what RFC
//! 9112 reads in them. It answers each request 200 with a short body.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use h1parse::{BodyKind, ChunkedDecoder, Header, RequestParser, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub use super::oracle::proxy::Received;

/// A running origin; stops with the runtime.
#[derive(Clone)]
pub struct Origin {
    /// Where it listens.
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Received>>>,
    /// Bytes from the front end that cannot be framed as HTTP/1.1 requests.
    garbage: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Origin {
    /// Binds `addr` (port 0: any free port) and serves.
    pub async fn start(addr: &str) -> std::io::Result<Origin> {
        let listener = TcpListener::bind(addr).await?;
        let origin = Origin {
            addr: listener.local_addr()?,
            log: Arc::default(),
            garbage: Arc::default(),
        };
        let o = origin.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let o = o.clone();
                tokio::spawn(async move { o.serve(conn).await });
            }
        });
        Ok(origin)
    }

    /// Takes what was received since the last call.
    pub fn take(&self) -> (Vec<Received>, Vec<Vec<u8>>) {
        (
            std::mem::take(&mut *self.log.lock().expect("origin log")),
            std::mem::take(&mut *self.garbage.lock().expect("origin log")),
        )
    }

    /// How many requests arrived since the last `take`.
    pub fn count(&self) -> usize {
        self.log.lock().expect("origin log").len()
    }

    async fn serve(&self, mut conn: TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.one(&buf) {
                Parsed::Request(r, used, close) => {
                    buf.drain(..used);
                    self.log.lock().expect("origin log").push(r);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n{}\r\nok\n",
                        if close { "Connection: close\r\n" } else { "" }
                    );
                    if conn.write_all(answer.as_bytes()).await.is_err() || close {
                        return;
                    }
                    continue;
                }
                Parsed::Bad(framing) => {
                    // A front end forwarding a target or a field h1parse
                    // rejects (but that frames the same) is lenient, not
                    // smuggling: only framing errors count.
                    if framing {
                        self.garbage.lock().expect("origin log").push(buf.clone());
                    }
                    let _ = conn
                        .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                    return;
                }
                Parsed::More => {}
            }
            match conn.read(&mut chunk).await {
                // An incomplete message at the end: the client's was
                // incomplete too (the front end streams bodies), no finding.
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    fn one(&self, buf: &[u8]) -> Parsed {
        if buf.is_empty() {
            return Parsed::More;
        }
        let mut headers = [Header::EMPTY; 128];
        let req = match RequestParser::new().parse(buf, &mut headers) {
            Ok(Status::Complete(r)) => r,
            Ok(Status::Partial) => return Parsed::More,
            Err(e) => return Parsed::Bad(super::oracle::is_framing(e.kind)),
        };
        let method = req.method.get(buf).to_vec();
        let target = req.target.get(buf).to_vec();
        let mut pos = req.head_len;
        let body_len = match req.body {
            BodyKind::None | BodyKind::UntilClose => 0,
            BodyKind::Length(n) => {
                let Ok(n) = usize::try_from(n) else {
                    return Parsed::Bad(true);
                };
                if buf.len() - pos < n {
                    return Parsed::More;
                }
                pos += n;
                n as u64
            }
            BodyKind::Chunked => {
                let mut dec = ChunkedDecoder::new();
                let mut len = 0u64;
                loop {
                    match dec.decode(&buf[pos..]) {
                        Err(_) => return Parsed::Bad(true),
                        Ok(c) => {
                            len += c.data.len() as u64;
                            pos += c.consumed;
                            if c.done {
                                break len;
                            }
                            if c.consumed == 0 {
                                return Parsed::More;
                            }
                        }
                    }
                }
            }
        };
        Parsed::Request(
            Received {
                method,
                target,
                body_len,
            },
            pos,
            !req.keep_alive,
        )
    }
}

impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Origin({})", self.addr)
    }
}

enum Parsed {
    Request(Received, usize, bool),
    /// Not a request; whether the error concerns framing.
    Bad(bool),
    More,
}
