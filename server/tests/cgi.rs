//! CGI/1.1 under `--cgi-dir`: meta-variables, body on stdin, response
//! fields (Status, Location, Set-Cookie), chunked and close-delimited
//! streaming, a slow script that does not hold up its worker, the timeout,
//! the output cap, `Expect: 100-continue`, and no zombies left behind.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{config, eventually, get_path, TempTree};
use h1parse::{BodyKind, ChunkedDecoder, Header, ResponseParser, Status};
use h1serve::{Server, ServerHandle};
use pretty_assertions::assert_eq;

const ECHO: &str = r#"#!/bin/sh
echo "Content-Type: text/plain"
echo "Set-Cookie: session=abc123; Path=/; HttpOnly"
echo "X-Script: echo"
echo ""
env | LC_ALL=C sort
echo "BODY:"
cat
"#;

/// Writes an executable script into `dir`.
fn script(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A server with `--cgi-dir base/cgi` holding the test scripts.
fn serve_cgi(f: impl FnOnce(&mut h1serve::Config)) -> (ServerHandle, TempTree, PathBuf) {
    let tree = TempTree::new();
    let dir = tree.base.join("cgi");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    script(&dir, "echo.sh", ECHO);
    script(
        &dir,
        "status.sh",
        "#!/bin/sh\nprintf 'Status: 404 Not Here\\nContent-Type: text/plain\\n\\nmissing\\n'\n",
    );
    script(
        &dir,
        "redirect.sh",
        "#!/bin/sh\nprintf 'Location: http://example.com/\\n\\n'\n",
    );
    script(
        &dir,
        "length.sh",
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\nContent-Length: 5\\r\\n\\r\\nhello'\n",
    );
    script(&dir, "bad.sh", "#!/bin/sh\necho 'this is not a header'\n");
    script(&dir, "silent.sh", "#!/bin/sh\nexit 3\n");
    script(
        &dir,
        "slow.sh",
        "#!/bin/sh\nsleep 5\nprintf 'Content-Type: text/plain\\n\\nslept\\n'\n",
    );
    script(
        &dir,
        "abandoned.sh",
        "#!/bin/sh\nsleep 5\nprintf 'Content-Type: text/plain\\n\\nlate\\n'\n",
    );
    script(
        &dir,
        "forever.sh",
        "#!/bin/sh\nwhile :; do sleep 0.1; done\n",
    );
    script(
        &dir,
        "forever-after-head.sh",
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nstarted\\n'\nwhile :; do sleep 0.1; done\n",
    );
    script(
        &dir,
        "flood.sh",
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nwhile :; do echo 0123456789abcdef0123456789abcdef; done\n",
    );
    script(
        &dir,
        "sub/stderr.sh",
        "#!/bin/sh\necho 'cgi test: a line on stderr' >&2\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n",
    );
    std::fs::write(dir.join("not-executable.sh"), "#!/bin/sh\necho\n").unwrap();
    let mut cfg = config(Some(&tree.root));
    cfg.cgi_dir = Some(dir.clone());
    f(&mut cfg);
    (Server::bind(cfg).expect("bind"), tree, dir)
}

/// One response, with its body decoded (Content-Length, chunked or until close).
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The body ended properly (not cut short by a close).
    complete: bool,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    fn send(&mut self, b: &[u8]) {
        self.stream.write_all(b).unwrap();
    }

    /// Reads more; false at EOF (or a reset).
    fn fill(&mut self) -> bool {
        let mut tmp = [0u8; 65536];
        match self.stream.read(&mut tmp) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
        }
    }

    fn reply(&mut self, head_request: bool) -> Reply {
        let mut headers = [Header::EMPTY; 64];
        let mut parser = ResponseParser::new().for_head_request(head_request);
        let resp = loop {
            match parser.parse(&self.buf, &mut headers) {
                Ok(Status::Complete(r)) => break r,
                Ok(Status::Partial) => assert!(
                    self.fill(),
                    "closed before a response: {:?}",
                    String::from_utf8_lossy(&self.buf)
                ),
                Err(e) => panic!("bad response {e}: {:?}", String::from_utf8_lossy(&self.buf)),
            }
        };
        let hs = resp
            .head(&self.buf, &headers)
            .headers()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect();
        self.buf.drain(..resp.head_len);
        let mut body = Vec::new();
        let complete = match resp.body {
            BodyKind::None => true,
            BodyKind::Length(n) => {
                while (self.buf.len() as u64) < n {
                    if !self.fill() {
                        break;
                    }
                }
                let n = (n as usize).min(self.buf.len());
                body.extend(self.buf.drain(..n));
                true
            }
            BodyKind::Chunked => {
                let mut dec = ChunkedDecoder::new();
                loop {
                    let chunk = dec.decode(&self.buf).expect("valid chunked framing");
                    body.extend_from_slice(&self.buf[chunk.data.clone()]);
                    self.buf.drain(..chunk.consumed);
                    if chunk.done {
                        break true;
                    }
                    if chunk.consumed == 0 && !self.fill() {
                        break false;
                    }
                }
            }
            BodyKind::UntilClose => {
                while self.fill() {}
                body = std::mem::take(&mut self.buf);
                true
            }
        };
        Reply {
            status: resp.status,
            headers: hs,
            body,
            complete,
        }
    }
}

fn fetch(addr: SocketAddr, req: &str) -> Reply {
    let mut c = Conn::open(addr);
    c.send(req.as_bytes());
    c.reply(req.starts_with("HEAD "))
}

/// Children of this process (the server runs in it) that are zombies.
fn zombies() -> Vec<String> {
    children(|state, _| state == "Z")
}

/// Children of this process whose `(state, comm)` pass `keep`.
fn children(keep: impl Fn(&str, &str) -> bool) -> Vec<String> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = stat[..close].split_once('(').map_or("", |(_, c)| c);
        let mut rest = stat[close + 1..].split_whitespace();
        let (state, ppid) = (rest.next().unwrap_or(""), rest.next());
        if ppid == Some(me.as_str()) && keep(state, comm) {
            found.push(stat[..close + 1].to_string());
        }
    }
    found
}

/// No zombie child persists: an exited script is reaped promptly (tests in
/// this file run in parallel, so one may be between exit and reaping).
fn assert_no_zombies() {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let z = zombies();
        if z.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "zombie children: {z:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn env_var<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
}

#[test]
fn script_sets_a_cookie_and_echoes_its_environment_and_body() {
    let (server, _tree, _dir) = serve_cgi(|_| {});
    let addr = server.local_addr();
    let r = fetch(
        addr,
        "POST /cgi-bin/echo.sh/extra/path%20x?a=1&b=%20two HTTP/1.1\r\nHost: example.test:8080\r\n\
         Content-Type: text/x-test\r\nContent-Length: 9\r\nX-Custom: yes\r\nX-Custom: again\r\n\
         Authorization: Basic c2VjcmV0\r\nProxy: http://evil/\r\nCookie: c=1\r\n\r\nhello cgi",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.complete);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(
        r.header("set-cookie"),
        Some("session=abc123; Path=/; HttpOnly")
    );
    assert_eq!(r.header("x-script"), Some("echo"));
    assert_eq!(r.header("content-type"), Some("text/plain"));
    let text = r.text();
    let port = addr.port().to_string();
    let expected = [
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("REQUEST_METHOD", "POST"),
        ("QUERY_STRING", "a=1&b=%20two"),
        ("SCRIPT_NAME", "/cgi-bin/echo.sh"),
        ("PATH_INFO", "/extra/path x"),
        ("CONTENT_LENGTH", "9"),
        ("CONTENT_TYPE", "text/x-test"),
        ("SERVER_NAME", "example.test"),
        ("SERVER_PORT", port.as_str()),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("HTTP_X_CUSTOM", "yes, again"),
        ("HTTP_COOKIE", "c=1"),
        ("HTTP_HOST", "example.test:8080"),
    ];
    for (name, value) in expected {
        assert_eq!(env_var(&text, name), Some(value), "{name} in\n{text}");
    }
    // RFC 3875 §4.1.18: credentials are not passed; nor is httpoxy's Proxy.
    for absent in [
        "HTTP_AUTHORIZATION",
        "HTTP_PROXY",
        "HTTP_CONTENT_LENGTH",
        "HTTP_CONTENT_TYPE",
    ] {
        assert_eq!(env_var(&text, absent), None, "{absent} in\n{text}");
    }
    assert!(text.ends_with("BODY:\nhello cgi"), "{text}");
    assert_no_zombies();
}

#[test]
fn chunked_request_body_and_keep_alive() {
    let (server, _tree, _dir) = serve_cgi(|_| {});
    let mut c = Conn::open(server.local_addr());
    c.send(b"POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\nGET /cgi-bin/echo.sh?second HTTP/1.1\r\nHost: t\r\n\r\n");
    let first = c.reply(false);
    assert_eq!(first.status, 200);
    assert_eq!(env_var(&first.text(), "CONTENT_LENGTH"), Some("7"));
    assert!(first.text().ends_with("BODY:\nabcdefg"), "{}", first.text());
    // The pipelined second request waited for the first script, on the same connection.
    let second = c.reply(false);
    assert_eq!(env_var(&second.text(), "QUERY_STRING"), Some("second"));
    assert_eq!(env_var(&second.text(), "REQUEST_METHOD"), Some("GET"));
    assert_eq!(env_var(&second.text(), "CONTENT_LENGTH"), None);
    assert!(second.text().ends_with("BODY:\n"), "{}", second.text());
    assert_no_zombies();
}

#[test]
fn status_location_length_and_http10() {
    let (server, _tree, _dir) = serve_cgi(|_| {});
    let addr = server.local_addr();
    let r = fetch(addr, "GET /cgi-bin/status.sh HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((r.status, r.text().as_str()), (404, "missing\n"));
    let r = fetch(addr, "GET /cgi-bin/redirect.sh HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("http://example.com/"));
    let r = fetch(addr, "GET /cgi-bin/length.sh HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.header("content-length"), Some("5"));
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.body, b"hello");
    let r = fetch(addr, "HEAD /cgi-bin/length.sh HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((r.status, r.body.len()), (200, 0));
    // HTTP/1.0 has no chunked coding: the body ends with the connection.
    let r = fetch(addr, "GET /cgi-bin/echo.sh HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(env_var(&r.text(), "SERVER_PROTOCOL"), Some("HTTP/1.0"));
    // stderr goes to the error log; the response is unaffected.
    let r = fetch(
        addr,
        "GET /cgi-bin/sub/stderr.sh HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
    assert_no_zombies();
}

#[test]
fn broken_missing_and_forbidden_scripts() {
    let (server, _tree, _dir) = serve_cgi(|_| {});
    let addr = server.local_addr();
    let status = |path: &str| {
        fetch(
            addr,
            &format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
        )
        .status
    };
    assert_eq!(status("/cgi-bin/bad.sh"), 502);
    assert_eq!(status("/cgi-bin/silent.sh"), 502);
    assert_eq!(status("/cgi-bin/missing.sh"), 404);
    assert_eq!(status("/cgi-bin/not-executable.sh"), 403);
    assert_eq!(status("/cgi-bin/"), 403);
    assert_eq!(status("/cgi-bin/sub/"), 403);
    // Not a script path at all once normalized: a static file.
    assert_eq!(get_path(addr, "/cgi-bin/../hello.txt").status, 200);
    assert_no_zombies();
}

#[test]
fn slow_script_does_not_hold_up_its_worker() {
    let (server, _tree, _dir) = serve_cgi(|c| c.workers = 1);
    let addr = server.local_addr();
    let started = Instant::now();
    let mut slow = Conn::open(addr);
    slow.send(b"GET /cgi-bin/slow.sh HTTP/1.1\r\nHost: t\r\n\r\n");
    // Make sure the script is running before the others start.
    std::thread::sleep(Duration::from_millis(200));
    let mut c = Conn::open(addr);
    for i in 0..100 {
        let req = if i % 2 == 0 {
            "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n"
        } else {
            "GET /cgi-bin/length.sh HTTP/1.1\r\nHost: t\r\n\r\n"
        };
        c.send(req.as_bytes());
        assert_eq!(c.reply(false).status, 200, "request {i}");
    }
    let others = started.elapsed();
    assert!(
        others < Duration::from_secs(3),
        "100 requests took {others:?} beside a sleeping script"
    );
    let r = slow.reply(false);
    assert_eq!(r.text(), "slept\n");
    assert!(started.elapsed() >= Duration::from_millis(4900));
    assert_no_zombies();
}

#[test]
fn script_that_never_ends_is_killed_at_the_timeout() {
    let (server, _tree, _dir) = serve_cgi(|c| c.cgi_timeout = Duration::from_millis(800));
    let addr = server.local_addr();
    let started = Instant::now();
    let r = fetch(addr, "GET /cgi-bin/forever.sh HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 504);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(2),
        "{took:?}"
    );
    // After the head was sent, a timeout can only cut the body short.
    let r = fetch(
        addr,
        "GET /cgi-bin/forever-after-head.sh HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert!(!r.complete, "a killed script's body must not look complete");
    assert_eq!(r.text(), "started\n");
    assert_no_zombies();
}

#[test]
fn output_over_the_cap_kills_the_script() {
    let (server, _tree, _dir) = serve_cgi(|c| c.cgi_max_output = 256 * 1024);
    let r = fetch(
        server.local_addr(),
        "GET /cgi-bin/flood.sh HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    // Either refused before the head went out, or cut short after it.
    assert!(
        r.status == 502 || !r.complete,
        "{:?}",
        (r.status, r.body.len())
    );
    assert!(r.body.len() <= 256 * 1024);
    assert_no_zombies();
}

#[test]
fn expect_100_continue_both_ways() {
    let (server, _tree, _dir) = serve_cgi(|c| c.max_body = 1024);
    let addr = server.local_addr();
    // Wanted: 100, then the body, then the script's answer.
    let mut c = Conn::open(addr);
    c.send(b"POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(c.reply(false).status, 100);
    c.send(b"xyz");
    let r = c.reply(false);
    assert_eq!(r.status, 200);
    assert!(r.text().ends_with("BODY:\nxyz"), "{}", r.text());
    // Not wanted: the final status at once, then close.
    for (req, status) in [
        ("POST /cgi-bin/missing.sh HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n", 404),
        ("POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\nExpect: 100-continue\r\n\r\n", 413),
    ] {
        let mut c = Conn::open(addr);
        c.send(req.as_bytes());
        let r = c.reply(false);
        assert_eq!(r.status, status, "{req}");
        assert_eq!(r.header("connection"), Some("close"), "{req}");
        let _ = c.stream.write_all(b"xyz");
        assert!(!c.fill(), "{req}: the connection stays open");
    }
    assert_no_zombies();
}

#[test]
fn client_reset_kills_and_reaps_its_script() {
    let (server, _tree, _dir) = serve_cgi(|_| {});
    let mut c = Conn::open(server.local_addr());
    c.send(b"POST /cgi-bin/abandoned.sh HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n");
    let running = || !children(|_, comm| comm == "abandoned.sh").is_empty();
    // The 100 arrives and stays unread, so closing below sends a reset.
    std::thread::sleep(Duration::from_millis(100));
    c.send(b"x");
    assert!(eventually(running), "the script never started");
    drop(c);
    assert!(
        eventually(|| !running()),
        "script still running after its client reset"
    );
    // What the script started (its `sleep 5`) is killed with it.
    let group_left = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let env = std::fs::read(e.path().join("environ")).unwrap_or_default();
            cmd.starts_with(b"sleep\0")
                && env
                    .split(|&b| b == 0)
                    .any(|v| v == b"SCRIPT_NAME=/cgi-bin/abandoned.sh")
        })
    };
    assert!(eventually(|| !group_left()), "the script's sleep survived");
    assert_no_zombies();
}

// Issue 17, fault 2: no limit on concurrent scripts (1,500 connections made
// 3,000 processes). Over --cgi-max-procs: 503 with Retry-After, no fork.
#[test]
fn scripts_over_the_cap_get_503_and_are_not_forked() {
    let (server, tree, dir) = serve_cgi(|c| c.cgi_max_procs = 2);
    let marks = tree.base.join("marks");
    std::fs::create_dir_all(&marks).unwrap();
    script(
        &dir,
        "mark.sh",
        &format!(
            "#!/bin/sh\ntouch {}/$$\nsleep 1\nprintf 'Content-Type: text/plain\\n\\nslow\\n'\n",
            marks.display()
        ),
    );
    let addr = server.local_addr();
    let req = "GET /cgi-bin/mark.sh HTTP/1.1\r\nHost: t\r\n\r\n";
    let mut slow: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(req.as_bytes()).unwrap();
            s
        })
        .collect();
    let n_marks = || std::fs::read_dir(&marks).unwrap().count();
    assert!(eventually(|| n_marks() == 2), "two scripts started");
    let over = fetch(addr, req);
    assert_eq!(over.status, 503, "{}", over.text());
    assert_eq!(over.header("retry-after"), Some("1"));
    assert_eq!(n_marks(), 2, "a script was forked over the cap");
    // The two finish; their places come back.
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    }
    assert!(
        eventually(|| fetch(addr, req).status == 200),
        "a place came back"
    );
    assert_no_zombies();
}

// Issue 17, fault 4: --cgi-timeout was checked only once the output buffer
// drained, so a script whose client does not read lived on (a 3 s timeout
// script lived 30 s). It is enforced from the timer, whatever the buffers.
#[test]
fn timeout_kills_a_script_whose_client_does_not_read() {
    let (server, tree, dir) = serve_cgi(|c| {
        c.cgi_timeout = Duration::from_millis(800);
        c.write_timeout = Duration::from_secs(30);
    });
    let mark = tree.base.join("flood.pid");
    script(
        &dir,
        "flood.sh",
        &format!(
            "#!/bin/sh\necho $$ > {}\nprintf 'Content-Type: application/octet-stream\\n\\n'\nexec cat /dev/zero\n",
            mark.display()
        ),
    );
    let mut c = TcpStream::connect(server.local_addr()).unwrap();
    c.write_all(b"GET /cgi-bin/flood.sh HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    // The client reads nothing: the socket and then the pipe fill up.
    assert!(eventually(|| mark.exists()), "the script started");
    let pid = std::fs::read_to_string(&mark).unwrap().trim().to_string();
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let started = Instant::now();
    let mut gone = false;
    while started.elapsed() < Duration::from_secs(4) {
        if !proc_dir.exists() {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        gone,
        "the script outlived --cgi-timeout by 3 s with its client not reading"
    );
    drop(c);
    assert_no_zombies();
}

// Issue 17, fault 3: a script's stderr was copied with blocking writes in the
// worker; with h1serve's own stderr a pipe nobody reads, one script writing
// to stderr froze the worker. Now the copy never blocks, is capped per script,
// and what is dropped is counted in /stats.
#[test]
fn stderr_flood_with_a_stalled_error_log_does_not_freeze_the_worker() {
    let tree = TempTree::new();
    let cgi = tree.base.join("cgi");
    std::fs::create_dir_all(&cgi).unwrap();
    script(
        &cgi,
        "spam.sh",
        "#!/bin/sh\nhead -c 4000000 /dev/zero | tr '\\0' e >&2\nprintf 'Content-Type: text/plain\\n\\ndone\\n'\n",
    );
    // h1serve itself, one worker, its stderr a pipe this test never reads
    // (after the first line, which carries the address).
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_h1serve"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--cgi-timeout",
            "20s",
        ])
        .arg("--root")
        .arg(&tree.root)
        .arg("--cgi-dir")
        .arg(&cgi)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("h1serve starts");
    // Killed by pid when the test ends, passed or not.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Reap(child);
    let child = &mut child.0;
    // Read the first line (the address) and keep the pipe open, unread:
    // a closed pipe would make writes fail at once instead of stalling.
    let mut log = std::io::BufReader::new(child.stderr.take().expect("stderr piped"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut log, &mut line).unwrap();
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let started = Instant::now();
    let r = fetch(addr, "GET /cgi-bin/spam.sh HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 200, "{}", r.text());
    // The same worker still answers, quickly, while its stderr is stalled.
    let hello = get_path(addr, "/hello.txt");
    assert_eq!(hello.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let stats = get_path(addr, "/stats").text();
    let dropped: u64 = stats
        .split("\"cgi_stderr_dropped\":")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("cgi_stderr_dropped in /stats");
    assert!(dropped >= 4_000_000 - 2 * 1024 * 1024, "dropped {dropped}");
    drop(log);
}

// Issue 17, minor: a script that closes stdout but keeps running held the
// keep-alive connection until --cgi-timeout and dropped the pipelined request
// behind it. The response ends at EOF on stdout (RFC 3875 §6.1).
#[test]
fn script_that_closes_stdout_and_lingers_does_not_hold_the_connection() {
    let (server, tree, dir) = serve_cgi(|c| c.cgi_timeout = Duration::from_secs(8));
    let mark = tree.base.join("linger.pid");
    script(
        &dir,
        "linger.sh",
        &format!(
            "#!/bin/sh\necho $$ > {}\nprintf 'Content-Type: text/plain\\n\\nbye\\n'\nexec >&-\nexec sleep 30\n",
            mark.display()
        ),
    );
    let mut c = Conn::open(server.local_addr());
    let started = Instant::now();
    c.send(b"GET /cgi-bin/linger.sh HTTP/1.1\r\nHost: t\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    let first = c.reply(false);
    assert_eq!(first.status, 200);
    assert_eq!(first.text(), "bye\n");
    let second = c.reply(false);
    assert_eq!(
        second.status, 200,
        "the pipelined request behind the script"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "both answered only after {:?}",
        started.elapsed()
    );
    let pid = std::fs::read_to_string(&mark).unwrap().trim().to_string();
    assert!(eventually(
        || !PathBuf::from(format!("/proc/{pid}")).exists()
    ));
    assert_no_zombies();
}

/// VmRSS of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS")
}

// Issue 17 fault 1: a CGI request body was collected in memory before the
// script started, so stalled uploads to a script cost their whole size
// (1,000 clients × 1 MiB: 2.9 MB → 1,073 MB). Past 16 KiB it now goes to
// an unlinked file. 200 clients each send all but the last byte of a
// 1 MiB body; the server (a child process, so the test's own memory does
// not count) must grow by far less than the 200 MiB the bodies hold.
#[test]
fn stalled_cgi_bodies_do_not_stay_in_memory() {
    let tree = TempTree::new();
    let dir = tree.base.join("cgi");
    std::fs::create_dir_all(&dir).unwrap();
    script(&dir, "echo.sh", ECHO);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_h1serve"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--max-body",
            "2m",
        ])
        .args(["--cgi-max-procs", "1000", "--cgi-dir"])
        .arg(&dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = common::printed_addr(&mut child);
    let pid = child.id();
    let before = rss_kib(pid);
    const CLIENTS: usize = 200;
    const BODY: usize = 1 << 20;
    let body = vec![b'x'; BODY - 1];
    let mut conns = Vec::new();
    for _ in 0..CLIENTS {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: t\r\nContent-Length: {BODY}\r\n\r\n"
        )
        .unwrap();
        s.write_all(&body).unwrap();
        conns.push(s);
    }
    // Until the server has read what was sent (its memory stops growing).
    let mut after = rss_kib(pid);
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        let now = rss_kib(pid);
        if now.abs_diff(after) < 256 {
            break;
        }
        after = now;
    }
    let after = rss_kib(pid).max(after);
    // The last byte: every script runs and answers with the whole body.
    let mut last = conns.pop().unwrap();
    last.write_all(b"x").unwrap();
    last.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 65536];
    while reply.len() < BODY {
        match last.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
        }
    }
    drop(conns);
    let _ = child.kill();
    let _ = child.wait();
    let grown_mib = after.saturating_sub(before) / 1024;
    eprintln!(
        "{CLIENTS} stalled 1 MiB CGI bodies: RSS {before} KiB -> {after} KiB (+{grown_mib} MiB)"
    );
    assert!(
        grown_mib < 40,
        "{CLIENTS} stalled CGI bodies grew the server by {grown_mib} MiB"
    );
    assert!(
        reply.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&reply[..reply.len().min(200)])
    );
    assert!(
        reply.len() > BODY,
        "the script got the whole body on stdin ({} bytes back)",
        reply.len()
    );
}

// The --cgi-max-procs place was taken when a script request was routed,
// before any body byte: slow bodies, or `Expect: 100-continue` requests
// that never send theirs, made every other CGI request 503 for as long as
// they liked. A place is now taken when the script is about to start, its
// body all read (as nginx reads the body before it calls its upstream).
#[test]
fn slow_bodies_and_unsent_100_continue_bodies_take_no_cgi_slot() {
    let (server, _tree, dir) = serve_cgi(|c| c.cgi_max_procs = 2);
    script(
        &dir,
        "ok.sh",
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n",
    );
    let addr = server.local_addr();
    let mut held = Vec::new();
    for i in 0..4 {
        let mut s = TcpStream::connect(addr).unwrap();
        let expect = if i % 2 == 0 {
            "Expect: 100-continue\r\n"
        } else {
            ""
        };
        let head = format!(
            "POST /cgi-bin/ok.sh HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n{expect}\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        if expect.is_empty() {
            s.write_all(&[b'x'; 100]).unwrap();
        }
        held.push(s);
    }
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..5 {
        let r = fetch(addr, "GET /cgi-bin/ok.sh HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // /stats shows the bodies being read and the places in use.
    let stats = fetch(addr, "GET /stats HTTP/1.1\r\nHost: t\r\n\r\n").text();
    assert!(stats.contains("\"cgi_spooling\":4,"), "{stats}");
    assert!(stats.contains("\"cgi_running\":0,"), "{stats}");
    drop(held);
    assert_no_zombies();
}

// A script given up on was reaped with a blocking waitpid in the worker:
// a client that reset while its script held 1 GiB stalled every other
// connection of that worker while the kernel tore the memory down (about
// 0.3 s here; a script in uninterruptible sleep would stall it for as long
// as it sleeps). It is now reaped when its pidfd, in the worker's epoll,
// says it has exited.
#[test]
fn killed_script_is_reaped_without_stalling_its_worker() {
    let (server, tree, dir) = serve_cgi(|c| c.workers = 1);
    let ready = tree.base.join("big.ready");
    script(
        &dir,
        "big.py",
        &format!(
            "#!/usr/bin/env python3\nimport mmap, time\nm = mmap.mmap(-1, 1 << 30)\n\
             for i in range(0, 1 << 30, 4096): m[i] = 1\nopen({:?}, 'w').close()\ntime.sleep(30)\n",
            ready.display().to_string()
        ),
    );
    let addr = server.local_addr();
    let mut other = Conn::open(addr);
    other.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(other.reply(false).status, 200);
    let c = TcpStream::connect(addr).unwrap();
    (&c).write_all(b"GET /cgi-bin/big.py HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "the script never got its memory");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A reset (SO_LINGER 0): the server kills the script at once.
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt reads one live `linger` of the size passed.
    let rc = unsafe {
        use std::os::fd::AsRawFd;
        libc::setsockopt(
            c.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of!(linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    drop(c);
    std::thread::sleep(Duration::from_millis(10));
    let sent = Instant::now();
    other.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(other.reply(false).status, 200);
    let took = sent.elapsed();
    println!("a request beside a killed 1 GiB script: {took:?}");
    assert!(
        took < Duration::from_millis(150),
        "the worker stalled {took:?} while its killed script was reaped"
    );
    assert!(eventually(
        || children(|_, comm| comm == "big.py").is_empty()
    ));
    assert_no_zombies();
}
