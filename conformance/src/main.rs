//! The `h1spec` command: run the cases against a target, compare two
//! targets, or serve the mock.
//!
//! Exit status: 0 no failures (beyond the baseline), 1 failures, 2 usage
//! error (bad flags, a malformed target address, a target profile that does
//! not fit the server), 3 target unreachable or not speaking HTTP.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

use h1spec::baseline::{self, Baseline, Comparison};
use h1spec::case::{Case, Level};
use h1spec::mock::{Bug, Mock};
use h1spec::report::{self, Format, Meta};
use h1spec::runner::{self, CaseResult, Options, Profile};
use h1spec::target::{self, ProbeError, Target, TargetProfile};
use h1spec::{catalog, spawn};

mod fuzz_cli;

const USAGE: u8 = 2;
const UNREACHABLE: u8 = 3;

const EXIT_CODES: &str = "Exit status:
  0  no failures (with --baseline: no regressions; with --gate: none at those levels)
  1  failures (or, for `diff`, the two targets disagree)
  2  usage error: bad flags, a malformed HOST:PORT, unreadable case or profile files,
     or a target that answers HTTP but not as the profile says (e.g. GET / is 404: give --path)
  3  target unreachable, or not speaking HTTP (no response, garbage, 5xx to a plain GET)";

/// HTTP/1.1 conformance runner: scripted raw-byte cases against any server,
/// judged against every outcome RFC 9110/9112 allow.
#[derive(Parser)]
#[command(
    name = "h1spec",
    version,
    args_conflicts_with_subcommands = true,
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the same cases against two targets and show where they disagree.
    Diff {
        /// First target: HOST:PORT, https://HOST:PORT, or `spawn:CMD {port}` to start one.
        a: String,
        /// Second target: HOST:PORT, https://HOST:PORT, or `spawn:CMD {port}` to start one.
        b: String,
        /// Output format: human (a table) or json.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        sel: Box<Selection>,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// Put several JSON reports (one per server) side by side in one
    /// self-contained HTML page: `h1spec report nginx.json h1serve.json -o report.html`.
    Report {
        /// JSON reports (`--format json` or `--write-baseline`); a column each,
        /// named after the file.
        #[arg(required = true, value_name = "REPORT.json")]
        files: Vec<PathBuf>,
        /// Where to write the page.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: PathBuf,
        /// The page's title.
        #[arg(long, default_value = "h1spec: HTTP/1.1 conformance")]
        title: String,
    },
    /// Fuzz a server over the wire: generated requests, each followed by a
    /// canary request, judged for crashes, hangs, malformed responses and
    /// desyncs against RFC 9112's reading of the bytes (with
    /// --differential: where servers disagree). Findings are shrunk and can
    /// be written as case files. Exit 1 on findings.
    #[command(after_help = fuzz_cli::FUZZ_EXIT_CODES)]
    Fuzz(Box<fuzz_cli::FuzzArgs>),
    /// Serve the built-in mock server (optionally with bugs) until killed.
    Mock {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// A bug to switch on (repeatable); `--bug list` shows them.
        #[arg(long = "bug")]
        bugs: Vec<String>,
        /// Serve over TLS with this certificate chain (PEM; with --tls-key):
        /// a TLS terminator in front of the mock.
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert (PEM).
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
}

#[derive(Args)]
struct RunArgs {
    /// The server to test: HOST:PORT (or http://HOST:PORT), or
    /// https://HOST:PORT to run the cases over TLS.
    target: Option<String>,
    /// A second target is a mistake: `h1spec diff A B` compares two.
    #[arg(hide = true)]
    extra: Vec<String>,
    /// Start the target with this command (`{port}` is replaced by a free
    /// port), wait until it accepts, run, then stop it.
    #[arg(long, value_name = "CMD")]
    spawn: Option<String>,
    /// How long to wait for a spawned target to accept, in ms.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    spawn_wait: u64,
    /// List the selected cases and exit.
    #[arg(long)]
    list: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Compare with this recorded run: fail only on regressions, report newly passing cases.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Also write a JUnit report to FILE (whatever --format is).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Record this run as a baseline (JSON) in FILE.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Exit 1 only for failures of these levels (e.g. `--gate MUST`); default: any failure.
    #[arg(long, value_delimiter = ',', value_name = "LEVEL")]
    gate: Vec<String>,
    /// Colour: auto, always, never.
    #[arg(long, default_value = "auto")]
    color: String,
    #[command(flatten)]
    sel: Selection,
    #[command(flatten)]
    tls: TlsArgs,
}

/// How https:// targets are trusted.
#[derive(Args)]
struct TlsArgs {
    /// For https:// targets: accept any certificate, as `curl -k` does (the
    /// connection is encrypted but the server is not authenticated).
    #[arg(long, short = 'k')]
    insecure: bool,
    /// For https:// targets: also trust the certificates in this PEM file
    /// (a private CA, or a self-signed server certificate).
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
}

impl TlsArgs {
    /// Sets the process's TLS trust from the flags: a usage error for a
    /// `--cacert` file with no usable certificate. `--insecure` is said
    /// once, when one of `targets` is an `https://` one (`NAME=` before it
    /// or not).
    fn apply<'a>(&self, targets: impl IntoIterator<Item = &'a String>) -> Result<(), ExitCode> {
        let options = h1spec::transport::TlsOptions {
            insecure: self.insecure,
            cacert: self.cacert.clone(),
        };
        h1spec::transport::configure(&options).map_err(usage)?;
        if self.insecure && targets.into_iter().any(|t| t.contains("https://")) {
            eprintln!("h1spec: warning: --insecure: TLS certificates are not verified");
        }
        Ok(())
    }
}

#[derive(Args)]
struct Selection {
    /// Add the cases of every *.toml file in DIR (repeatable).
    #[arg(long = "cases", value_name = "DIR")]
    case_dirs: Vec<PathBuf>,
    /// Leave out the built-in cases.
    #[arg(long)]
    no_builtin: bool,
    /// Run only cases matching these ids, id prefixes, areas or tags.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Skip cases matching these ids, id prefixes, areas or tags.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// Include SHOULD-level cases.
    #[arg(long)]
    should: bool,
    /// `rfc` (every outcome the RFC allows) or `strict` (only the safest).
    #[arg(long, default_value = "rfc")]
    profile: Profile,
    /// Cases run at once.
    #[arg(long, short = 'j', default_value_t = 8)]
    jobs: usize,
    /// Per-step timeout (connect, each write) in ms [default: the target
    /// profile's timeout_ms, else 2000].
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
    /// Wait after the last step for more bytes or a close, in ms [default:
    /// the target profile's wait_ms, else 1000].
    #[arg(long, value_name = "MS")]
    wait: Option<u64>,
    /// Stop the whole run after this many seconds: cases not finished by
    /// then are reported n/a ("--deadline passed").
    #[arg(long, value_name = "SECONDS")]
    deadline: Option<u64>,
    /// Target profile file (paths, capabilities, timeouts): see the README.
    #[arg(long, value_name = "FILE")]
    target_profile: Option<PathBuf>,
    /// Host header value (overrides the profile).
    #[arg(long)]
    host: Option<String>,
    /// A path that answers 200 to GET (overrides the profile).
    #[arg(long)]
    path: Option<String>,
    /// A path that accepts request bodies (overrides the profile).
    #[arg(long)]
    post: Option<String>,
    /// A path that answers 204 (overrides the profile).
    #[arg(long)]
    nocontent: Option<String>,
}

/// Writes to standard output; a reader that went away (`h1spec --list |
/// head`) ends the output quietly instead of a panic.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        // Nothing more can be said there; the exit status still tells.
    }
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("h1spec: {msg}");
    ExitCode::from(USAGE)
}

impl Selection {
    fn cases(&self) -> Result<Vec<Case>, String> {
        let mut all = if self.no_builtin {
            Vec::new()
        } else {
            catalog::builtin()?
        };
        for d in &self.case_dirs {
            all.extend(catalog::load_dir(d)?);
        }
        catalog::check_unique(&all)?;
        for s in self.only.iter().chain(&self.skip) {
            if !all.iter().any(|c| runner::selects(s, c)) {
                return Err(format!("`{s}` matches no case id, prefix, area or tag"));
            }
        }
        Ok(runner::select(all, &self.only, &self.skip, self.should))
    }

    fn profile(&self) -> Result<TargetProfile, String> {
        let mut p = match &self.target_profile {
            Some(f) => TargetProfile::load(f)?,
            None => TargetProfile::default(),
        };
        if self.host.is_some() {
            p.host = self.host.clone();
        }
        if self.path.is_some() {
            p.path = self.path.clone();
        }
        if self.post.is_some() {
            p.post = self.post.clone();
        }
        if self.nocontent.is_some() {
            p.nocontent = self.nocontent.clone();
        }
        Ok(p)
    }

    fn options(&self, profile: &TargetProfile) -> Options {
        let step = self.timeout.or(profile.timeout_ms).unwrap_or(2000);
        let wait = self.wait.or(profile.wait_ms).unwrap_or(1000);
        Options {
            profile: self.profile,
            step: Duration::from_millis(step),
            idle: Duration::from_millis(wait),
            jobs: self.jobs.max(1),
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn probe(addr: &str, profile: &TargetProfile, opts: &Options) -> Result<Target, ExitCode> {
    target::probe(addr, profile, opts.step)
        .await
        .map_err(|e| match e {
            ProbeError::Unreachable(m) => {
                eprintln!("h1spec: target unreachable: {m}");
                ExitCode::from(UNREACHABLE)
            }
            ProbeError::NotHttp(m) => {
                eprintln!("h1spec: target does not speak HTTP usably: {m}");
                ExitCode::from(UNREACHABLE)
            }
            ProbeError::Unusable(m) => usage(m),
        })
}

/// Measures how long the target takes to answer a plain GET. A target
/// slower than a third of `--wait` would have its late answers judged as
/// silence: the wait is raised to three times the latency (unless `--wait`
/// was given, when only a hint is printed).
async fn scale_wait(addr: &str, profile: &TargetProfile, opts: Options, explicit: bool) -> Options {
    let Some(latency) = target::latency(addr, profile, opts.step).await else {
        return opts;
    };
    let needed = latency * 3;
    if needed <= opts.idle {
        return opts;
    }
    let ms = needed.as_millis();
    if explicit {
        eprintln!(
            "h1spec: hint: the target took {} ms to answer a plain GET, but --wait is {} ms: \
             late answers will be judged as silence (try --wait {ms})",
            latency.as_millis(),
            opts.idle.as_millis()
        );
        return opts;
    }
    eprintln!(
        "h1spec: the target took {} ms to answer a plain GET: waiting {ms} ms instead of {} ms \
         for answers (give --wait to choose; --deadline bounds the run)",
        latency.as_millis(),
        opts.idle.as_millis()
    );
    Options {
        idle: needed,
        step: opts.step.max(needed),
        ..opts
    }
}

/// Checks `HOST:PORT`, `http://HOST:PORT` or `https://HOST:PORT` (a name,
/// an IPv4 address or a bracketed IPv6 address, and a port 1..=65535)
/// before anything is sent: the address as the runner takes it
/// (`http://` dropped, `https://` kept).
fn check_addr(addr: &str) -> Result<String, String> {
    h1spec::transport::Endpoint::parse(addr).map(|e| e.to_string())
}

/// Resolves on SIGINT or SIGTERM with the exit status a shell expects
/// (128 + the signal), after saying so.
async fn interrupted() -> u8 {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    let code = tokio::select! {
        _ = int.recv() => 130,
        _ = term.recv() => 143,
    };
    eprintln!("\nh1spec: interrupted, stopping");
    code
}

/// Progress on stderr: a line rewritten in place on a terminal, otherwise
/// (a CI log, `--format json > file`) a line at every tenth of the run.
fn progress_printer() -> impl FnMut(usize, usize, &runner::CaseResult) {
    let tty = std::io::stderr().is_terminal();
    let mut shown = 0;
    move |done, total, r| {
        if tty {
            eprint!("\r\x1b[K[{done}/{total}] {} {}", r.verdict, r.id);
            if done == total {
                eprint!("\r\x1b[K");
            }
        } else if done * 10 / total.max(1) > shown {
            shown = done * 10 / total.max(1);
            eprintln!("h1spec: {done}/{total} cases done");
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Some(Cmd::Mock {
            listen,
            bugs,
            tls_cert,
            tls_key,
        }) => {
            let tls = tls_cert.zip(tls_key);
            mock(&listen, &bugs, tls.as_ref())
        }
        Some(Cmd::Fuzz(args)) => fuzz_cli::run(&args),
        Some(Cmd::Report {
            files,
            output,
            title,
        }) => html_report(&files, &output, &title),
        Some(Cmd::Diff {
            a,
            b,
            format,
            sel,
            tls,
        }) => match tls.apply([&a, &b]) {
            Ok(()) => diff(&a, &b, format, &sel),
            Err(code) => code,
        },
        None => run(&cli.run),
    }
}

fn html_report(files: &[PathBuf], output: &std::path::Path, title: &str) -> ExitCode {
    let mut runs = Vec::new();
    for f in files {
        let name = f.file_stem().map_or_else(
            || f.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => return usage(format!("{}: {e}", f.display())),
        };
        match h1spec::html::load(name, &text) {
            Ok(r) => runs.push(r),
            Err(e) => return usage(e),
        }
    }
    if let Err(e) = std::fs::write(output, h1spec::html::page(&runs, title)) {
        return usage(format!("{}: {e}", output.display()));
    }
    eprintln!(
        "h1spec: {} run(s) written to {}",
        runs.len(),
        output.display()
    );
    ExitCode::SUCCESS
}

fn mock(listen: &str, names: &[String], tls: Option<&(PathBuf, PathBuf)>) -> ExitCode {
    if names.iter().any(|n| n == "list") {
        for b in Bug::ALL {
            emit(&format!("{}\n", b.name()));
        }
        return ExitCode::SUCCESS;
    }
    let bugs: Result<Vec<Bug>, String> = names.iter().map(|n| n.parse()).collect();
    let bugs = match bugs {
        Ok(b) => b,
        Err(e) => return usage(e),
    };
    let started = match tls {
        Some((cert, key)) => match identity(cert, key) {
            Ok((chain, key)) => Mock::start_tls_on(listen, &bugs, chain, key),
            Err(e) => return usage(e),
        },
        None => Mock::start_on(listen, &bugs),
    };
    match started {
        Ok(m) => {
            let scheme = if tls.is_some() { "https://" } else { "" };
            eprintln!("h1spec mock listening on {scheme}{}", m.addr());
            m.wait();
            ExitCode::SUCCESS
        }
        Err(e) => usage(format!("cannot listen on {listen}: {e}")),
    }
}

/// A certificate chain and its key, from PEM files.
fn identity(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<
    (
        Vec<rustls::pki_types::CertificateDer<'static>>,
        rustls::pki_types::PrivateKeyDer<'static>,
    ),
    String,
> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "--tls-cert {}: no certificate in it",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
    Ok((chain, key))
}

fn run(args: &RunArgs) -> ExitCode {
    let cases = match args.sel.cases() {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    if !args.extra.is_empty() {
        return usage(format!(
            "one target per run (got {} more: {}); to compare two servers use `h1spec diff A B`",
            args.extra.len(),
            args.extra.join(" ")
        ));
    }
    if args.list {
        return list(&cases, args.format);
    }
    let levels = match gate_levels(&args.gate) {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    let profile = match args.sel.profile() {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let opts = args.sel.options(&profile);
    warn_unused_paths(&profile, &cases);
    if let Err(code) = args.tls.apply(&args.target) {
        return code;
    }
    let baseline = match &args.baseline {
        Some(f) => match Baseline::load(f) {
            Ok(b) => Some(b),
            Err(e) => return usage(e),
        },
        None => None,
    };
    let (addr, spawned) = match target_addr(args) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let rt = runtime();
    let started = Instant::now();
    let outcome = rt.block_on(async {
        tokio::select! {
            r = run_cases(args, &addr, &profile, opts, &cases, started, spawned.as_ref()) => r,
            code = interrupted() => Err(ExitCode::from(code)),
        }
    });
    // Stops a --spawn target (its whole process group), also after SIGINT
    // or SIGTERM: a runner that is interrupted must not leave it running.
    drop(spawned);
    let (target, results) = match outcome {
        Ok(x) => x,
        Err(code) => return code,
    };
    let meta = Meta {
        preflight: target.notes.clone(),
        target: addr,
        profile: opts.profile,
        should: args.sel.should,
        capabilities: target.capabilities.iter().cloned().collect(),
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    let cmp = baseline.as_ref().map(|b| baseline::compare(&results, b));
    report_run(args, &results, &meta, cmp.as_ref(), &levels)
}

/// `--list`: the selected cases, one a line (human) or as JSON.
fn list(cases: &[Case], format: Format) -> ExitCode {
    match format {
        Format::Human => {}
        Format::Json => {
            emit(&report::list_json(cases));
            return ExitCode::SUCCESS;
        }
        Format::Junit | Format::Tap => {
            return usage("--list prints human or json (--format human|json)")
        }
    }
    let mut text = String::new();
    for c in cases {
        let tags = if c.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", c.tags.join(","))
        };
        text.push_str(&format!(
            "{:<6} {:<48} {:<16} {}{tags}\n",
            c.level.to_string(),
            c.id,
            c.section,
            c.title
        ));
    }
    emit(&text);
    eprintln!("{} cases", cases.len());
    ExitCode::SUCCESS
}

/// The levels `--gate` names.
fn gate_levels(gate: &[String]) -> Result<Vec<Level>, String> {
    let mut levels = Vec::new();
    for g in gate {
        match g.to_ascii_uppercase().as_str() {
            "MUST" => levels.push(Level::Must),
            "SHOULD" => levels.push(Level::Should),
            "MAY" => levels.push(Level::May),
            other => return Err(format!("unknown level {other:?} in --gate")),
        }
    }
    Ok(levels)
}

/// Warns about a `--post` or `--nocontent` path that no selected case uses:
/// the user meant it for something.
fn warn_unused_paths(profile: &TargetProfile, cases: &[Case]) {
    for (flag, given, placeholder) in [
        ("--post", profile.post.is_some(), "{post}"),
        ("--nocontent", profile.nocontent.is_some(), "{nocontent}"),
    ] {
        if given && !cases.iter().any(|c| c.uses(placeholder)) {
            eprintln!(
                "h1spec: warning: {flag} (or the target profile's `{}`) is given, but no selected case uses it",
                &placeholder[1..placeholder.len() - 1]
            );
        }
    }
}

/// The target's address: the one given, or that of the `--spawn`ed
/// server, which is stopped when the returned handle drops.
/// A target started with `--spawn`, shared with the runner (which starts it
/// again when a case stopped it) and stopped when the last handle goes.
type SpawnedTarget = std::sync::Arc<std::sync::Mutex<spawn::Spawned>>;

fn target_addr(args: &RunArgs) -> Result<(String, Option<SpawnedTarget>), ExitCode> {
    match (&args.target, &args.spawn) {
        (Some(t), None) => match check_addr(t) {
            Ok(addr) => Ok((addr, None)),
            Err(e) => Err(usage(e)),
        },
        (None, Some(cmd)) => match spawn::spawn(cmd, Duration::from_millis(args.spawn_wait)) {
            Ok(s) => Ok((
                s.addr.clone(),
                Some(std::sync::Arc::new(std::sync::Mutex::new(s))),
            )),
            Err(e) => {
                eprintln!("h1spec: {e}");
                Err(ExitCode::from(UNREACHABLE))
            }
        },
        _ => Err(usage(
            "give a target HOST:PORT or --spawn 'CMD {port}' (see --help)",
        )),
    }
}

/// Probes the target and runs the cases on it, until `--deadline`.
async fn run_cases(
    args: &RunArgs,
    addr: &str,
    profile: &TargetProfile,
    opts: Options,
    cases: &[Case],
    started: Instant,
    spawned: Option<&SpawnedTarget>,
) -> Result<(Target, Vec<CaseResult>), ExitCode> {
    let opts = scale_wait(addr, profile, opts, args.sel.wait.is_some()).await;
    let mut target = probe(addr, profile, &opts).await?;
    if let Some(s) = spawned {
        let s = s.clone();
        target.restart = Some(h1spec::target::Restart(std::sync::Arc::new(move || {
            s.lock()
                .map_err(|_| "the server's handle is poisoned".to_string())?
                .restart()
        })));
    }
    let opts = runner::fit(&mut target, opts).await;
    for note in &target.notes {
        eprintln!("h1spec: preflight: {note}");
    }
    let deadline = args.sel.deadline.map(|s| started + Duration::from_secs(s));
    let results = runner::run_all_until(&target, cases, opts, deadline, progress_printer()).await;
    if let Some(note) = runner::idle_note(&target).await {
        eprintln!("h1spec: preflight: {note}");
        target.notes.push(note);
    }
    let cut = results
        .iter()
        .filter(|r| r.reasons.iter().any(|w| w == runner::DEADLINE_REASON))
        .count();
    if cut > 0 {
        eprintln!("h1spec: --deadline passed: {cut} case(s) not finished (reported n/a)");
    }
    Ok((target, results))
}

/// Prints the report, writes `--junit` and `--write-baseline`, and gives
/// the exit status `--gate` and the baseline call for.
fn report_run(
    args: &RunArgs,
    results: &[CaseResult],
    meta: &Meta,
    cmp: Option<&Comparison>,
    levels: &[Level],
) -> ExitCode {
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = match args.format {
        Format::Human => report::human(results, meta, cmp, color),
        Format::Json => report::json(results, meta, cmp),
        Format::Junit => report::junit(results, meta),
        Format::Tap => report::tap(results),
    };
    emit(&text);
    if let Some(f) = &args.junit {
        if let Err(e) = std::fs::write(f, report::junit(results, meta)) {
            return usage(format!("{}: {e}", f.display()));
        }
    }
    if let Some(f) = &args.write_baseline {
        if let Err(e) = std::fs::write(f, report::json(results, meta, None)) {
            return usage(format!("{}: {e}", f.display()));
        }
        eprintln!("h1spec: baseline written to {}", f.display());
    }
    if report::gate(results, cmp, levels) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn diff(a: &str, b: &str, format: Format, sel: &Selection) -> ExitCode {
    if matches!(format, Format::Junit | Format::Tap) {
        return usage("diff prints human or json (--format human|json)");
    }
    let mut addrs = Vec::new();
    for t in [a, b] {
        match t.strip_prefix("spawn:") {
            Some(_) => addrs.push(t.to_string()),
            None => match check_addr(t) {
                Ok(addr) => addrs.push(addr),
                Err(e) => return usage(e),
            },
        }
    }
    let (a, b) = (addrs[0].as_str(), addrs[1].as_str());
    let cases = match sel.cases() {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let profile = match sel.profile() {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let opts = sel.options(&profile);
    let (addr_a, _spawned_a) = match start_diff_target(a) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (addr_b, _spawned_b) = match start_diff_target(b) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let rt = runtime();
    let outcome = rt.block_on(async {
        let work = async {
            let ta = probe(&addr_a, &profile, &opts).await?;
            let tb = probe(&addr_b, &profile, &opts).await?;
            let (ra, rb) = tokio::join!(
                runner::run_all(&ta, &cases, opts, |_, _, _| {}),
                runner::run_all(&tb, &cases, opts, |_, _, _| {})
            );
            Ok::<_, ExitCode>((ra, rb))
        };
        tokio::select! {
            r = work => r,
            code = interrupted() => Err(ExitCode::from(code)),
        }
    });
    let (ra, rb) = match outcome {
        Ok(x) => x,
        Err(code) => return code,
    };
    let rows = baseline::disagreements(&ra, &rb);
    emit_diff(a, b, format, &rows);
    // Exit 1 when a case passes on one and fails on the other, so that
    // `h1spec diff` can gate "B behaves like A" in CI.
    if rows.iter().any(|r| r.in_verdict()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A `diff` target: `HOST:PORT`, or `spawn:CMD`, started here (and stopped
/// when the returned handle drops).
fn start_diff_target(t: &str) -> Result<(String, Option<spawn::Spawned>), ExitCode> {
    match t.strip_prefix("spawn:") {
        Some(cmd) => spawn::spawn(cmd, Duration::from_secs(10))
            .map(|s| (s.addr.clone(), Some(s)))
            .map_err(|e| {
                eprintln!("h1spec: {e}");
                ExitCode::from(UNREACHABLE)
            }),
        None => Ok((t.to_string(), None)),
    }
}

/// Prints the rows where the two targets disagree, as a table or JSON.
fn emit_diff(a: &str, b: &str, format: Format, rows: &[baseline::Disagreement]) {
    match format {
        Format::Json => {
            let doc = serde_json::json!({
                "a": a,
                "b": b,
                "verdict_disagreements": rows.iter().filter(|r| r.in_verdict()).count(),
                "rows": rows,
            });
            emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).expect("diff serializes")
            ));
        }
        _ => emit(&baseline::diff_table(a, b, rows)),
    }
}
