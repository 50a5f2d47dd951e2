//! Protocol behaviour over raw TCP: persistence, pipelining, request-target
//! forms, methods, bodies and every error status.

mod common;

use std::time::Duration;

use common::{get, get_path, serve, serve_with, Client, HELLO};
use pretty_assertions::assert_eq;

const GET_HELLO: &str = "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n";

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    for _ in 0..5 {
        c.send(GET_HELLO.as_bytes());
        let r = c.response();
        assert_eq!((r.status, r.body.as_slice()), (200, HELLO));
        assert_eq!(r.header("connection"), None);
    }
    assert!(!c.closed_within(Duration::from_millis(100)));
}

#[test]
fn every_response_has_date_server_and_framing() {
    let (server, _tree) = serve();
    let r = get_path(server.local_addr(), "/hello.txt");
    assert_eq!(r.header("server"), Some("h1serve"));
    assert_eq!(r.header("date").map(str::len), Some(29));
    assert_eq!(r.header("content-length"), Some("13"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
}

fn pipelined(n: usize) {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    // Different targets, so the order of the answers is visible.
    let paths = ["/hello.txt", "/sub/page.css", "/nope", "/sub/deeper/x.json"];
    let mut batch = String::new();
    for i in 0..n {
        batch.push_str(&format!(
            "GET {} HTTP/1.1\r\nHost: t\r\nX-Seq: {i}\r\n\r\n",
            paths[i % paths.len()]
        ));
    }
    c.send(batch.as_bytes());
    let got: Vec<(u16, Vec<u8>)> = (0..n)
        .map(|_| {
            let r = c.response();
            (r.status, r.body)
        })
        .collect();
    let want: Vec<(u16, Vec<u8>)> = (0..n)
        .map(|i| match i % 4 {
            0 => (200, HELLO.to_vec()),
            1 => (200, b"body{}\n".to_vec()),
            2 => (404, b"404 Not Found\n".to_vec()),
            _ => (200, b"{}\n".to_vec()),
        })
        .collect();
    assert_eq!(got, want);
    assert!(c.leftover().is_empty());
    // Still open and usable.
    c.send(GET_HELLO.as_bytes());
    assert_eq!(c.response().status, 200);
}

#[test]
fn pipelining_3_requests_in_one_write_answered_in_order() {
    pipelined(3);
}

#[test]
fn pipelining_64_requests_in_one_write_answered_in_order() {
    pipelined(64);
}

#[test]
fn pipelined_responses_arrive_in_one_batch() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(GET_HELLO.repeat(16).as_bytes());
    // All 16 responses are written with one send; a single read on loopback
    // returns them together.
    let mut buf = vec![0u8; 1 << 20];
    use std::io::Read;
    std::thread::sleep(Duration::from_millis(50));
    let n = c.stream.read(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 16);
}

#[test]
fn connection_close_is_honoured() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_within(Duration::from_secs(1)));
}

#[test]
fn requests_after_connection_close_are_not_answered() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(
        b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(c.response().status, 200);
    assert!(c.closed_within(Duration::from_secs(1)));
    assert!(c.leftover().is_empty());
}

#[test]
fn http10_closes_by_default() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(b"GET /hello.txt HTTP/1.0\r\n\r\n");
    let r = c.response();
    assert_eq!((r.status, r.body.as_slice()), (200, HELLO));
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_within(Duration::from_secs(1)));
}

#[test]
fn http10_keep_alive_is_honoured() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    for _ in 0..3 {
        c.send(b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let r = c.response();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("connection"), Some("keep-alive"));
    }
    assert!(!c.closed_within(Duration::from_millis(100)));
}

#[test]
fn http12_is_answered_as_http11() {
    let (server, _tree) = serve();
    let r = get(
        server.local_addr(),
        "GET /hello.txt HTTP/1.2\r\nHost: t\r\n\r\n",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn head_has_length_but_no_body() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(b"HEAD /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    let r = c.response_to(true);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("13"));
    assert!(r.body.is_empty());
    // The next response starts right where the head ended.
    c.send(GET_HELLO.as_bytes());
    assert_eq!(c.response().body, HELLO);
}

#[test]
fn absolute_form_authority_replaces_host() {
    let (server, _tree) = serve();
    let r = get(
        server.local_addr(),
        "GET http://example.com/hello.txt?x=1 HTTP/1.1\r\nHost: other\r\n\r\n",
    );
    assert_eq!((r.status, r.body.as_slice()), (200, HELLO));
}

#[test]
fn options_asterisk_gets_allow() {
    let (server, _tree) = serve();
    let r = get(server.local_addr(), "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(r.header("content-length"), Some("0"));
}

#[test]
fn connect_is_not_implemented() {
    let (server, _tree) = serve();
    let r = get(
        server.local_addr(),
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    );
    assert_eq!(r.status, 501);
}

#[test]
fn post_to_a_file_is_405_with_allow() {
    let (server, _tree) = serve();
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = get(
            server.local_addr(),
            &format!("{method} /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"),
        );
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"), "{method}");
    }
}

#[test]
fn unknown_method_is_501() {
    let (server, _tree) = serve();
    let r = get(server.local_addr(), "BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 501);
}

/// Sends `raw`, expects `status` and then a closed connection.
fn expect_error_and_close(raw: &[u8], status: u16) {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(raw);
    let r = c
        .try_response(false)
        .unwrap_or_else(|e| panic!("{e} for {raw:?}"));
    assert_eq!(r.status, status, "for {:?}", String::from_utf8_lossy(raw));
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_within(Duration::from_secs(2)), "still open");
}

#[test]
fn malformed_requests_get_400_then_close() {
    for raw in [
        &b"GET / HTTP/1.1\r\n\r\n"[..], // no Host
        b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n", // space in name
        b"GET /hello.txt HTTP/1.1\r\nHost : t\r\n\r\n", // space before colon
        b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n", // obs-fold
        b"GET /hello.txt HTTP/1.1\rHost: t\r\n\r\n", // bare CR
        b"GET /hello.txt http/1.1\r\nHost: t\r\n\r\n", // lower-case version
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        expect_error_and_close(raw, 400);
    }
}

#[test]
fn bad_path_encoding_is_400() {
    let (server, _tree) = serve();
    for path in ["/%zz", "/a%2fb", "/a%00b", "/%"] {
        assert_eq!(get_path(server.local_addr(), path).status, 400, "{path}");
    }
}

#[test]
fn long_target_is_414() {
    let long = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(9000));
    expect_error_and_close(long.as_bytes(), 414);
}

#[test]
fn oversized_head_is_431() {
    let mut raw = String::from("GET / HTTP/1.1\r\nHost: t\r\n");
    for i in 0..40 {
        raw.push_str(&format!("X-Filler-{i}: {}\r\n", "v".repeat(500)));
    }
    raw.push_str("\r\n");
    expect_error_and_close(raw.as_bytes(), 431);
}

#[test]
fn too_many_headers_is_431() {
    let mut raw = String::from("GET / HTTP/1.1\r\nHost: t\r\n");
    for i in 0..100 {
        raw.push_str(&format!("X-{i}: v\r\n"));
    }
    raw.push_str("\r\n");
    expect_error_and_close(raw.as_bytes(), 431);
}

#[test]
fn unknown_transfer_coding_is_501() {
    expect_error_and_close(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        501,
    );
}

#[test]
fn http2_version_is_505() {
    expect_error_and_close(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505);
}

#[test]
fn body_over_max_body_is_413_before_reading_it() {
    let (server, _tree) = serve_with(|c| c.max_body = 1000);
    let mut c = Client::connect(server.local_addr());
    c.send(b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 413);
    assert!(c.closed_within(Duration::from_secs(2)));
}

#[test]
fn chunked_body_over_max_body_is_413() {
    let (server, _tree) = serve_with(|c| c.max_body = 1000);
    let mut c = Client::connect(server.local_addr());
    c.send(b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..3 {
        c.send(b"200\r\n");
        c.send(&[b'x'; 0x200]);
        c.send(b"\r\n");
    }
    let r = c.response();
    assert_eq!(r.status, 413);
    assert!(c.closed_within(Duration::from_secs(2)));
}

#[test]
fn unused_bodies_are_discarded_and_framing_kept() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    // A Content-Length body and a chunked body that look like requests: if
    // the server framed them wrong it would answer the smuggled GETs.
    let smuggle = "GET /secret HTTP/1.1\r\nHost: t\r\n\r\n";
    let chunk = format!("{:x}\r\n{smuggle}\r\n0\r\n\r\n", smuggle.len());
    c.send(
        format!(
            "POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{smuggle}\
             POST /hello.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}\
             {GET_HELLO}",
            smuggle.len()
        )
        .as_bytes(),
    );
    let statuses: Vec<u16> = (0..3).map(|_| c.response().status).collect();
    assert_eq!(statuses, vec![405, 405, 200]);
    assert!(!c.closed_within(Duration::from_millis(100)));
    assert!(c.leftover().is_empty());
}

#[test]
fn body_arriving_in_pieces_is_discarded() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 30000\r\n\r\n");
    for _ in 0..30 {
        c.send(&[b'y'; 1000]);
    }
    c.send(GET_HELLO.as_bytes());
    assert_eq!(c.response().status, 405);
    assert_eq!(c.response().status, 200);
}

/// The static routes never want a body, so the final status is known from
/// the head: it is sent at once, without 100, and the connection closes
/// (RFC 9110 §10.1.1). The 100 case is in tests/upload.rs.
#[test]
fn expect_100_continue_on_static_route_gets_final_status() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(
        b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    );
    let r = c.response();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("connection"), Some("close"));
    // The client may send the body anyway; it is never taken for a request.
    let _ = std::io::Write::write_all(&mut c.stream, b"abcd");
    assert!(c.closed_within(Duration::from_secs(2)));
}

/// A client that sent the body with the head did not wait for 100: the body
/// is read and discarded, and the connection goes on (RFC 9110 §10.1.1).
#[test]
fn expect_100_continue_with_the_body_already_sent_keeps_the_connection() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(
        b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nabcdGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(c.response().status, 405);
    assert_eq!(c.response().body, HELLO);
}

#[test]
fn unknown_expectation_is_417() {
    expect_error_and_close(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: teapot\r\n\r\nabcd",
        417,
    );
}

#[test]
fn max_connections_answers_503() {
    let (server, _tree) = serve_with(|c| {
        c.max_connections = 2;
        c.workers = 1;
    });
    let addr = server.local_addr();
    let mut a = Client::connect(addr);
    let mut b = Client::connect(addr);
    a.send(GET_HELLO.as_bytes());
    b.send(GET_HELLO.as_bytes());
    assert_eq!(a.response().status, 200);
    assert_eq!(b.response().status, 200);
    let r = get(addr, GET_HELLO);
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    drop(a);
    // Once a slot is free, new connections are served again.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let r = get(addr, GET_HELLO);
        if r.status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still 503");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn stats_counts_requests_and_statuses() {
    let (server, _tree) = serve_with(|c| c.workers = 2);
    let addr = server.local_addr();
    for _ in 0..3 {
        assert_eq!(get_path(addr, "/hello.txt").status, 200);
    }
    assert_eq!(get_path(addr, "/missing").status, 404);
    let r = get_path(addr, "/stats");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let text = r.text();
    for want in [
        "\"accepted\":5",
        "\"handled\":5",
        "\"requests\":4",
        "\"200\":3",
        "\"404\":1",
        "\"uptime\":",
        "\"waiting\":",
        "\"reading\":",
        "\"writing\":",
        "\"active\":",
    ] {
        assert!(text.contains(want), "{want} not in {text}");
    }
    let m = get_path(addr, "/metrics").text();
    assert!(m.contains("h1serve_requests_total 5"), "{m}");
    assert!(
        m.contains("h1serve_responses_total{status=\"404\"} 1"),
        "{m}"
    );
    assert!(m.contains("# TYPE h1serve_connections gauge"), "{m}");
}

#[test]
fn builtin_site_without_root() {
    let mut cfg = common::config(None);
    cfg.workers = 1;
    let server = h1serve::Server::bind(cfg).unwrap();
    let r = get_path(server.local_addr(), "/");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("h1serve is running"));
    assert_eq!(get_path(server.local_addr(), "/other").status, 404);
}

#[test]
fn leading_empty_lines_are_skipped() {
    let (server, _tree) = serve();
    let r = get(
        server.local_addr(),
        "\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn request_split_in_single_bytes_is_answered() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    for b in GET_HELLO.bytes() {
        c.send(&[b]);
    }
    assert_eq!(c.response().body, HELLO);
}

// Regressions found by h1spec.

#[test]
fn regression_target_with_fragment_is_400() {
    expect_error_and_close(b"GET /hello.txt#frag HTTP/1.1\r\nHost: t\r\n\r\n", 400);
}

#[test]
fn regression_host_with_non_numeric_port_is_400() {
    expect_error_and_close(
        b"GET /hello.txt HTTP/1.1\r\nHost: localhost:abc\r\n\r\n",
        400,
    );
}

#[test]
fn regression_body_cut_short_by_fin_closes() {
    // Data and FIN arrive in one edge: a short read must not be taken as
    // "drained", or the FIN is never seen and the connection hangs.
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(
        b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    );
    c.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(c.closed_within(Duration::from_secs(1)));
    assert!(
        c.leftover().is_empty(),
        "{:?}",
        String::from_utf8_lossy(c.leftover())
    );
}

#[test]
fn half_closed_client_still_gets_its_responses() {
    let (server, _tree) = serve();
    let mut c = Client::connect(server.local_addr());
    c.send(GET_HELLO.repeat(3).as_bytes());
    c.stream.shutdown(std::net::Shutdown::Write).unwrap();
    for _ in 0..3 {
        assert_eq!(c.response().body, HELLO);
    }
    assert!(c.closed_within(Duration::from_secs(1)));
}

#[test]
fn serves_on_ipv6_loopback() {
    let tree = common::TempTree::new();
    let mut cfg = common::config(Some(&tree.root));
    cfg.listen = "[::1]:0".parse().unwrap();
    let Ok(server) = h1serve::Server::bind(cfg) else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    assert!(server.local_addr().is_ipv6());
    assert_eq!(get_path(server.local_addr(), "/hello.txt").body, HELLO);
}
