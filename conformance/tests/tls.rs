//! h1spec over TLS (`https://HOST:PORT`), against the mock behind TLS with a
//! certificate made here (rcgen): the whole suite gives the verdicts it
//! gives over TCP, save the cases tagged `transport`; trust is refused with
//! a reason a user can act on and taken with `--cacert` or `--insecure`;
//! and the fuzzer finds over TLS the bug it finds over TCP, with
//! reproducers and case files that work over TLS.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use h1spec::mock::{Bug, Mock};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const BIN: &str = env!("CARGO_BIN_EXE_h1spec");

/// Held by the tests that load the machine (the whole suite twice, the
/// fuzzer twice), so that they do not run at once: on two cores, together
/// they starve the mock, and silence that is load is judged as the mock's.
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

fn h1spec(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("h1spec runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A CA, and a server certificate it signed for `names`.
struct Pki {
    /// The CA's certificate, PEM, in a file of its own.
    ca_file: PathBuf,
    /// The server's certificate, then the CA's.
    chain: Vec<CertificateDer<'static>>,
    /// The server's key.
    key: PrivateKeyDer<'static>,
}

impl Pki {
    fn new(tag: &str, names: &[&str]) -> Pki {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, format!("h1spec test CA {tag}"));
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(names)
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        let ca_file = temp(&format!("ca-{tag}.pem"), ca.pem().as_bytes());
        Pki {
            ca_file,
            chain: vec![leaf.der().clone(), ca.der().clone()],
            key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
        }
    }

    /// The mock with `bugs` behind TLS with this certificate.
    fn mock(&self, bugs: &[Bug]) -> Mock {
        Mock::start_tls(bugs, self.chain.clone(), self.key.clone_key()).unwrap()
    }

    fn cacert(&self) -> &str {
        self.ca_file.to_str().unwrap()
    }
}

/// A file of this test process's own under the temporary directory.
fn temp(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("h1spec-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Verdicts of a JSON report, by id.
fn verdicts(o: &Output) -> BTreeMap<String, String> {
    let doc: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("json ({e}): {}", stderr(o)));
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The cases tagged `transport`, whose verdict may differ over TLS.
fn transport_cases() -> Vec<String> {
    let o = h1spec(&[
        "--list",
        "--only",
        "transport",
        "--should",
        "--format",
        "json",
    ]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json list");
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// Runs `args` against `plain` and against `https://` `tls` at once: the
/// two reports.
fn both(plain: &Mock, tls: &Mock, pki: &Pki, args: &[&str]) -> (Output, Output) {
    let plain_addr = plain.addr().to_string();
    let tls_addr = format!("https://{}", tls.addr());
    std::thread::scope(|s| {
        let p = s.spawn(|| h1spec(&[&[plain_addr.as_str()][..], args].concat()));
        let t = h1spec(&[&[tls_addr.as_str(), "--cacert", pki.cacert()][..], args].concat());
        (p.join().unwrap(), t)
    })
}

/// The results whose verdicts differ, the transport cases aside.
fn differing(plain: &Output, tls: &Output) -> Vec<String> {
    let (p, t) = (verdicts(plain), verdicts(tls));
    assert!(!p.is_empty());
    let transport = transport_cases();
    assert!(!transport.is_empty(), "the half-close cases are tagged");
    let ids: std::collections::BTreeSet<&String> = p
        .keys()
        .chain(t.keys())
        .filter(|id| p.get(*id) != t.get(*id) && !transport.contains(id))
        .collect();
    ids.into_iter().cloned().collect()
}

/// Asserts the same verdicts case by case, the transport cases aside: a
/// case that differs is run again alone on both sides (as the runner does
/// with silent cases), and only a difference that holds fails.
fn assert_same_verdicts(plain: &Mock, tls: &Mock, pki: &Pki, runs: (&Output, &Output)) {
    let differ = differing(runs.0, runs.1);
    if differ.is_empty() {
        return;
    }
    eprintln!("differ once, run again alone: {differ:?}");
    let only = differ.join(",");
    let again = [
        "--should", "--post", "/echo", "--format", "json", "--jobs", "1",
    ];
    let (p, t) = both(plain, tls, pki, &[&again[..], &["--only", &only]].concat());
    let (vp, vt) = (verdicts(&p), verdicts(&t));
    let held: Vec<String> = differing(&p, &t)
        .into_iter()
        .map(|id| format!("{id}: {:?} plain, {:?} over TLS", vp.get(&id), vt.get(&id)))
        .collect();
    assert!(held.is_empty(), "verdicts differ over TLS: {held:#?}");
}

#[test]
fn the_suite_over_tls_gives_the_verdicts_it_gives_over_tcp() {
    let _heavy = heavy();
    let pki = Pki::new("suite", &["localhost", "127.0.0.1"]);
    let (plain, tls) = (Mock::start(&[]).unwrap(), pki.mock(&[]));
    let args = ["--should", "--format", "json", "--post", "/echo"];
    let (p, t) = both(&plain, &tls, &pki, &args);
    // The correct mock passes everything (tests/mutation.rs proves it
    // over TCP); here, that the TLS run judged as many cases.
    for o in [&p, &t] {
        let passed = verdicts(o).values().filter(|v| *v == "pass").count();
        assert!(passed > 250, "{passed} passed: {}", stderr(o));
    }
    let doc: serde_json::Value = serde_json::from_slice(&t.stdout).unwrap();
    assert!(doc["meta"]["target"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    assert_same_verdicts(&plain, &tls, &pki, (&p, &t));
    // Failures too: a framing bug and a half-close bug fail the same cases.
    let bugs = [Bug::ClOverTe, Bug::HalfCloseDrop];
    let (plain, tls) = (Mock::start(&bugs).unwrap(), pki.mock(&bugs));
    let args = ["--only", "smuggling,persistence,chunked", "--should"];
    let (p, t) = both(
        &plain,
        &tls,
        &pki,
        &[&args[..], &["--format", "json"]].concat(),
    );
    assert_eq!((code(&p), code(&t)), (1, 1), "{}", stderr(&t));
    assert_same_verdicts(&plain, &tls, &pki, (&p, &t));
    // The human report's reproducer for a failure over TLS is openssl's.
    let (_, t) = both(&plain, &tls, &pki, &args);
    let out = String::from_utf8_lossy(&t.stdout);
    let port = tls.addr().port();
    assert!(
        out.contains(&format!(
            "| openssl s_client -quiet -alpn http/1.1 -connect 127.0.0.1:{port}\n"
        )),
        "{out}"
    );
    assert!(out.contains(&format!(
        "or, without nc: h1spec https://127.0.0.1:{port} --only"
    )));
    assert!(out.contains(&format!("--cacert {}", pki.cacert())));
}

#[test]
fn an_untrusted_certificate_is_said_and_insecure_connects_anyway() {
    let pki = Pki::new("untrusted", &["localhost", "127.0.0.1"]);
    let other = Pki::new("other", &["localhost"]);
    let mock = pki.mock(&[]);
    let addr = format!("https://{}", mock.addr());
    let only = ["--only", "persistence.connection-close"];
    for trust in [&[][..], &["--cacert", other.cacert()][..]] {
        let o = h1spec(&[&[addr.as_str()][..], trust, &only].concat());
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        assert!(
            stderr(&o).contains("TLS handshake failed: certificate not trusted"),
            "{}",
            stderr(&o)
        );
    }
    let o = h1spec(&[&[addr.as_str(), "--insecure"][..], &only].concat());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stderr(&o).matches("certificates are not verified").count(),
        1
    );
}

#[test]
fn the_right_ca_connects_by_name_and_a_name_mismatch_is_said() {
    // A certificate for localhost alone: the name must match, the IP not.
    let pki = Pki::new("names", &["localhost"]);
    let mock = pki.mock(&[]);
    let port = mock.addr().port();
    let only = [
        "--only",
        "persistence.connection-close",
        "--cacert",
        pki.cacert(),
    ];
    let by_name = format!("https://localhost:{port}");
    let o = h1spec(&[&[by_name.as_str()][..], &only].concat());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let by_ip = format!("https://127.0.0.1:{port}");
    let o = h1spec(&[&[by_ip.as_str()][..], &only].concat());
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("certificate name mismatch: the certificate is not valid for 127.0.0.1"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn no_tls_on_the_port_a_bad_pem_file_and_a_closed_port_are_said() {
    let plain = Mock::start(&[]).unwrap();
    let addr = format!("https://{}", plain.addr());
    let o = h1spec(&[&addr, "--only", "host"]);
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("no TLS on that port"), "{}", stderr(&o));
    let not_pem = temp("not.pem", b"just some text\n");
    let o = h1spec(&[&addr, "--cacert", not_pem.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("no certificate in it"),
        "{}",
        stderr(&o)
    );
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("https://{}", free.local_addr().unwrap());
    drop(free);
    let o = h1spec(&[&closed, "--only", "host"]);
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("target unreachable"), "{}", stderr(&o));
    // `http://` is the plain target it always was.
    let o = h1spec(&[&format!("http://{}", plain.addr()), "--only", "host"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// `h1spec fuzz` of `addr`: its JSON summary.
fn fuzz(addr: &str, extra: &[&str]) -> serde_json::Value {
    let args = ["--post", "/echo", "--runs", "3000", "--format", "json"];
    let o = h1spec(&[&["fuzz", addr][..], &args, extra].concat());
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

/// The desync signatures of a fuzz summary.
fn desyncs(summary: &serde_json::Value) -> Vec<String> {
    summary["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["signature"].as_str().unwrap().to_string())
        .filter(|s| s.starts_with("desync:"))
        .collect()
}

#[test]
fn fuzzing_over_tls_finds_the_bug_fuzzing_over_tcp_finds() {
    let _heavy = heavy();
    let pki = Pki::new("fuzz", &["localhost", "127.0.0.1"]);
    let (plain, tls) = (
        Mock::start(&[Bug::ClOverTe]).unwrap(),
        pki.mock(&[Bug::ClOverTe]),
    );
    let dir = std::env::temp_dir().join(format!("h1spec-tls-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tls_addr = format!("https://{}", tls.addr());
    let over_tcp = fuzz(&plain.addr().to_string(), &[]);
    let over_tls = fuzz(
        &tls_addr,
        &["--cacert", pki.cacert(), "--out", dir.to_str().unwrap()],
    );
    let (tcp, tls_found) = (desyncs(&over_tcp), desyncs(&over_tls));
    assert!(!tcp.is_empty());
    assert!(
        tls_found.iter().any(|s| tcp.contains(s)),
        "over TCP: {tcp:?}; over TLS: {tls_found:?}"
    );
    let f = &over_tls["findings"][0];
    assert!(f["reproducer"]
        .as_str()
        .unwrap()
        .contains("| openssl s_client"));
    // The case files it wrote replay over TLS: they fail on the buggy mock.
    let o = h1spec(&[
        &tls_addr,
        "--cacert",
        pki.cacert(),
        "--cases",
        dir.to_str().unwrap(),
        "--no-builtin",
        "--post",
        "/echo",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_library_suite_runs_over_tls_with_the_trust_it_is_given() {
    let pki = Pki::new("library", &["localhost", "127.0.0.1"]);
    let mock = pki.mock(&[]);
    let addr = format!("https://{}", mock.addr());
    // The other tests here run the command, each in a process of its own:
    // this process's trust is this test's to set.
    h1spec::transport::configure(&h1spec::transport::TlsOptions {
        insecure: false,
        cacert: Some(pki.ca_file.clone()),
    })
    .unwrap();
    let outcome = h1spec::Suite::new()
        .only("smuggling")
        .run(&addr)
        .expect("the mock answers over TLS");
    outcome.assert_no_failures();
    assert!(outcome.passed() > 10);
}
