//! The state machine against arbitrary fragmentation: a fixed mix of
//! pipelined requests (plain, HEAD, Content-Length and chunked bodies, a
//! range, a 404) split at random points must get the same answers, in the
//! same order, as when sent whole.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use common::{Client, TempTree, HELLO};
use pretty_assertions::assert_eq;
use proptest::prelude::*;

/// One server for every case of the property (started once).
fn server() -> SocketAddr {
    static SERVER: OnceLock<(h1serve::ServerHandle, TempTree)> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let tree = TempTree::new();
            let cfg = common::config(Some(&tree.root));
            (h1serve::Server::bind(cfg).unwrap(), tree)
        })
        .0
        .local_addr()
}

/// (request bytes, is HEAD, expected status, expected body)
fn requests() -> Vec<(Vec<u8>, bool, u16, Vec<u8>)> {
    vec![
        (b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), false, 200, HELLO.to_vec()),
        (b"HEAD /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), true, 200, vec![]),
        (
            b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world".to_vec(),
            false,
            405,
            b"405 Method Not Allowed\n".to_vec(),
        ),
        (
            b"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n".to_vec(),
            false,
            405,
            b"405 Method Not Allowed\n".to_vec(),
        ),
        (
            b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=7-\r\n\r\n".to_vec(),
            false,
            206,
            HELLO[7..].to_vec(),
        ),
        (b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), false, 404, b"404 Not Found\n".to_vec()),
        (b"\r\nGET /sub/page.css HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(), false, 200, b"body{}\n".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_fragmentation_gives_the_same_answers(
        order in proptest::collection::vec(0usize..7, 1..12),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let all = requests();
        let mut wire = Vec::new();
        for &i in &order {
            wire.extend_from_slice(&all[i].0);
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len())).collect();
        points.sort_unstable();
        points.dedup();
        let mut c = Client::connect(server());
        let mut at = 0;
        for p in points.into_iter().chain([wire.len()]) {
            c.stream.write_all(&wire[at..p]).unwrap();
            c.stream.flush().unwrap();
            if p > at {
                // Let the piece travel alone so the server sees it separately.
                std::thread::sleep(Duration::from_millis(1));
            }
            at = p;
        }
        for &i in &order {
            let (_, head, status, body) = &all[i];
            let r = c.response_to(*head);
            prop_assert_eq!((r.status, &r.body), (*status, body));
        }
        prop_assert!(c.leftover().is_empty());
    }
}

#[test]
fn four_hundred_pipelined_requests_exceed_every_buffer() {
    // 400 requests are more than one read buffer holds, and their answers
    // more than the output high-water mark: both limits are crossed.
    let mut c = Client::connect(server());
    let req = "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n";
    c.send(req.repeat(400).as_bytes());
    let bodies: Vec<Vec<u8>> = (0..400).map(|_| c.response().body).collect();
    assert_eq!(bodies, vec![HELLO.to_vec(); 400]);
}
