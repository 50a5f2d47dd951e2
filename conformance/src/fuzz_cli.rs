//! `h1spec fuzz`: flags, targets, output.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;

use h1spec::case::Vars;
use h1spec::fuzz::{self, Config, FuzzTarget, Summary, Watch};
use h1spec::target::TargetProfile;
use h1spec::{catalog, runner, spawn};

use super::{check_addr, interrupted, runtime, usage, UNREACHABLE};

/// How `h1spec fuzz` reports.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FuzzFormat {
    /// Findings with their bytes and reproducers, for a terminal.
    Human,
    /// One JSON document: counts, findings, leniencies.
    Json,
}

/// Exit codes of `h1spec fuzz`, for its --help.
pub const FUZZ_EXIT_CODES: &str = "Exit status:
  0  no finding
  1  findings (crash, hang, malformed, desync, differential)
  2  usage error (bad flags, a malformed HOST:PORT, an unwritable --out)
  3  a target that does not answer the canary (GET of the missing path) with HTTP";

/// Flags of `h1spec fuzz`.
#[derive(Args)]
pub struct FuzzArgs {
    /// The server to fuzz: HOST:PORT, or https://HOST:PORT over TLS.
    target: Option<String>,
    /// Start the server with this command (`{port}` is replaced by a free
    /// port) and watch its process: an exit is a crash finding.
    #[arg(long, value_name = "CMD")]
    spawn: Option<String>,
    /// Send every input to each of these servers and report where they
    /// disagree on how many requests the bytes hold (HOST:PORT,
    /// NAME=HOST:PORT or spawn:CMD {port}; two or more).
    #[arg(long, num_args = 2.., value_name = "TARGET", conflicts_with_all = ["target", "spawn"])]
    differential: Vec<String>,
    /// Proxy mode: the front end to fuzz (HOST:PORT), which forwards to the
    /// echo origin h1spec runs at --origin-listen; a finding is also any
    /// request the origin receives that the client's bytes do not hold as
    /// a message (smuggled), a changed body length, or non-HTTP bytes.
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["target", "differential"], requires = "origin_listen")]
    via: Option<String>,
    /// Proxy mode: where h1spec's echo origin listens (port 0: any free
    /// port; `{origin_port}` in --spawn is replaced by it).
    #[arg(long, value_name = "ADDR")]
    origin_listen: Option<String>,
    /// Seed of the input sequence: the same seed sends the same inputs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop after this many inputs.
    #[arg(long, value_name = "N")]
    runs: Option<u64>,
    /// Stop after this long: `90`, `90s`, `10m`, `1h`.
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Connections in flight at once.
    #[arg(long, short = 'j', default_value_t = 8)]
    jobs: usize,
    /// Connect timeout and the longest one write may take, in ms.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    timeout: u64,
    /// How long to wait for more bytes when confirming a finding, in ms
    /// (raise it for a slow server).
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    wait: u64,
    /// Write each finding as a case file in DIR (`h1spec --cases DIR` replays them).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FuzzFormat::Human)]
    format: FuzzFormat,
    /// Exchanges each finding may spend on shrinking.
    #[arg(long, default_value_t = 300, value_name = "N")]
    shrink_budget: usize,
    /// Stop after this many distinct root causes (a desync counts once per
    /// rule the server read otherwise, whatever way it showed).
    #[arg(long, default_value_t = 20, value_name = "N")]
    max_findings: usize,
    /// Also take the requests of the case files in DIR as seeds (repeatable).
    #[arg(long = "cases", value_name = "DIR")]
    case_dirs: Vec<PathBuf>,
    /// Do not seed with the built-in cases' requests (grammar only).
    #[arg(long)]
    no_seeds: bool,
    /// Target profile file (host, paths): see the README.
    #[arg(long, value_name = "FILE")]
    target_profile: Option<PathBuf>,
    /// Host header value [default: the profile's, else localhost].
    #[arg(long)]
    host: Option<String>,
    /// A path that answers 200 to GET [default: /].
    #[arg(long)]
    path: Option<String>,
    /// A path that accepts request bodies [default: --path].
    #[arg(long)]
    post: Option<String>,
    #[command(flatten)]
    tls: super::TlsArgs,
}

/// `90` (seconds), or what `humantime` reads: `90s`, `10m`, `1h 30m`, `500ms`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| format!("{s:?} is too many seconds"));
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration (e.g. 90s, 10m, 1h): {e}"))
}

struct Child(Mutex<spawn::Spawned>);

impl Watch for Child {
    fn exited(&self) -> Option<String> {
        self.0.lock().ok()?.exited()
    }

    fn restart(&self) -> Result<(), String> {
        self.0
            .lock()
            .map_err(|_| "the server's handle is poisoned".to_string())?
            .restart()
    }
}

impl FuzzArgs {
    fn vars(&self) -> Result<Vars, String> {
        let p = match &self.target_profile {
            Some(f) => TargetProfile::load(f)?,
            None => TargetProfile::default(),
        };
        let path = self.path.clone().or(p.path).unwrap_or_else(|| "/".into());
        Ok(Vars {
            host: self
                .host
                .clone()
                .or(p.host)
                .unwrap_or_else(|| "localhost".into()),
            post: self.post.clone().or(p.post).unwrap_or_else(|| path.clone()),
            path,
            missing: p.missing.unwrap_or_else(|| "/h1spec-canary-404".into()),
            ..Vars::default()
        })
    }

    /// Requests of the compiled cases (and `--cases` files), filled in.
    fn seeds(&self, vars: &Vars) -> Result<Vec<Vec<u8>>, String> {
        let mut cases = if self.no_seeds {
            Vec::new()
        } else {
            catalog::builtin()?
        };
        for d in &self.case_dirs {
            cases.extend(catalog::load_dir(d)?);
        }
        let mut seeds = Vec::new();
        for c in &cases {
            let Ok(actions) = runner::actions(c, vars) else {
                continue;
            };
            let mut bytes = Vec::new();
            for a in actions {
                if let h1spec::exchange::Action::Write(b) = a {
                    bytes.extend_from_slice(&b);
                }
            }
            if !bytes.is_empty() && bytes.len() <= 16 * 1024 {
                seeds.push(bytes);
            }
        }
        Ok(seeds)
    }
}

/// Runs `h1spec fuzz`.
pub fn run(args: &FuzzArgs) -> ExitCode {
    if args.jobs == 0 {
        return usage("--jobs must be at least 1");
    }
    let targets = args
        .target
        .iter()
        .chain(&args.via)
        .chain(&args.differential);
    if let Err(code) = args.tls.apply(targets) {
        return code;
    }
    let vars = match args.vars() {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    let seeds = match args.seeds(&vars) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    // Targets: one (address or --spawn), or several with --differential.
    let rt = runtime();
    let origin = match &args.origin_listen {
        Some(addr) => match rt.block_on(fuzz::origin::Origin::start(addr)) {
            Ok(o) => Some(o),
            Err(e) => return usage(format!("--origin-listen {addr}: {e}")),
        },
        None => None,
    };
    let origin_port = origin.as_ref().map_or(0, |o| o.addr.port()).to_string();
    let started = specs(args, &origin_port).and_then(|specs| start_targets(&specs, &vars));
    let Started {
        targets,
        keep,
        watch,
    } = match started {
        Ok(s) => s,
        Err(code) => return code,
    };
    let cfg = match config(args, &origin) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let tty = std::io::stderr().is_terminal();
    let progress = progress_line(tty);
    let summary = rt.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            interrupted().await;
            let _ = tx.send(());
        });
        fuzz::fuzz(targets.clone(), seeds, cfg, watch, progress, Some(rx)).await
    });
    if tty {
        eprint!("\r\x1b[K");
    }
    let mut summary = match summary {
        Ok(s) => s,
        Err(fuzz::StartError::Unreachable(m)) => {
            eprintln!("h1spec: target does not answer HTTP: {m}");
            return ExitCode::from(UNREACHABLE);
        }
    };
    drop(keep);
    if let Err(code) = write_cases(args, &mut summary, &vars) {
        return code;
    }
    match args.format {
        FuzzFormat::Json => super::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&summary).expect("summary serializes")
        )),
        FuzzFormat::Human => super::emit(&human(&summary, &targets)),
    }
    if summary.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The targets as given: the --differential list, the --spawn command
/// (with `{origin_port}` filled in), or the address (--via or the
/// positional one).
fn specs(args: &FuzzArgs, origin_port: &str) -> Result<Vec<String>, ExitCode> {
    if !args.differential.is_empty() {
        Ok(args.differential.clone())
    } else if let Some(cmd) = &args.spawn {
        if args.target.is_some() {
            return Err(usage("give a target HOST:PORT or --spawn CMD, not both"));
        }
        Ok(vec![format!(
            "spawn:{}",
            cmd.replace("{origin_port}", origin_port)
        )])
    } else if let Some(t) = args.via.as_ref().or(args.target.as_ref()) {
        Ok(vec![t.clone()])
    } else {
        Err(usage(
            "no target: give HOST:PORT, --spawn CMD or --differential A B ...",
        ))
    }
}

/// The targets of a run, and the servers it started.
struct Started {
    /// Each target, named.
    targets: Vec<FuzzTarget>,
    /// The spawned servers, kept running until the run is over.
    keep: Vec<Arc<Child>>,
    /// The one spawned target's process, watched for an exit.
    watch: Option<Arc<dyn Watch>>,
}

/// Starts the `spawn:` targets among `specs` and names each target
/// (`NAME=`, else the address or the spawned command's name).
fn start_targets(specs: &[String], vars: &Vars) -> Result<Started, ExitCode> {
    let mut keep = Vec::new();
    let mut watch: Option<Arc<dyn Watch>> = None;
    let mut targets = Vec::new();
    for spec in specs {
        let (name, rest) = match spec.split_once('=') {
            Some((n, r)) if !n.contains(':') && !n.contains(' ') => (Some(n.to_string()), r),
            _ => (None, spec.as_str()),
        };
        let (addr, label) = match rest.strip_prefix("spawn:") {
            Some(cmd) => match spawn::spawn(cmd, Duration::from_secs(10)) {
                Ok(s) => {
                    let addr = s.addr.clone();
                    let child = Arc::new(Child(Mutex::new(s)));
                    if specs.len() == 1 {
                        watch = Some(child.clone());
                    }
                    keep.push(child);
                    let first = cmd.split_whitespace().next().unwrap_or("spawned");
                    (addr, first.rsplit('/').next().unwrap_or(first).to_string())
                }
                Err(e) => {
                    eprintln!("h1spec: {e}");
                    return Err(ExitCode::from(UNREACHABLE));
                }
            },
            None => match check_addr(rest) {
                Ok(addr) => (addr.clone(), addr),
                Err(e) => return Err(usage(e)),
            },
        };
        let name = name.unwrap_or(label);
        if targets.iter().any(|t: &FuzzTarget| t.name == name) {
            return Err(usage(format!(
                "two targets named {name:?}: name them NAME=HOST:PORT"
            )));
        }
        targets.push(FuzzTarget {
            name,
            addr,
            vars: vars.clone(),
        });
    }
    Ok(Started {
        targets,
        keep,
        watch,
    })
}

/// The run's configuration from the flags; in proxy mode (an echo
/// origin), one exchange at a time.
fn config(args: &FuzzArgs, origin: &Option<fuzz::origin::Origin>) -> Result<Config, ExitCode> {
    let cfg = Config {
        seed: args.seed,
        runs: args.runs,
        duration: args.duration,
        jobs: args.jobs,
        step: Duration::from_millis(args.timeout),
        wait: Duration::from_millis(args.wait),
        shrink_budget: args.shrink_budget,
        max_findings: args.max_findings.max(1),
        origin: origin.clone(),
    };
    if origin.is_some() && args.differential.len() > 1 {
        return Err(usage(
            "--origin-listen goes with one front end (--via or --spawn), not --differential",
        ));
    }
    Ok(match origin {
        Some(o) => {
            eprintln!(
                "h1spec: proxy mode: the echo origin listens on {}; one exchange at a time, so each request it receives is attributed",
                o.addr
            );
            Config { jobs: 1, ..cfg }
        }
        None => cfg,
    })
}

/// On a terminal, a progress line redrawn in place.
fn progress_line(tty: bool) -> Option<Box<dyn Fn(fuzz::Progress) + Send + Sync>> {
    tty.then(|| {
        Box::new(|p: fuzz::Progress| {
            eprint!(
                "\r\x1b[K{} inputs, {:.0}/s, {} finding(s), {:.0} s",
                p.inputs,
                p.inputs as f64 / p.seconds.max(0.001),
                p.findings,
                p.seconds
            );
        }) as Box<dyn Fn(fuzz::Progress) + Send + Sync>
    })
}

/// With `--out`, writes each finding as a case file and records where.
fn write_cases(args: &FuzzArgs, summary: &mut Summary, vars: &Vars) -> Result<(), ExitCode> {
    if let Some(dir) = &args.out {
        let how = format!("`h1spec fuzz --seed {}`", args.seed);
        for f in &mut summary.findings {
            match fuzz::out::write_case(dir, f, vars, f.canary_status, &how) {
                Ok(p) => f.case_file = Some(p.display().to_string()),
                Err(e) => {
                    eprintln!("h1spec: cannot write a case file in {}: {e}", dir.display());
                    return Err(ExitCode::from(super::USAGE));
                }
            }
        }
    }
    Ok(())
}

fn human(s: &Summary, targets: &[FuzzTarget]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let names: Vec<String> = targets
        .iter()
        .map(|t| format!("{} ({})", t.name, t.addr))
        .collect();
    let _ = writeln!(
        out,
        "h1spec fuzz: {} inputs to {} in {:.1} s ({:.0} inputs/s, {} exchanges), seed {}",
        s.inputs,
        names.join(", "),
        s.seconds,
        s.inputs as f64 / s.seconds.max(0.001),
        s.exchanges,
        s.seed
    );
    for n in &s.notes {
        let _ = writeln!(out, "note: {n}");
    }
    if let Some(why) = &s.stopped {
        let _ = writeln!(out, "stopped early: {why}");
    }
    if !s.lenient.is_empty() {
        let l: Vec<String> = s.lenient.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        let _ = writeln!(
            out,
            "lenient (read on, coherently, past a message RFC 9112 rejects; not findings): {}",
            l.join(", ")
        );
    }
    if s.findings.is_empty() {
        let _ = writeln!(out, "no findings");
        return out;
    }
    let classes: Vec<String> = s.by_class.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let _ = writeln!(
        out,
        "{} finding(s): {} ({} repeat(s) of known ones not shown)\n",
        s.findings.len(),
        classes.join(", "),
        s.duplicates
    );
    for f in &s.findings {
        let _ = writeln!(out, "{}  [{}]", f.signature, f.targets.join(" vs "));
        let _ = writeln!(out, "  {}", f.detail);
        let _ = writeln!(
            out,
            "  input {} ({} bytes, shrunk to {}): '{}' + canary",
            f.iteration, f.original_len, f.shrunk_len, f.bytes
        );
        for w in &f.observed {
            let _ = writeln!(out, "  observed: {w}");
        }
        let variants: Vec<String> = f
            .variants
            .iter()
            .map(|(s, n)| format!("{s} ×{n}"))
            .collect();
        let _ = writeln!(
            out,
            "  {} input(s) hit it{}; {}",
            f.hits,
            if variants.is_empty() {
                String::new()
            } else {
                format!(" (also as {})", variants.join(", "))
            },
            f.confirmed
        );
        let _ = writeln!(out, "  reproduce: {}", f.reproducer);
        if let Some(p) = &f.case_file {
            let _ = writeln!(out, "  case file: {p}");
        }
        out.push('\n');
    }
    out
}
