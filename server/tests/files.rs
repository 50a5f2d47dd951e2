//! Static files: content, MIME types, folders, validators, ranges, large
//! bodies, the open-file cache, and path traversal.

mod common;

use std::time::Duration;

use common::{big_byte, get, get_path, serve, serve_with, Client, BIG, HELLO, SECRET};
use pretty_assertions::assert_eq;

#[test]
fn serves_files_with_mime_types() {
    let (server, _tree) = serve();
    let addr = server.local_addr();
    let cases = [
        ("/hello.txt", 200, "text/plain; charset=utf-8"),
        ("/sub/page.css", 200, "text/css; charset=utf-8"),
        ("/sub/deeper/x.json", 200, "application/json"),
        ("/index.html", 200, "text/html; charset=utf-8"),
        ("/big.bin", 200, "application/octet-stream"),
        ("/a%20b.txt", 200, "text/plain; charset=utf-8"),
    ];
    let got: Vec<(&str, u16, String)> = cases
        .iter()
        .map(|(p, _, _)| {
            let r = get(
                addr,
                &format!("HEAD {p} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
            );
            (
                *p,
                r.status,
                r.header("content-type").unwrap_or("").to_string(),
            )
        })
        .collect();
    let want: Vec<(&str, u16, String)> = cases
        .iter()
        .map(|(p, s, t)| (*p, *s, t.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn folders_serve_index_html() {
    let (server, _tree) = serve();
    let addr = server.local_addr();
    assert_eq!(get_path(addr, "/").body, b"<h1>root index</h1>\n");
    assert_eq!(get_path(addr, "/sub/").body, b"<h1>sub index</h1>\n");
    let r = get_path(addr, "/sub");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/sub/"));
    // Never a protocol-relative redirect to another host.
    let r = get_path(addr, "//sub");
    assert_eq!((r.status, r.header("location")), (301, Some("/sub/")));
    // A folder without index.html is not listed.
    assert_eq!(get_path(addr, "/sub/deeper/").status, 404);
    assert_eq!(get_path(addr, "/hello.txt/").status, 404);
    assert_eq!(get_path(addr, "/missing.txt").status, 404);
}

#[test]
fn large_file_is_sent_whole() {
    let (server, _tree) = serve();
    let r = get_path(server.local_addr(), "/big.bin");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), BIG);
    assert!(r.body.iter().enumerate().all(|(i, &b)| b == big_byte(i)));
}

#[test]
fn large_file_then_pipelined_request() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.response();
    assert_eq!(r.body.len(), BIG);
    assert_eq!(c.response().body, HELLO);
}

#[test]
fn etag_and_last_modified_give_304() {
    let (server, _tree) = serve();
    let addr = server.local_addr();
    let r = get_path(addr, "/hello.txt");
    let etag = r.header("etag").expect("etag").to_string();
    let lm = r
        .header("last-modified")
        .expect("last-modified")
        .to_string();
    let r304 = get(
        addr,
        &format!("GET /hello.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"x\", {etag}\r\n\r\n"),
    );
    assert_eq!(r304.status, 304);
    assert_eq!(r304.header("etag"), Some(etag.as_str()));
    assert!(r304.body.is_empty());
    let weak = get(
        addr,
        &format!("GET /hello.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: W/{etag}\r\n\r\n"),
    );
    assert_eq!(weak.status, 304);
    let ims = get(
        addr,
        &format!("GET /hello.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: {lm}\r\n\r\n"),
    );
    assert_eq!(ims.status, 304);
    let old = get(
        addr,
        "GET /hello.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
    );
    assert_eq!(old.status, 200);
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    let both = get(
        addr,
        &format!(
            "GET /hello.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"other\"\r\nIf-Modified-Since: {lm}\r\n\r\n"
        ),
    );
    assert_eq!(both.status, 200);
}

#[test]
fn single_range_gives_206() {
    let (server, _tree) = serve();
    let addr = server.local_addr();
    let cases = [
        ("bytes=0-4", "bytes 0-4/13", &HELLO[0..5]),
        ("bytes=7-", "bytes 7-12/13", &HELLO[7..]),
        ("bytes=-6", "bytes 7-12/13", &HELLO[7..]),
        ("bytes=5-100", "bytes 5-12/13", &HELLO[5..]),
    ];
    for (range, content_range, body) in cases {
        let r = get(
            addr,
            &format!("GET /hello.txt HTTP/1.1\r\nHost: t\r\nRange: {range}\r\n\r\n"),
        );
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.header("content-range"), Some(content_range), "{range}");
        assert_eq!(r.body, body, "{range}");
    }
    // A range of a file sent with sendfile.
    let r = get(
        addr,
        "GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=1000000-1000009\r\n\r\n",
    );
    assert_eq!(r.status, 206);
    let want: Vec<u8> = (1_000_000..1_000_010).map(big_byte).collect();
    assert_eq!(r.body, want);
}

#[test]
fn unsatisfiable_range_gives_416() {
    let (server, _tree) = serve();
    let r = get(
        server.local_addr(),
        "GET /hello.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=100-200\r\n\r\n",
    );
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */13"));
}

// RFC 9110 §14.1.1: on a zero-length representation a suffix range with a
// non-zero length is satisfiable, but no Content-Range can describe it; the
// Range is ignored and the whole (empty) file served with 200, as nginx
// does. It was 416.
#[test]
fn suffix_range_on_an_empty_file_is_the_whole_empty_file() {
    let (server, tree) = serve();
    std::fs::write(tree.root.join("empty.txt"), b"").unwrap();
    let r = get(
        server.local_addr(),
        "GET /empty.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=-5\r\n\r\n",
    );
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(r.header("content-length"), Some("0"));
    assert_eq!(r.header("content-range"), None);
}

#[test]
fn several_ranges_or_stale_if_range_give_the_whole_file() {
    let (server, _tree) = serve();
    let addr = server.local_addr();
    let r = get(
        addr,
        "GET /hello.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1,3-4\r\n\r\n",
    );
    assert_eq!((r.status, r.body.as_slice()), (200, HELLO));
    let r = get(
        addr,
        "GET /hello.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1\r\nIf-Range: \"stale\"\r\n\r\n",
    );
    assert_eq!((r.status, r.body.as_slice()), (200, HELLO));
    let etag = get_path(addr, "/hello.txt")
        .header("etag")
        .unwrap()
        .to_string();
    let r = get(
        addr,
        &format!(
            "GET /hello.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1\r\nIf-Range: {etag}\r\n\r\n"
        ),
    );
    assert_eq!((r.status, r.body.as_slice()), (206, &HELLO[..2]));
}

#[test]
fn head_of_a_range() {
    let (server, _tree) = serve();
    let r = get(
        server.local_addr(),
        "HEAD /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-99\r\n\r\n",
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-length"), Some("100"));
    assert!(r.body.is_empty());
}

#[test]
fn changed_file_is_served_fresh() {
    let (server, tree) = serve_with(|c| {
        c.workers = 1;
        c.file_cache_valid = Duration::from_millis(100);
    });
    let addr = server.local_addr();
    assert_eq!(get_path(addr, "/hello.txt").body, HELLO);
    std::fs::write(tree.root.join("hello.txt"), b"changed\n").unwrap();
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(get_path(addr, "/hello.txt").body, b"changed\n");
    std::fs::remove_file(tree.root.join("hello.txt")).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(get_path(addr, "/hello.txt").status, 404);
}

/// Targets that try to leave the root. None may ever return the secret.
const TRAVERSALS: &[&str] = &[
    "/../secret.txt",
    "/../../../../etc/passwd",
    "/sub/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/.%2e/secret.txt",
    "/%2e./secret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/sub%2f..%2f..%2fsecret.txt",
    "/..%5csecret.txt",
    "/..\\secret.txt",
    "/%00/../secret.txt",
    "/hello.txt%00.html",
    "/escape.txt",
    "/etc-link/passwd",
    "/sub/../escape.txt",
    "/%65scape.txt",
    "/./../secret.txt",
    "//../secret.txt",
    "/sub//..//..//secret.txt",
    "/%252e%252e/secret.txt",
    "/..;/secret.txt",
];

fn assert_refused(addr: std::net::SocketAddr, fallback: bool) {
    for path in TRAVERSALS {
        let r = get_path(addr, path);
        assert!(
            matches!(r.status, 400 | 403 | 404),
            "{path} (fallback {fallback}) got {}",
            r.status
        );
        assert!(
            !r.body.windows(SECRET.len()).any(|w| w == SECRET),
            "{path} leaked the secret"
        );
        assert!(!r.text().contains("root:"), "{path} leaked /etc/passwd");
    }
}

#[test]
fn path_traversal_is_refused_with_openat2() {
    let (server, _tree) = serve();
    assert_refused(server.local_addr(), false);
    // A symlink that stays inside the root is followed by RESOLVE_BENEATH.
    assert_eq!(
        get_path(server.local_addr(), "/inside-link.txt").body,
        HELLO
    );
}

#[test]
fn path_traversal_is_refused_with_fallback_walk() {
    let (server, _tree) = serve_with(|c| c.resolve_fallback = true);
    assert_refused(server.local_addr(), true);
    // The fallback follows no symlink at all.
    assert_eq!(
        get_path(server.local_addr(), "/inside-link.txt").status,
        403
    );
    assert_eq!(get_path(server.local_addr(), "/sub/page.css").status, 200);
}

#[test]
fn traversal_in_absolute_form_is_refused() {
    let (server, _tree) = serve();
    let r = get(
        server.local_addr(),
        "GET http://t/../secret.txt HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert!(matches!(r.status, 400 | 403 | 404), "{}", r.status);
    assert!(!r.body.windows(SECRET.len()).any(|w| w == SECRET));
}

// Issue 17, fault 9: GET with a failing If-Match or If-Unmodified-Since got
// 200 (RFC 9110 §13.2.2: 412); If-Modified-Since in the year 9999 got 304.
#[test]
fn get_evaluates_preconditions_in_order() {
    let (server, _tree) = serve();
    let addr = server.local_addr();
    let first = get_path(addr, "/hello.txt");
    assert_eq!(first.status, 200);
    let tag = first.header("etag").expect("an ETag").to_string();
    let lm = first
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();
    let with = |fields: String| {
        get(
            addr,
            &format!("GET /hello.txt HTTP/1.1\r\nHost: t\r\n{fields}\r\n"),
        )
        .status
    };
    assert_eq!(with("If-Match: \"nope\"\r\n".into()), 412);
    assert_eq!(
        with(format!("If-Match: W/{tag}\r\n")),
        412,
        "If-Match compares strongly"
    );
    assert_eq!(with(format!("If-Match: \"x\", {tag}\r\n")), 200);
    assert_eq!(
        with("If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n".into()),
        412
    );
    assert_eq!(with(format!("If-Unmodified-Since: {lm}\r\n")), 200);
    // If-Match passes, If-None-Match matches: 304 (step 3 after step 1)
    assert_eq!(
        with(format!("If-Match: {tag}\r\nIf-None-Match: {tag}\r\n")),
        304
    );
    assert_eq!(with(format!("If-Modified-Since: {lm}\r\n")), 304);
    assert_eq!(
        with("If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT\r\n".into()),
        200
    );
}
