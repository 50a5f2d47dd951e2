//! Memory given back after a wave of connections, whatever number of
//! connections stays open (the binary, so its RSS is its own).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{printed_addr, TempTree};

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Raises this process's descriptor limit to the hard limit (a wave needs
/// thousands of sockets).
fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write and read one live rlimit.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
}

/// A keep-alive connection that got one response (`hello.txt`, 13 bytes).
fn served(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.ends_with(common::HELLO) {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "closed");
        buf.extend_from_slice(&chunk[..n]);
    }
    s
}

// With more than 64 connections still open after a wave, the memory the
// wave's connections had used was never handed back (80 held connections,
// waves of 3,000: RSS stayed 23 MB over the start; nginx returns to its
// baseline). It is handed back once closes pause, whatever stays open.
#[test]
fn memory_after_a_wave_is_given_back_with_80_connections_held() {
    raise_nofile();
    let tree = TempTree::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_h1serve"))
        .args(["--listen", "127.0.0.1:0", "--workers", "1", "--root"])
        .arg(&tree.root)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = printed_addr(&mut child);
    let held: Vec<TcpStream> = (0..80).map(|_| served(addr)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let base = rss_kib(child.id());
    let wave: Vec<TcpStream> = (0..3000)
        .map(|_| {
            let mut s = served(addr);
            s.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n")
                .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let peak = rss_kib(child.id());
    drop(wave);
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut after = rss_kib(child.id());
    while after > base + 4 * 1024 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        after = rss_kib(child.id());
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(held);
    println!("RSS {base} KiB with 80 held, {peak} KiB at the wave's peak, {after} KiB after");
    assert!(
        peak > base + 8 * 1024,
        "the wave did not take memory: {peak} KiB"
    );
    assert!(
        after <= base + 4 * 1024,
        "RSS {after} KiB after the wave, {base} KiB before it (peak {peak} KiB)"
    );
}
