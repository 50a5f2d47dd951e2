//! The hot path allocates nothing: once buffers, the open-file cache and the
//! connection table are warm, answering requests performs no heap allocation
//! in the server (the client below allocates nothing in its loop either).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: defers to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Sends `req` `n` times (pipelined `depth` at a time) and reads the
/// answers, each exactly `len` bytes, without allocating.
fn exchange(
    s: &mut TcpStream,
    req: &[u8],
    (len, status): (usize, &[u8; 12]),
    n: usize,
    depth: usize,
    buf: &mut [u8],
) {
    let mut batch = [0u8; 4096];
    for i in 0..depth {
        batch[i * req.len()..(i + 1) * req.len()].copy_from_slice(req);
    }
    for _ in 0..n / depth {
        s.write_all(&batch[..req.len() * depth]).unwrap();
        let want = len * depth;
        let mut got = 0;
        while got < want {
            let k = s.read(&mut buf[got..want]).unwrap();
            assert!(k > 0, "closed");
            got += k;
        }
        assert_eq!(&buf[..12], status);
    }
}

#[test]
fn answering_requests_does_not_allocate() {
    let (server, _tree) = common::serve_with(|c| c.workers = 1);
    let mut s = TcpStream::connect(server.local_addr()).unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    for (req, depth) in [
        (&b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n"[..], 1),
        (b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n", 16),
        (
            b"GET /sub/page.css HTTP/1.1\r\nHost: t\r\nRange: bytes=0-3\r\n\r\n",
            1,
        ),
        (b"HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n", 4),
    ] {
        // Learn the response length, and warm every buffer and cache.
        s.write_all(req).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let len = s.read(&mut buf).unwrap();
        let status: [u8; 12] = buf[..12].try_into().unwrap();
        assert!(status.starts_with(b"HTTP/1.1 2"));
        exchange(&mut s, req, (len, &status), 64, depth, &mut buf);
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        exchange(&mut s, req, (len, &status), 512, depth, &mut buf);
        let during = ALLOCATIONS.load(Ordering::Relaxed) - before;
        assert_eq!(
            during,
            0,
            "{} allocations for 512 requests of {:?}",
            during,
            String::from_utf8_lossy(req)
        );
    }
}
