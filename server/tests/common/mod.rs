//! Helpers shared by the integration tests: a document root in a temporary
//! folder, a server on 127.0.0.1:0, and a raw-bytes client that frames
//! responses with h1parse's response parser.

#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use h1parse::{BodyKind, Header, ResponseParser, Status};
use h1serve::{Config, Server, ServerHandle};

/// Content of `hello.txt`.
pub const HELLO: &[u8] = b"hello, world\n";
/// Content of `secret.txt`, which lives next to the root, outside it.
pub const SECRET: &[u8] = b"TOP-SECRET-OUTSIDE-ROOT\n";
/// Size of `big.bin`.
pub const BIG: usize = 4 * 1024 * 1024;

/// A temporary folder removed on drop: `root/` is served, `secret.txt` is
/// outside it.
pub struct TempTree {
    pub base: PathBuf,
    pub root: PathBuf,
}

impl Drop for TempTree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The byte at offset `i` of `big.bin`.
pub fn big_byte(i: usize) -> u8 {
    (i % 251) as u8
}

impl TempTree {
    pub fn new() -> TempTree {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let base = std::env::temp_dir().join(format!("h1serve-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::write(base.join("secret.txt"), SECRET).unwrap();
        std::fs::write(root.join("hello.txt"), HELLO).unwrap();
        std::fs::write(root.join("index.html"), b"<h1>root index</h1>\n").unwrap();
        std::fs::write(root.join("sub/index.html"), b"<h1>sub index</h1>\n").unwrap();
        std::fs::write(root.join("sub/page.css"), b"body{}\n").unwrap();
        std::fs::write(root.join("sub/deeper/x.json"), b"{}\n").unwrap();
        std::fs::write(root.join("a b.txt"), b"space\n").unwrap();
        let big: Vec<u8> = (0..BIG).map(big_byte).collect();
        std::fs::write(root.join("big.bin"), big).unwrap();
        std::os::unix::fs::symlink("../secret.txt", root.join("escape.txt")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc-link")).unwrap();
        std::os::unix::fs::symlink("hello.txt", root.join("inside-link.txt")).unwrap();
        TempTree { base, root }
    }
}

/// A configuration for tests: ephemeral port, short timeouts.
pub fn config(root: Option<&Path>) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        root: root.map(Path::to_path_buf),
        workers: 2,
        header_timeout: Duration::from_secs(5),
        keepalive_timeout: Duration::from_secs(5),
        body_timeout: Duration::from_secs(5),
        write_timeout: Duration::from_secs(5),
        linger_timeout: Duration::from_millis(500),
        shutdown_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

/// A server on a fresh tree, with the configuration adjusted by `f`.
pub fn serve_with(f: impl FnOnce(&mut Config)) -> (ServerHandle, TempTree) {
    let tree = TempTree::new();
    let mut cfg = config(Some(&tree.root));
    f(&mut cfg);
    (Server::bind(cfg).expect("bind"), tree)
}

/// A server on a fresh tree with the test configuration.
pub fn serve() -> (ServerHandle, TempTree) {
    serve_with(|_| {})
}

/// One parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw TCP client.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut tmp = [0u8; 65536];
        let n = self.stream.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// Reads one response (`head` says it answers a HEAD request).
    pub fn response_to(&mut self, head: bool) -> Resp {
        self.try_response(head).expect("a complete response")
    }

    /// Reads one response to a non-HEAD request.
    pub fn response(&mut self) -> Resp {
        self.response_to(false)
    }

    /// Reads one response, or the error that stopped it.
    pub fn try_response(&mut self, head: bool) -> Result<Resp, String> {
        let mut parser = ResponseParser::new().for_head_request(head);
        let mut headers = [Header::EMPTY; 64];
        let resp = loop {
            match parser.parse(&self.buf, &mut headers) {
                Ok(Status::Complete(r)) => break r,
                Ok(Status::Partial) => match self.fill() {
                    Ok(0) => {
                        return Err(format!(
                            "closed after {:?}",
                            String::from_utf8_lossy(&self.buf)
                        ))
                    }
                    Ok(_) => {}
                    Err(e) => {
                        return Err(format!(
                            "{e} after {:?}",
                            String::from_utf8_lossy(&self.buf)
                        ))
                    }
                },
                Err(e) => {
                    return Err(format!(
                        "bad response ({e}): {:?}",
                        String::from_utf8_lossy(&self.buf)
                    ))
                }
            }
        };
        let head_view = resp.head(&self.buf, &headers);
        let hs: Vec<(String, String)> = head_view
            .headers()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect();
        let head_len = resp.head_len;
        let body_len = match resp.body {
            BodyKind::None => 0,
            BodyKind::Length(n) => n as usize,
            other => return Err(format!("unexpected framing {other:?}")),
        };
        while self.buf.len() < head_len + body_len {
            match self.fill() {
                Ok(0) => return Err("closed inside a body".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("{e} inside a body")),
            }
        }
        let body = self.buf[head_len..head_len + body_len].to_vec();
        self.buf.drain(..head_len + body_len);
        Ok(Resp {
            status: resp.status,
            headers: hs,
            body,
        })
    }

    /// Whether the server closes the connection (EOF, or a reset) within `within`.
    pub fn closed_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.fill() {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return false
                }
                Err(_) => return true,
            }
        }
    }

    /// Bytes received but not yet consumed by a response.
    pub fn leftover(&self) -> &[u8] {
        &self.buf
    }
}

/// Sends `req` on a new connection and reads one response.
pub fn get(addr: SocketAddr, req: &str) -> Resp {
    let mut c = Client::connect(addr);
    c.send(req.as_bytes());
    c.response_to(req.starts_with("HEAD "))
}

/// `GET path` with Host and `Connection: close`.
pub fn get_path(addr: SocketAddr, path: &str) -> Resp {
    get(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
    )
}

/// Polls until `check` holds (at most 2 s).
pub fn eventually(check: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// The address a spawned `h1serve` prints on its first stderr line
/// ("… http://ADDR …"); the child's stderr must be piped.
pub fn printed_addr(child: &mut std::process::Child) -> SocketAddr {
    use std::io::BufRead;
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr piped"));
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    line.split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .parse()
        .unwrap()
}
