//! Benchmark inputs, shared by `benches/parse.rs` (criterion) and
//! `examples/instructions.rs` (the callgrind driver). `REQ`, `REQ_SHORT`,
//! `RESP` and `RESP_SHORT` are copied byte for byte from httparse 1.10's
//! `benches/parse.rs`, so the figures compare with httparse's own.
#![allow(dead_code)]

pub const REQ_SHORT: &[u8] = b"\
GET / HTTP/1.0\r\n\
Host: example.com\r\n\
Cookie: session=60; user_id=1\r\n\r\n";

pub const REQ: &[u8] = b"\
GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 115\r\n\
Connection: keep-alive\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral|padding=under256\r\n\r\n";

pub const RESP_SHORT: &[u8] = b"\
HTTP/1.0 200 OK\r\n\
Date: Wed, 21 Oct 2015 07:28:00 GMT\r\n\
Set-Cookie: session=60; user_id=1\r\n\r\n";

pub const RESP: &[u8] = b"\
HTTP/1.1 200 OK\r\n\
Date: Wed, 21 Oct 2015 07:28:00 GMT\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 115\r\n\
Connection: keep-alive\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral|padding=under256\r\n\r\n";

/// A current browser's GET: about 700 bytes, 12 header fields.
pub const BROWSER: &[u8] = b"\
GET /en-US/docs/Web/HTTP/Reference/Headers/Accept-Encoding?utm_source=mozilla&utm_medium=devtools HTTP/1.1\r\n\
Host: developer.mozilla.org\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers\r\n\
Connection: keep-alive\r\n\
Cookie: preferredlocale=en-US; ou_prefs=%7B%22colorScheme%22%3A%22dark%22%7D; _ga=GA1.1.123456789.1700000000\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-Site: same-origin\r\n\r\n";

/// A request with 100 header fields.
pub fn many_headers() -> Vec<u8> {
    let mut v = b"GET /api/v1/items?page=2 HTTP/1.1\r\nHost: api.example.com\r\n".to_vec();
    for i in 1..100 {
        v.extend_from_slice(
            format!("X-Custom-Header-{i:03}: value-{i}-abcdefghijkl\r\n").as_bytes(),
        );
    }
    v.extend_from_slice(b"\r\n");
    v
}

/// 16 small pipelined requests in one buffer.
pub fn pipelined16() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..16 {
        v.extend_from_slice(
            format!("GET /item/{i} HTTP/1.1\r\nHost: a.example\r\n\r\n").as_bytes(),
        );
    }
    v
}

/// A head of about `size` bytes made of 64-byte field lines.
pub fn head_of(size: usize) -> Vec<u8> {
    let mut v = b"GET /grow HTTP/1.1\r\nHost: a.example\r\n".to_vec();
    let mut i = 0;
    while v.len() + 64 + 2 <= size {
        let line = format!("X-Fill-{i:04}: {}\r\n", "v".repeat(64 - 15));
        v.extend_from_slice(line.as_bytes());
        i += 1;
    }
    v.extend_from_slice(b"\r\n");
    v
}

/// Every request input: name and bytes. Pipelined inputs hold several heads.
pub fn requests() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("req", REQ.to_vec()),
        ("req_short", REQ_SHORT.to_vec()),
        ("browser", BROWSER.to_vec()),
        ("headers100", many_headers()),
        ("pipelined16", pipelined16()),
        ("head1k", head_of(1024)),
        ("head8k", head_of(8192)),
    ]
}

pub fn responses() -> Vec<(&'static str, Vec<u8>)> {
    vec![("resp", RESP.to_vec()), ("resp_short", RESP_SHORT.to_vec())]
}
