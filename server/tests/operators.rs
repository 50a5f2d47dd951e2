//! What operators meet first: `--listen` forms, an unusable TMPDIR, why a
//! script's answer was a 502, and the /metrics series.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{get_path, printed_addr, TempTree};

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_h1serve"))
}

// `--listen 8080` and `--listen localhost:8080` were refused; other servers
// take a bare port and host names.
#[test]
fn listen_takes_a_bare_port_and_a_host_name() {
    let tree = TempTree::new();
    for listen in ["localhost:0", "0"] {
        let mut child = binary()
            .args(["--listen", listen, "--workers", "1", "--root"])
            .arg(&tree.root)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let printed = printed_addr(&mut child);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], printed.port()));
        let r = get_path(addr, "/hello.txt");
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(r.status, 200, "--listen {listen}");
        let want = if listen == "0" {
            "0.0.0.0"
        } else {
            "127.0.0.1"
        };
        assert_eq!(printed.ip().to_string(), want, "--listen {listen}");
    }
}

// An unusable TMPDIR was found only when the first CGI body over 8 KiB
// failed with 500; it is refused at startup, with the reason.
#[test]
fn unusable_tmpdir_is_refused_at_startup() {
    let tree = TempTree::new();
    let cgi = tree.base.join("cgi");
    std::fs::create_dir_all(&cgi).unwrap();
    let mut child = binary()
        .args(["--listen", "127.0.0.1:0", "--workers", "1", "--cgi-dir"])
        .arg(&cgi)
        .env("TMPDIR", tree.base.join("no-such-folder"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("h1serve started with an unusable TMPDIR");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!status.success());
    assert!(
        err.contains("TMPDIR") && err.contains("no-such-folder"),
        "{err}"
    );
}

fn wait_for_line(path: &Path, needle: &str) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(needle)) {
            return Some(line.to_string());
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// A script whose header block is invalid got 502 and the error log said
// nothing; it now says which script and why.
#[test]
fn invalid_cgi_header_block_is_logged_with_the_reason() {
    let tree = TempTree::new();
    let cgi = tree.base.join("cgi");
    std::fs::create_dir_all(&cgi).unwrap();
    let script = |name: &str, text: &str| {
        use std::os::unix::fs::PermissionsExt;
        let p = cgi.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    script("bad.sh", "#!/bin/sh\necho 'this is not a header'\n");
    script("badstatus.sh", "#!/bin/sh\nprintf 'Status: abc\\n\\n'\n");
    let log = tree.base.join("error.log");
    let mut child = binary()
        .args(["--listen", "127.0.0.1:0", "--workers", "1", "--cgi-dir"])
        .arg(&cgi)
        .arg("--error-log")
        .arg(&log)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = wait_for_line(&log, "listening on").expect("started");
    let addr: std::net::SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    let bad = get_path(addr, "/cgi-bin/bad.sh").status;
    let bad_status = get_path(addr, "/cgi-bin/badstatus.sh").status;
    let logged = wait_for_line(&log, "bad.sh");
    let logged_status = wait_for_line(&log, "badstatus.sh");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!((bad, bad_status), (502, 502));
    let logged = logged.expect("no error log line for bad.sh");
    assert!(logged.contains("header block"), "{logged}");
    let logged_status = logged_status.expect("no error log line for badstatus.sh");
    assert!(logged_status.contains("Status"), "{logged_status}");
}

// /metrics counted 201, 409, 412, 502, 504 and 507 as "other".
#[test]
fn metrics_have_series_for_the_upload_and_gateway_statuses() {
    let tree = TempTree::new();
    let up = tree.base.join("up");
    std::fs::create_dir_all(&up).unwrap();
    let mut cfg = common::config(Some(&tree.root));
    cfg.upload_dir = Some(up);
    let server = h1serve::Server::bind(cfg).unwrap();
    let addr = server.local_addr();
    let put = |path: &str, fields: &str| {
        common::get(
            addr,
            &format!("PUT {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n{fields}\r\nx"),
        )
        .status
    };
    assert_eq!(put("/a.txt", ""), 201);
    assert_eq!(put("/a.txt", "If-None-Match: *\r\n"), 412);
    assert_eq!(put("/no/such/folder.txt", ""), 409);
    let metrics = get_path(addr, "/metrics").text();
    for series in [
        "h1serve_responses_total{status=\"201\"} 1",
        "h1serve_responses_total{status=\"409\"} 1",
        "h1serve_responses_total{status=\"412\"} 1",
        "h1serve_responses_total{status=\"502\"} 0",
        "h1serve_responses_total{status=\"504\"} 0",
        "h1serve_responses_total{status=\"507\"} 0",
        "h1serve_responses_total{status=\"other\"} 0",
        "h1serve_cgi_scripts 0",
        "h1serve_cgi_bodies_spooling 0",
    ] {
        assert!(metrics.contains(series), "{series} missing:\n{metrics}");
    }
}
