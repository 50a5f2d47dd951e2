//! Uploads under `--upload-dir`: PUT/GET round trips (Content-Length and
//! chunked, up to 64 MiB), status codes, traversal, atomicity when the
//! client goes away or the body is too large, the startup sweep of stale
//! temporary files, and `Expect: 100-continue` both ways.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{config, eventually, get_path, printed_addr, Client, TempTree};
use h1serve::{Server, ServerHandle};
use pretty_assertions::assert_eq;

/// A server with `--upload-dir base/uploads` (and `--root base/root`).
fn serve_uploads(f: impl FnOnce(&mut h1serve::Config)) -> (ServerHandle, TempTree, PathBuf) {
    let tree = TempTree::new();
    let dir = tree.base.join("uploads");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let mut cfg = config(Some(&tree.root));
    cfg.upload_dir = Some(dir.clone());
    cfg.max_body = 128 * 1024 * 1024;
    f(&mut cfg);
    (Server::bind(cfg).expect("bind"), tree, dir)
}

/// Every file name under `dir`, recursively, relative to it.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn temp_files(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.rsplit('/').next().unwrap().starts_with(".h1serve-tmp-"))
        .collect()
}

fn body_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 253) as u8).collect()
}

/// PUT with Content-Length; returns the status.
fn put(addr: SocketAddr, path: &str, body: &[u8]) -> u16 {
    let mut c = Client::connect(addr);
    c.send(
        format!(
            "PUT {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    c.send(body);
    c.response().status
}

/// PUT with a chunked body (64 KiB chunks); returns the status.
fn put_chunked(addr: SocketAddr, path: &str, body: &[u8]) -> u16 {
    let mut c = Client::connect(addr);
    let mut wire = format!("PUT {path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        .into_bytes();
    for chunk in body.chunks(64 * 1024) {
        wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        wire.extend_from_slice(chunk);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    c.send(&wire);
    c.response().status
}

fn request(addr: SocketAddr, method: &str, path: &str) -> u16 {
    let mut c = Client::connect(addr);
    c.send(format!("{method} {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    c.response_to(method == "HEAD").status
}

#[test]
fn put_then_get_gives_back_identical_bytes() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let addr = server.local_addr();
    for (i, len) in [0, 1, 1024 * 1024, 64 * 1024 * 1024]
        .into_iter()
        .enumerate()
    {
        let body = body_of(len);
        let length_path = format!("/len-{i}.bin");
        assert_eq!(put(addr, &length_path, &body), 201, "{length_path}");
        let got = get_path(addr, &length_path);
        assert_eq!(got.status, 200);
        assert!(
            got.body == body,
            "{length_path}: {} bytes back",
            got.body.len()
        );

        let chunked_path = format!("/sub/chunked-{i}.bin");
        assert_eq!(
            put_chunked(addr, &chunked_path, &body),
            201,
            "{chunked_path}"
        );
        let got = get_path(addr, &chunked_path);
        assert_eq!(got.status, 200);
        assert!(
            got.body == body,
            "{chunked_path}: {} bytes back",
            got.body.len()
        );
    }
    assert_eq!(temp_files(&dir), Vec::<String>::new());
}

#[test]
fn status_codes_for_create_replace_delete() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let addr = server.local_addr();
    assert_eq!(put(addr, "/a.txt", b"one"), 201);
    assert_eq!(put(addr, "/a.txt", b"two!"), 204);
    let got = get_path(addr, "/a.txt");
    assert_eq!((got.status, got.body.as_slice()), (200, &b"two!"[..]));
    assert_eq!(
        got.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    // HEAD gives the length without a body.
    let mut c = Client::connect(addr);
    c.send(b"HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    let head = c.response_to(true);
    assert_eq!(head.header("content-length"), Some("4"));
    assert_eq!(request(addr, "DELETE", "/a.txt"), 204);
    assert_eq!(get_path(addr, "/a.txt").status, 404);
    assert_eq!(request(addr, "DELETE", "/a.txt"), 404);
    // Missing parent folder, a folder as target, the folder itself.
    assert_eq!(put(addr, "/nope/x.txt", b"x"), 409);
    assert_eq!(put(addr, "/sub", b"x"), 409);
    assert_eq!(put(addr, "/sub/", b"x"), 405);
    assert_eq!(request(addr, "DELETE", "/sub"), 409);
    // Temporary names cannot be named by requests.
    assert_eq!(put(addr, "/.h1serve-tmp-1-1", b"x"), 403);
    assert_eq!(request(addr, "POST", "/a.txt"), 405);
    assert_eq!(listing(&dir), Vec::<String>::new());
}

#[test]
fn keep_alive_across_uploads() {
    let (server, _tree, _dir) = serve_uploads(|_| {});
    let mut c = Client::connect(server.local_addr());
    c.send(b"PUT /k.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET /k.txt HTTP/1.1\r\nHost: t\r\n\r\nDELETE /k.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /k.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(c.response().status, 201);
    assert_eq!(c.response().body, b"abc");
    assert_eq!(c.response().status, 204);
    assert_eq!(c.response().status, 404);
}

#[test]
fn traversal_is_refused() {
    let (server, tree, dir) = serve_uploads(|_| {});
    let addr = server.local_addr();
    std::os::unix::fs::symlink(&tree.base, dir.join("out")).unwrap();
    assert_eq!(put(addr, "/../escaped.txt", b"x"), 400);
    assert_eq!(put(addr, "/%2e%2e/escaped.txt", b"x"), 400);
    assert_eq!(put(addr, "/sub/../../escaped.txt", b"x"), 400);
    assert_eq!(put(addr, "/a%2f..%2f..%2fescaped.txt", b"x"), 400);
    // A symlink inside the folder pointing out of it.
    assert_eq!(put(addr, "/out/escaped.txt", b"x"), 403);
    assert_eq!(request(addr, "DELETE", "/out/secret.txt"), 404);
    assert!(!tree.base.join("escaped.txt").exists());
    assert!(tree.base.join("secret.txt").exists());
    // Replacing the symlink itself is fine: rename never follows it.
    assert_eq!(put(addr, "/out", b"now a file"), 204);
    assert!(tree.base.join("secret.txt").exists());
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"now a file");
}

#[test]
fn client_killed_mid_upload_leaves_nothing() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let addr = server.local_addr();
    for chunked in [false, true] {
        let mut c = Client::connect(addr);
        let head = if chunked {
            "PUT /partial.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n"
        } else {
            "PUT /partial.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n"
        };
        c.send(head.as_bytes());
        c.send(&body_of(300 * 1024));
        // The temporary file exists while the body arrives...
        assert!(eventually(|| temp_files(&dir).len() == 1), "{chunked}");
        drop(c);
        // ...and is gone once the client is.
        assert!(
            eventually(|| listing(&dir).is_empty()),
            "{:?}",
            listing(&dir)
        );
    }
    assert_eq!(get_path(addr, "/partial.bin").status, 404);
}

#[test]
fn body_over_max_body_is_413_and_leaves_nothing() {
    let (server, _tree, dir) = serve_uploads(|c| c.max_body = 64 * 1024);
    let addr = server.local_addr();
    // Chunked: found out while reading.
    assert_eq!(put_chunked(addr, "/big.bin", &body_of(200 * 1024)), 413);
    // Content-Length: refused from the head.
    let mut c = Client::connect(addr);
    c.send(b"PUT /big.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n");
    assert_eq!(c.response().status, 413);
    assert!(
        eventually(|| listing(&dir).is_empty()),
        "{:?}",
        listing(&dir)
    );
}

#[test]
fn stale_temp_files_are_swept_at_startup() {
    let tree = TempTree::new();
    let dir = tree.base.join("uploads");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join(".h1serve-tmp-999-1"), b"half").unwrap();
    std::fs::write(dir.join("sub/.h1serve-tmp-999-2"), b"half").unwrap();
    std::fs::write(dir.join("kept.txt"), b"kept").unwrap();
    let mut cfg = config(Some(&tree.root));
    cfg.upload_dir = Some(dir.clone());
    let server = Server::bind(cfg).unwrap();
    assert_eq!(listing(&dir), vec!["kept.txt".to_string()]);
    assert_eq!(get_path(server.local_addr(), "/kept.txt").body, b"kept");
}

#[test]
fn expect_100_continue_when_the_body_is_wanted() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let mut c = Client::connect(server.local_addr());
    c.send(b"PUT /e.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(c.response().status, 100);
    c.send(b"hello");
    assert_eq!(c.response().status, 201);
    // Same connection, chunked, mixed-case expectation.
    c.send(b"PUT /e.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nExpect: 100-Continue\r\n\r\n");
    assert_eq!(c.response().status, 100);
    c.send(b"3\r\nbye\r\n0\r\n\r\n");
    assert_eq!(c.response().status, 204);
    assert_eq!(std::fs::read(dir.join("e.txt")).unwrap(), b"bye");
}

#[test]
fn expect_100_continue_refused_with_a_final_status() {
    let (server, _tree, dir) = serve_uploads(|c| c.max_body = 1024);
    let addr = server.local_addr();
    for (req, status) in [
        // Too large: 413 before the body.
        (
            "PUT /x.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n",
            413,
        ),
        // Nowhere to put it.
        (
            "PUT /none/x.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
            409,
        ),
        // Not a method uploads take.
        (
            "POST /x.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
            405,
        ),
        // An expectation nobody can meet.
        (
            "PUT /x.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 200-ok\r\n\r\n",
            417,
        ),
    ] {
        let mut c = Client::connect(addr);
        let sent = Instant::now();
        c.send(req.as_bytes());
        let r = c.response();
        assert_eq!(r.status, status, "{req}");
        assert!(sent.elapsed() < Duration::from_secs(1), "{req}");
        assert_eq!(r.header("connection"), Some("close"), "{req}");
        // A client that sends the body anyway: it is never parsed as a
        // request, and the connection closes.
        let _ = c.stream.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
        assert!(c.closed_within(Duration::from_secs(2)), "{req}");
        assert!(c.leftover().is_empty(), "{req}: {:?}", c.leftover());
    }
    assert_eq!(listing(&dir), Vec::<String>::new());
}

/// A spawned server, killed (SIGKILL) and waited for when dropped, so a
/// failing assertion never leaves it running.
struct Spawned(std::process::Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the `h1serve` binary and returns it with the address it printed.
fn spawn_binary(args: &[&str]) -> (Spawned, SocketAddr) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_h1serve"))
        .args(["--listen", "127.0.0.1:0", "--workers", "1"])
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = printed_addr(&mut child);
    (Spawned(child), addr)
}

#[test]
fn server_killed_mid_upload_leaves_no_visible_file_and_restart_sweeps() {
    let tree = TempTree::new();
    let dir = tree.base.join("uploads");
    std::fs::create_dir_all(&dir).unwrap();
    let args = ["--upload-dir", dir.to_str().unwrap()];
    let (server, addr) = spawn_binary(&args);
    let mut c = Client::connect(addr);
    c.send(b"PUT /partial.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n");
    c.send(&body_of(300 * 1024));
    assert!(eventually(|| temp_files(&dir).len() == 1));
    // SIGKILL: no chance to clean up.
    drop(server);
    drop(c);
    assert!(!dir.join("partial.bin").exists());
    assert_eq!(
        temp_files(&dir).len(),
        1,
        "the killed server left its temp file"
    );
    let (_server, addr) = spawn_binary(&args);
    assert_eq!(listing(&dir), Vec::<String>::new());
    assert_eq!(get_path(addr, "/partial.bin").status, 404);
}

/// A request with extra header lines; returns the status.
fn request_with(addr: SocketAddr, method: &str, path: &str, fields: &str, body: &[u8]) -> u16 {
    let mut c = Client::connect(addr);
    let cl = if method == "PUT" {
        format!("Content-Length: {}\r\n", body.len())
    } else {
        String::new()
    };
    c.send(format!("{method} {path} HTTP/1.1\r\nHost: t\r\n{cl}{fields}\r\n").as_bytes());
    c.send(body);
    c.response_to(method == "HEAD").status
}

// Issue 17, fault 8: with uploads on, `PUT /stats` replaced what GET /stats
// answers. Built-in routes win for every method (405 with Allow).
#[test]
fn builtin_routes_win_over_the_upload_folder() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let addr = server.local_addr();
    assert_eq!(put(addr, "/stats", b"{\"fake\": true}"), 405);
    assert_eq!(put(addr, "/./metrics", b"fake 1\n"), 405);
    assert_eq!(request(addr, "DELETE", "/stats"), 405);
    assert_eq!(listing(&dir), Vec::<String>::new());
    let stats = get_path(addr, "/stats");
    assert_eq!(stats.status, 200);
    assert_eq!(stats.header("content-type"), Some("application/json"));
    assert!(!stats.text().contains("fake"));
}

// Issue 17, minor: a 300-byte file name (over NAME_MAX) was answered 500.
#[test]
fn upload_name_longer_than_the_filesystem_takes_is_414() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let name = format!("/{}", "a".repeat(300));
    assert_eq!(put(server.local_addr(), &name, b"x"), 414);
    assert_eq!(request(server.local_addr(), "DELETE", &name), 414);
    assert_eq!(listing(&dir), Vec::<String>::new());
}

// Issue 17, fault 9: RFC 9110 §13.1 MUST evaluate preconditions; PUT with
// `If-None-Match: *` on an existing file, or a stale If-Match, overwrote it.
#[test]
fn put_and_delete_evaluate_preconditions() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let addr = server.local_addr();
    assert_eq!(put(addr, "/f.txt", b"first"), 201);
    // §13.1.2: If-None-Match: * fails when a representation exists
    assert_eq!(
        request_with(addr, "PUT", "/f.txt", "If-None-Match: *\r\n", b"second"),
        412
    );
    // §13.1.1: a stale If-Match fails, for PUT and DELETE
    assert_eq!(
        request_with(addr, "PUT", "/f.txt", "If-Match: \"stale\"\r\n", b"third"),
        412
    );
    assert_eq!(
        request_with(addr, "DELETE", "/f.txt", "If-Match: \"stale\"\r\n", b""),
        412
    );
    // §13.1.4: unmodified since 1994? No.
    let ius = "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
    assert_eq!(request_with(addr, "PUT", "/f.txt", ius, b"fourth"), 412);
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"first");
    // If-Match: * on a missing file fails, and creates nothing
    assert_eq!(
        request_with(addr, "PUT", "/g.txt", "If-Match: *\r\n", b"g"),
        412
    );
    assert!(!dir.join("g.txt").exists());
    // If-None-Match: * creates only when absent; If-Match: * replaces only when present
    assert_eq!(
        request_with(addr, "PUT", "/g.txt", "If-None-Match: *\r\n", b"g"),
        201
    );
    assert_eq!(
        request_with(addr, "PUT", "/f.txt", "If-Match: *\r\n", b"fifth"),
        204
    );
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"fifth");
    assert_eq!(
        request_with(addr, "DELETE", "/f.txt", "If-Match: *\r\n", b""),
        204
    );
    assert_eq!(temp_files(&dir), Vec::<String>::new());
}

// Issue 17, fault 5: a second server on the same port started silently
// (SO_REUSEPORT) and split connections with the first; its startup sweep
// deleted the first one's in-flight upload, whose PUT then failed 500.
#[test]
fn second_instance_refuses_the_port_and_spares_live_uploads() {
    let (first, tree, dir) = serve_uploads(|_| {});
    let addr = first.local_addr();
    // An upload in flight on the first server: head and half the body.
    let mut c = Client::connect(addr);
    c.send(b"PUT /big.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello");
    assert!(
        eventually(|| temp_files(&dir).len() == 1),
        "temp file created"
    );

    let mut same_port = config(Some(&tree.root));
    same_port.listen = addr;
    same_port.upload_dir = Some(dir.clone());
    let err = match Server::bind(same_port) {
        Ok(_) => panic!("a second server on a busy port must refuse to start"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");

    // Another port, same folder: its sweep leaves the live upload alone.
    let mut other_port = config(Some(&tree.root));
    other_port.upload_dir = Some(dir.clone());
    let second = Server::bind(other_port).expect("a second server on a free port starts");
    assert_eq!(
        temp_files(&dir).len(),
        1,
        "the first server's upload was swept"
    );
    c.send(b"world");
    assert_eq!(c.response().status, 201);
    assert_eq!(std::fs::read(dir.join("big.bin")).unwrap(), b"helloworld");
    drop(second);
}

// Issue 17 fault 10: the commit (fsync of the file, rename, fsync of the
// folder) ran inside the worker, so a slow disk stalled every connection
// of that worker (one worker, 64 MiB PUTs in a loop: other clients' GET
// p99 104 ms). It runs on a pool thread now. With one worker and a commit
// that takes 1.5 s (the test hook standing in for a slow disk), a GET sent
// while the commit runs is answered first, and the PUT still gets its 201.
#[test]
fn a_slow_commit_does_not_hold_up_other_requests() {
    let (server, _tree, _dir) = serve_uploads(|c| {
        c.workers = 1;
        c.commit_delay = Duration::from_millis(1500);
    });
    let addr = server.local_addr();
    let putter = std::thread::spawn(move || {
        let status = put(addr, "/slow.bin", &body_of(4096));
        (status, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300));
    let got = get_path(addr, "/hello.txt");
    let get_done = Instant::now();
    let (put_status, put_done) = putter.join().unwrap();
    assert_eq!((got.status, put_status), (200, 201));
    assert!(
        get_done < put_done,
        "the GET waited for the commit ({:?} after the PUT's answer)",
        get_done - put_done
    );
}

// Issue 13: uploaded files were served by a second, simpler path without
// validators, so If-None-Match, If-Match and Range were ignored. They now
// go through the static-file path: ETag and Last-Modified, 304, 412, 206
// and 416, and HEAD with the same fields.
#[test]
fn uploaded_files_answer_validators_and_ranges() {
    let (server, _tree, _dir) = serve_uploads(|_| {});
    let addr = server.local_addr();
    let body = body_of(10_000);
    assert_eq!(put(addr, "/sub/data.bin", &body), 201);
    let full = common::get(addr, "GET /sub/data.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(full.status, 200);
    assert_eq!(full.body, body);
    let etag = full.header("etag").expect("an ETag").to_string();
    assert!(full.header("last-modified").is_some());
    assert_eq!(full.header("accept-ranges"), Some("bytes"));

    let not_modified = common::get(
        addr,
        &format!("GET /sub/data.bin HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\n\r\n"),
    );
    assert_eq!((not_modified.status, not_modified.body.len()), (304, 0));
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));

    let failed = common::get(
        addr,
        "GET /sub/data.bin HTTP/1.1\r\nHost: t\r\nIf-Match: \"nope\"\r\n\r\n",
    );
    assert_eq!(failed.status, 412);

    let part = common::get(
        addr,
        "GET /sub/data.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=100-199\r\n\r\n",
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.header("content-range"), Some("bytes 100-199/10000"));
    assert_eq!(part.body, &body[100..200]);

    let beyond = common::get(
        addr,
        "GET /sub/data.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=20000-\r\n\r\n",
    );
    assert_eq!(beyond.status, 416);

    // A replaced upload has a new validator: the old one no longer matches.
    assert_eq!(put(addr, "/sub/data.bin", &body_of(10)), 204);
    let fresh = common::get(
        addr,
        &format!("GET /sub/data.bin HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\n\r\n"),
    );
    assert_eq!((fresh.status, fresh.body.len()), (200, 10));
}

// Issue 13: one routing step. With uploads on, a method the upload routes
// do not take is answered like any static 405: the Allow line names what
// the folder takes, the body is read and dropped (never parsed as a
// request), and the connection stays open for the next one.
#[test]
fn methods_uploads_do_not_take_are_405_and_keep_the_connection() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let mut c = Client::connect(server.local_addr());
    c.send(
        b"POST /p.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 36\r\n\r\n\
          GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n\
          PATCH /p.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
          PUT /p.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok",
    );
    for _ in 0..2 {
        let r = c.response();
        assert_eq!(r.status, 405);
        assert_eq!(r.header("allow"), Some("GET, HEAD, PUT, DELETE, OPTIONS"));
        assert_eq!(r.header("connection"), None);
    }
    assert_eq!(c.response().status, 201);
    assert_eq!(std::fs::read(dir.join("p.txt")).unwrap(), b"ok");
}

/// Sends a PUT head and all of `body` but its last byte; the caller sends
/// the byte later with [`finish_put`], so two requests can pass their
/// checks on the head before either commits.
fn start_put(addr: SocketAddr, path: &str, fields: &str, body: &[u8]) -> Client {
    let mut c = Client::connect(addr);
    let len = body.len();
    c.send(
        format!("PUT {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len}\r\n{fields}\r\n")
            .as_bytes(),
    );
    c.send(&body[..len - 1]);
    c
}

fn finish_put(c: &mut Client, body: &[u8]) -> u16 {
    c.send(&body[body.len() - 1..]);
    c.response().status
}

// Two PUTs with the same precondition both passed it on their heads and the
// second commit's rename overwrote the first (RFC 9110 §13.1.1, §13.1.2:
// the second must fail). The preconditions are evaluated again at commit
// time, under a lock, and `If-None-Match: *` creates without replacing.
#[test]
fn racing_conditional_puts_lose_no_update() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let addr = server.local_addr();
    let (a, b) = (b"from a".to_vec(), b"from b".to_vec());
    let mut ca = start_put(addr, "/new.txt", "If-None-Match: *\r\n", &a);
    let mut cb = start_put(addr, "/new.txt", "If-None-Match: *\r\n", &b);
    std::thread::sleep(Duration::from_millis(100));
    let first = finish_put(&mut ca, &a);
    let second = finish_put(&mut cb, &b);
    assert_eq!((first, second), (201, 412), "If-None-Match: * twice");
    assert_eq!(std::fs::read(dir.join("new.txt")).unwrap(), a);

    let etag = common::get(addr, "GET /new.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .header("etag")
        .unwrap()
        .to_string();
    let if_match = format!("If-Match: {etag}\r\n");
    let (c, d) = (b"update c".to_vec(), b"update d".to_vec());
    let mut cc = start_put(addr, "/new.txt", &if_match, &c);
    let mut cd = start_put(addr, "/new.txt", &if_match, &d);
    std::thread::sleep(Duration::from_millis(100));
    let first = finish_put(&mut cc, &c);
    let second = finish_put(&mut cd, &d);
    assert_eq!((first, second), (204, 412), "If-Match: <etag> twice");
    assert_eq!(std::fs::read(dir.join("new.txt")).unwrap(), c);
    assert_eq!(temp_files(&dir), Vec::<String>::new());
}

// RFC 9110 §5.3: several If-Match / If-None-Match field lines are one list;
// only the first line was evaluated.
#[test]
fn conditional_fields_on_several_lines_are_one_list() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let addr = server.local_addr();
    assert_eq!(put(addr, "/f.txt", b"first"), 201);
    let etag = common::get(addr, "GET /f.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .header("etag")
        .unwrap()
        .to_string();
    let two = format!("If-None-Match: \"a\"\r\nIf-None-Match: {etag}\r\n");
    let get = common::get(
        addr,
        &format!("GET /f.txt HTTP/1.1\r\nHost: t\r\n{two}\r\n"),
    );
    assert_eq!(get.status, 304, "GET with the ETag on the second line");
    assert_eq!(request_with(addr, "PUT", "/f.txt", &two, b"second"), 412);
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"first");
    let two_match = format!("If-Match: \"a\"\r\nIf-Match: {etag}\r\n");
    assert_eq!(
        request_with(addr, "PUT", "/f.txt", &two_match, b"third"),
        204
    );
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"third");
    // The same on a file served from --root.
    let root_tag = common::get(addr, "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .header("etag")
        .unwrap()
        .to_string();
    let req = format!(
        "GET /hello.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"x\"\r\nIf-None-Match: {root_tag}\r\n\r\n"
    );
    assert_eq!(common::get(addr, &req).status, 304);
}

// RFC 9110 §13.1.2: a file served from --root is a current representation,
// so `PUT` with `If-None-Match: *` there fails (it answered 201, and the
// upload then shadowed the file).
#[test]
fn put_if_none_match_star_onto_a_root_file_is_412() {
    let (server, _tree, dir) = serve_uploads(|_| {});
    let addr = server.local_addr();
    let star = "If-None-Match: *\r\n";
    assert_eq!(
        request_with(addr, "PUT", "/hello.txt", star, b"shadow"),
        412
    );
    assert!(!dir.join("hello.txt").exists());
    let served = get_path(addr, "/hello.txt");
    assert_eq!(served.body, common::HELLO);
    // Without the precondition a PUT may still store it.
    assert_eq!(put(addr, "/hello.txt", b"mine"), 201);
}

// A chunk size that can never fit under --max-body waited for its data
// until --body-timeout; it is 413 at once, as a Content-Length over it is.
#[test]
fn chunk_larger_than_max_body_is_413_at_once() {
    let (server, _tree, dir) = serve_uploads(|c| c.max_body = 1024 * 1024);
    let mut c = Client::connect(server.local_addr());
    let started = Instant::now();
    c.send(b"PUT /huge.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc");
    let r = c.response();
    assert_eq!(r.status, 413);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(eventually(|| temp_files(&dir).is_empty()));
    // A chunk just over the limit after some data, too.
    let mut c = Client::connect(server.local_addr());
    c.send(b"PUT /huge.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n100000\r\nxyz");
    assert_eq!(c.response().status, 413);
}
