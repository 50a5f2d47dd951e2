//! The `h1spec` command end to end: exit codes, output formats, baselines,
//! `diff` and `--spawn`, against the in-process mock.

use std::process::{Command, Output};

use pretty_assertions::assert_eq;

use h1spec::mock::{Bug, Mock};

const BIN: &str = env!("CARGO_BIN_EXE_h1spec");

fn h1spec(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("h1spec runs")
}

fn fast() -> Vec<&'static str> {
    vec!["--wait", "300", "--jobs", "16", "--color", "never"]
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn list_shows_every_case() {
    let o = h1spec(&["--list", "--should"]);
    assert_eq!(code(&o), 0);
    assert!(text(&o).lines().count() >= 150, "{}", text(&o));
    let only = h1spec(&["--list", "--only", "smuggling"]);
    assert!(text(&only).lines().all(|l| l.contains("smuggling")));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&h1spec(&[])), 2);
    assert_eq!(code(&h1spec(&["--list", "--only", "no-such-case"])), 2);
    assert_eq!(code(&h1spec(&["--profile", "lax", "--list"])), 2);
}

#[test]
fn unreachable_target_exits_3() {
    let port = h1spec::spawn::free_port().expect("free port");
    let o = h1spec(&[&format!("127.0.0.1:{port}"), "--timeout", "500"]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn formats_against_the_mock() {
    let mock = Mock::start(&[]).expect("mock");
    let addr = mock.addr().to_string();
    let mut args = vec![addr.as_str(), "--only", "host,persistence"];
    args.extend(fast());

    let human = h1spec(&args);
    assert_eq!(code(&human), 0, "{}", text(&human));
    assert!(text(&human)
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .contains("0 failed"));

    let mut json_args = args.clone();
    json_args.extend(["--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&h1spec(&json_args).stdout).expect("json");
    assert_eq!(json["summary"]["failed"], 0);
    assert!(json["results"].as_array().unwrap().len() >= 20);

    let mut junit_args = args.clone();
    junit_args.extend(["--format", "junit"]);
    let junit = text(&h1spec(&junit_args));
    assert!(junit.starts_with("<?xml"), "{junit}");
    assert!(junit.contains("<testsuite name=\"host\""));

    let mut tap_args = args.clone();
    tap_args.extend(["--format", "tap"]);
    let tap = text(&h1spec(&tap_args));
    assert!(tap.starts_with("TAP version 13\n1.."), "{tap}");
    assert!(!tap.contains("not ok"));
}

#[test]
fn failures_exit_1_with_a_reproducer() {
    let mock = Mock::start(&[Bug::IgnoreConnectionClose]).expect("mock");
    let addr = mock.addr().to_string();
    let mut args = vec![addr.as_str(), "--only", "persistence.connection-close"];
    args.extend(fast());
    let o = h1spec(&args);
    assert_eq!(code(&o), 1);
    let out = text(&o);
    assert!(out.contains("MUST initiate closure"), "{out}");
    assert!(out.contains("accepted: 2xx close"), "{out}");
    // The case sends its canary once the answer arrived: a pause between
    // two printf calls.
    assert!(out.contains(
        "reproduce: (printf 'GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close"
    ));
    assert!(out.contains(&format!("| nc 127.0.0.1 {}", mock.addr().port())));
    // And h1spec itself, for a machine without nc: the same case, alone.
    let rerun = format!("or, without nc: h1spec {addr} --only persistence.connection-close\n");
    assert!(out.contains(&rerun), "{out}");
    let again = h1spec(&[
        addr.as_str(),
        "--only",
        "persistence.connection-close",
        "--wait",
        "300",
        "--color",
        "never",
    ]);
    assert_eq!(code(&again), 1, "{}", text(&again));
}

#[test]
fn baseline_gates_on_regressions_only() {
    let dir = std::env::temp_dir().join(format!("h1spec-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("buggy.json");
    let file_s = file.to_str().unwrap();
    let buggy = Mock::start(&[Bug::IgnoreContentLength]).expect("mock");
    let good = Mock::start(&[]).expect("mock");
    let buggy_addr = buggy.addr().to_string();
    let good_addr = good.addr().to_string();

    let mut record = vec![
        buggy_addr.as_str(),
        "--only",
        "content-length",
        "--write-baseline",
        file_s,
    ];
    record.extend(fast());
    assert_eq!(code(&h1spec(&record)), 1);

    // Same failures again: known, exit 0.
    let mut again = vec![
        buggy_addr.as_str(),
        "--only",
        "content-length",
        "--baseline",
        file_s,
    ];
    again.extend(fast());
    let o = h1spec(&again);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("0 regression(s)"));

    // The fixed server: newly passing, exit 0.
    let mut fixed = vec![
        good_addr.as_str(),
        "--only",
        "content-length",
        "--baseline",
        file_s,
    ];
    fixed.extend(fast());
    let o = h1spec(&fixed);
    assert_eq!(code(&o), 0);
    assert!(
        text(&o).contains("newly passing: content-length."),
        "{}",
        text(&o)
    );

    // A different bug: regressions, exit 1.
    let other = Mock::start(&[Bug::SilentError]).expect("mock");
    let other_addr = other.addr().to_string();
    let mut worse = vec![
        other_addr.as_str(),
        "--only",
        "content-length",
        "--baseline",
        file_s,
    ];
    worse.extend(fast());
    let o = h1spec(&worse);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o).contains("regression: content-length."),
        "{}",
        text(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn diff_shows_disagreements() {
    let a = Mock::start(&[]).expect("mock");
    let b = Mock::start(&[Bug::HeadBody]).expect("mock");
    let (a, b) = (a.addr().to_string(), b.addr().to_string());
    let mut args = vec!["diff", a.as_str(), b.as_str(), "--only", "bodiless"];
    args.extend(
        fast()
            .into_iter()
            .filter(|a| *a != "--color" && *a != "never"),
    );
    let o = h1spec(&args);
    // Verdicts differ: exit 1 (issue 14: diff gates "B behaves like A").
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let out = text(&o);
    assert!(out.contains("* bodiless.head "), "{out}");
    assert!(out.contains("in verdict (*)"), "{out}");

    // Targets can be started by diff itself.
    let spawn_a = format!("spawn:{BIN} mock --listen 127.0.0.1:{{port}}");
    let spawn_b = format!("spawn:{BIN} mock --listen 127.0.0.1:{{port}} --bug no-pipelining");
    let o = h1spec(&[
        "diff",
        &spawn_a,
        &spawn_b,
        "--only",
        "pipelining",
        "--wait",
        "300",
    ]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text(&o).contains("* pipelining.two "), "{}", text(&o));
}

#[test]
fn spawn_starts_and_stops_the_target() {
    let cmd = format!("{BIN} mock --listen 127.0.0.1:{{port}}");
    let mut args = vec!["--spawn", cmd.as_str(), "--only", "pipelining"];
    args.extend(fast());
    let o = h1spec(&args);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let failed = h1spec(&["--spawn", "false", "--spawn-wait", "500"]);
    assert_eq!(code(&failed), 3);
}

#[test]
fn user_cases_from_a_directory() {
    let dir = std::env::temp_dir().join(format!("h1spec-cases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("mine.toml"),
        r#"area = "mine"

[[case]]
id = "options"
title = "OPTIONS on the root lists methods"
section = "RFC 9110 §9.3.7"
rfc = "A server generating a successful response to OPTIONS SHOULD send any header that might indicate optional features implemented by the server and applicable to the target resource (e.g., Allow)"
level = "SHOULD"
send = 'OPTIONS {path} HTTP/1.1\r\nHost: {host}\r\n\r\n'
accept = [{ responses = [{ status = "2xx", has = ["allow"] }], then = "open" }]
"#,
    )
    .unwrap();
    let mock = Mock::start(&[]).expect("mock");
    let addr = mock.addr().to_string();
    let dir_s = dir.to_str().unwrap();
    let mut args = vec![addr.as_str(), "--cases", dir_s, "--no-builtin", "--should"];
    args.extend(fast());
    let o = h1spec(&args);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains("pass  SHOULD mine.options"),
        "{}",
        text(&o)
    );
    // A broken case file is a usage error that names the file.
    std::fs::write(dir.join("broken.toml"), "area = \"x\"\n[[case]]\nid = 1\n").unwrap();
    let o = h1spec(&["--list", "--cases", dir_s]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("broken.toml"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn diff_of_agreeing_targets_exits_0_and_speaks_json() {
    let a = Mock::start(&[]).expect("mock");
    let b = Mock::start(&[]).expect("mock");
    let (a, b) = (a.addr().to_string(), b.addr().to_string());
    let o = h1spec(&[
        "diff",
        &a,
        &b,
        "--only",
        "persistence",
        "--wait",
        "300",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(doc["verdict_disagreements"], 0);
}

#[test]
fn malformed_target_is_a_usage_error() {
    for bad in [
        "localhost",
        "127.0.0.1:99999",
        "127.0.0.1:0",
        ":80",
        "a b:80",
        "[::1:80",
    ] {
        let o = h1spec(&[bad]);
        assert_eq!(code(&o), 2, "{bad}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("HOST:PORT"));
    }
}

#[test]
fn a_server_that_does_not_speak_http_exits_3() {
    // Accepts, answers garbage, closes: not HTTP, so not a usage error.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for c in listener.incoming().flatten() {
            use std::io::Write;
            let mut c = c;
            let _ = c.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
        }
    });
    let o = h1spec(&[&addr, "--timeout", "1000"]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn two_targets_point_at_diff() {
    let o = h1spec(&["127.0.0.1:1", "127.0.0.1:2"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("h1spec diff A B"));
}

#[test]
fn help_documents_exit_codes() {
    let o = h1spec(&["--help"]);
    let out = text(&o);
    assert!(out.contains("Exit status:"), "{out}");
    assert!(
        out.contains("3  target unreachable, or not speaking HTTP"),
        "{out}"
    );
    assert!(out.contains("--deadline"), "{out}");
}

#[test]
fn list_honours_format() {
    let o = h1spec(&["--list", "--only", "persistence", "--format", "json"]);
    assert_eq!(code(&o), 0);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json list");
    let list = list.as_array().unwrap();
    assert!(!list.is_empty());
    assert!(list
        .iter()
        .all(|c| c["id"].as_str().unwrap().starts_with("persistence.")));
    assert_eq!(code(&h1spec(&["--list", "--format", "tap"])), 2);
}

#[test]
fn human_report_ends_with_the_failures() {
    let mock = Mock::start(&[Bug::IgnoreConnectionClose]).expect("mock");
    let addr = mock.addr().to_string();
    let mut args = vec![addr.as_str(), "--only", "persistence"];
    args.extend(fast());
    let o = h1spec(&args);
    assert_eq!(code(&o), 1);
    let out = text(&o);
    let tail = &out[out.rfind("failures (").expect("a failure summary")..];
    assert!(tail.contains("persistence.connection-close "), "{tail}");
    assert!(tail.contains("| nc 127.0.0.1"), "{tail}");
}

#[test]
fn tap_failures_carry_plain_yamlish() {
    let mock = Mock::start(&[Bug::IgnoreConnectionClose]).expect("mock");
    let addr = mock.addr().to_string();
    let mut args = vec![addr.as_str(), "--only", "persistence", "--format", "tap"];
    args.extend(fast());
    let tap = text(&h1spec(&args));
    assert!(tap.contains("not ok "), "{tap}");
    let mut inside = false;
    for line in tap.lines() {
        match line {
            "  ---" => inside = true,
            "  ..." => inside = false,
            l if inside => assert!(
                // `key: "scalar"` only (TAP::Parser's YAMLish reader reads a
                // list item holding ": " as a mapping, and fails on comments)
                l.starts_with("  ")
                    && l[2..].split_once(": ").is_some_and(|(k, v)| {
                        k.chars().all(|c| c.is_ascii_lowercase())
                            && v.starts_with('"')
                            && v.ends_with('"')
                    }),
                "not plain YAMLish: {l:?}"
            ),
            _ => {}
        }
    }
}

#[test]
fn deadline_bounds_the_run() {
    let mock = Mock::start(&[]).expect("mock");
    let addr = mock.addr().to_string();
    let started = std::time::Instant::now();
    let o = h1spec(&[
        &addr,
        "--only",
        "persistence,pipelining",
        "--wait",
        "1500",
        "--jobs",
        "2",
        "--deadline",
        "2",
        "--format",
        "json",
    ]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(
        doc["summary"]["not_applicable"].as_u64().unwrap() > 0,
        "{doc}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("--deadline passed"));
}

#[test]
fn spawned_target_is_stopped_when_h1spec_is_terminated() {
    let pidfile = std::env::temp_dir().join(format!("h1spec-spawn-{}.pid", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    let cmd = format!(
        "echo $$ > {}; exec {BIN} mock --listen 127.0.0.1:{{port}}",
        pidfile.display()
    );
    let mut child = Command::new(BIN)
        .args([
            "--spawn",
            &cmd,
            "--only",
            "persistence",
            "--wait",
            "3000",
            "--jobs",
            "1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("h1spec starts");
    // Wait (bounded) for the target to be up and its pid written.
    let mut pid = None;
    for _ in 0..100 {
        if let Some(p) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            pid = Some(p);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = pid.expect("the spawned target wrote its pid");
    std::thread::sleep(std::time::Duration::from_millis(800));
    // kill(1) by the pid of the child this test started.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().expect("h1spec exits");
    assert_eq!(exit.code(), Some(143));
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the spawned target (pid {pid}) is still running"
    );
    let _ = std::fs::remove_file(&pidfile);
}

#[test]
fn fuzz_usage_errors_exit_2_and_unreachable_exits_3() {
    assert_eq!(code(&h1spec(&["fuzz"])), 2, "no target");
    assert_eq!(
        code(&h1spec(&["fuzz", "127.0.0.1:1", "--duration", "5x"])),
        2
    );
    assert_eq!(code(&h1spec(&["fuzz", "not-an-address"])), 2);
    assert_eq!(
        code(&h1spec(&["fuzz", "127.0.0.1:1", "--format", "junit"])),
        2
    );
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let o = h1spec(&["fuzz", &addr, "--runs", "10"]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn fuzz_finds_a_bug_writes_a_case_that_replays_and_passes_a_correct_server() {
    let buggy = Mock::start(&[Bug::ClOverTe]).unwrap();
    let correct = Mock::start(&[]).unwrap();
    let dir = std::env::temp_dir().join(format!("h1spec-cli-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = h1spec(&[
        "fuzz",
        &buggy.addr().to_string(),
        "--path",
        "/",
        "--post",
        "/echo",
        "--runs",
        "3000",
        "--format",
        "json",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let findings = doc["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .any(|f| f["signature"].as_str().unwrap().starts_with("desync:")));
    assert!(findings.iter().all(|f| f["case_file"].is_string()));
    // The case files replay: they fail on the buggy server, pass on the correct one.
    let replay = |addr: String| {
        code(&h1spec(&[
            &addr,
            "--cases",
            dir.to_str().unwrap(),
            "--no-builtin",
            "--path",
            "/",
            "--post",
            "/echo",
            "--wait",
            "300",
        ]))
    };
    assert_eq!(replay(buggy.addr().to_string()), 1);
    assert_eq!(replay(correct.addr().to_string()), 0);
    // The same seed sends the same inputs: no findings on the correct server.
    let o = h1spec(&[
        "fuzz",
        &correct.addr().to_string(),
        "--post",
        "/echo",
        "--runs",
        "3000",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("no findings"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The results of a JSON report, by id: (verdict, reasons).
fn results(o: &Output) -> std::collections::BTreeMap<String, (String, String)> {
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_string(),
                (
                    r["verdict"].as_str().unwrap_or_default().to_string(),
                    r["reasons"].to_string(),
                ),
            )
        })
        .collect()
}

// A case that stops the target (here: a chunk size of -1 puts the mock in
// a loop) is named as a result of its own; with --spawn the target is
// started again and the cases after it are judged; without, they are n/a
// with the reason, never silence recorded as failures.
#[test]
fn a_case_that_stops_the_target_is_named_and_the_target_restarted() {
    let mock = format!("{BIN} mock --listen 127.0.0.1:{{port}} --bug hang-on-negative-chunk");
    let only = "chunked.size-negative,chunked.size-0x,chunked.multiple-chunks,persistence";
    // Waits as a loaded machine needs: a restart and a GET must fit in them.
    let slow = [
        "--only",
        only,
        "--wait",
        "1000",
        "--timeout",
        "3000",
        "--format",
        "json",
    ];
    let o = h1spec(&[&["--spawn", mock.as_str()][..], &slow[..]].concat());
    let r = results(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        r.get("liveness.chunked.size-negative")
            .map(|v| v.0.as_str()),
        Some("fail"),
        "{r:#?}\n{stderr}"
    );
    let na: Vec<&String> = r
        .iter()
        .filter(|(_, v)| v.0 == "n/a")
        .map(|(k, _)| k)
        .collect();
    assert!(na.is_empty(), "restarted, so nothing is n/a: {na:?}");
    assert!(
        !r.contains_key("liveness.stopped"),
        "the stop is said once, by its case: {r:#?}"
    );
    assert_eq!(
        r.get("chunked.multiple-chunks").map(|v| v.0.as_str()),
        Some("pass")
    );

    let target = Mock::start(&[Bug::HangOnNegativeChunk]).expect("mock");
    let addr = target.addr().to_string();
    let o = h1spec(&[&[addr.as_str()][..], &slow[..]].concat());
    let r = results(&o);
    assert!(
        r.iter()
            .any(|(k, v)| k.starts_with("liveness.") && v.0 == "fail"),
        "{r:#?}"
    );
    let silent_fail: Vec<&String> = r
        .iter()
        .filter(|(k, v)| !k.starts_with("liveness.") && v.0 == "fail" && !v.1.contains("liveness"))
        .map(|(k, _)| k)
        .collect();
    let na: Vec<&(String, String)> = r.values().filter(|v| v.0 == "n/a").collect();
    assert!(
        na.iter().all(|v| v.1.contains("--spawn")),
        "n/a without the reason: {na:?} (fails: {silent_fail:?})"
    );
}
