//! The signals operators send: TERM, INT and QUIT stop gracefully (even
//! when nobody reads the error log), HUP and USR1 reopen the logs
//! (logrotate) and kill nothing.

mod common;

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{get_path, Client, TempTree, BIG};

/// Waits up to `within` for the child to exit and returns its status.
fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

fn addr_in(line: &str) -> SocketAddr {
    line.split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .parse()
        .unwrap()
}

/// A client whose `GET /big.bin` is blocked on a full socket.
fn download_in_flight(addr: SocketAddr) -> Client {
    let mut c = Client::connect(addr);
    c.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    c.send(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    std::thread::sleep(Duration::from_millis(100));
    let stats = get_path(addr, "/stats").text();
    assert!(stats.contains("\"writing\":1,"), "not in flight: {stats}");
    c
}

// The shutdown line was written to stderr with a blocking write before
// shutdown began: with stderr a full pipe, SIGTERM was ignored until
// someone read it. No path may wait on stderr.
#[test]
fn sigterm_with_a_full_stderr_pipe_still_exits() {
    let tree = TempTree::new();
    let (reader, writer) = std::io::pipe().unwrap();
    let filler = writer.try_clone().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_h1serve"))
        .args(["--listen", "127.0.0.1:0", "--workers", "1", "--root"])
        .arg(&tree.root)
        .stderr(writer)
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(reader);
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    let addr = addr_in(&first);
    assert_eq!(get_path(addr, "/hello.txt").status, 200);
    // Fill the pipe (64 KiB by default) from a thread of our own; it stays
    // blocked until the reader goes away.
    let fill = std::thread::spawn(move || {
        let mut filler = filler;
        let chunk = [b'x'; 4096];
        while filler.write_all(&chunk).is_ok() {}
    });
    std::thread::sleep(Duration::from_millis(200));
    let sent = Instant::now();
    signal(&child, libc::SIGTERM);
    let status = wait_exit(&mut child, Duration::from_secs(5));
    let took = sent.elapsed();
    drop(lines);
    fill.join().unwrap();
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("h1serve did not exit within 5 s of SIGTERM with a full stderr pipe");
    };
    assert!(status.success(), "{status}");
    println!("SIGTERM to exit with a full stderr pipe: {took:?}");
}

fn wait_for_line(path: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(needle)) {
            return line.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in {}: {text:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// HUP, USR1 and QUIT killed the server on the spot (a download cut, an
// upload's temporary file left). As nginx: USR1 (and HUP) reopen the access
// and error logs, so logrotate can move them; QUIT stops gracefully like TERM.
#[test]
fn hup_and_usr1_reopen_the_logs_and_quit_stops_gracefully() {
    let tree = TempTree::new();
    let access = tree.base.join("access.log");
    let errors = tree.base.join("error.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_h1serve"))
        .args(["--listen", "127.0.0.1:0", "--workers", "1", "--root"])
        .arg(&tree.root)
        .arg("--access-log")
        .arg(&access)
        .arg("--error-log")
        .arg(&errors)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = addr_in(&wait_for_line(&errors, "listening on"));
    let mut download = download_in_flight(addr);
    for (sig, name) in [(libc::SIGHUP, "HUP"), (libc::SIGUSR1, "USR1")] {
        // As logrotate does: move the files away, then signal.
        std::fs::rename(&access, tree.base.join(format!("access.log.{name}"))).unwrap();
        std::fs::rename(&errors, tree.base.join(format!("error.log.{name}"))).unwrap();
        signal(&child, sig);
        wait_for_line(&errors, "reopened");
        assert!(child.try_wait().unwrap().is_none(), "SIGHUP/USR1 killed it");
        assert_eq!(get_path(addr, &format!("/hello.txt?{name}")).status, 200);
        wait_for_line(&access, &format!("/hello.txt?{name}"));
    }
    let r = download.response();
    assert_eq!((r.status, r.body.len()), (200, BIG));

    let mut download = download_in_flight(addr);
    signal(&child, libc::SIGQUIT);
    let r = download.response();
    assert_eq!(
        (r.status, r.body.len()),
        (200, BIG),
        "QUIT cut the download"
    );
    let status = wait_exit(&mut child, Duration::from_secs(5)).expect("exit after QUIT");
    assert!(status.success(), "{status}");
    wait_for_line(&errors, "shutting down");
}
