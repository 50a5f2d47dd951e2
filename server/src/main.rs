//! `h1serve`: serve a folder over HTTP/1.1 (or the built-in page with no arguments).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use h1serve::{parse_bytes, parse_duration, parse_listen, AccessLog, Config, Server, Signal};

/// An epoll HTTP/1.1 static file server. With no arguments it serves a
/// built-in page on 127.0.0.1:8080. SIGTERM, SIGINT or SIGQUIT stops it
/// gracefully: it stops accepting, finishes in-flight responses, closes idle
/// connections and exits. SIGUSR1 or SIGHUP reopens the access and error
/// log files (for logrotate); nothing else is reloaded. Durations take
/// `ms`, `s` or `m` (a bare number is seconds). Counters are at /stats
/// (JSON) and /metrics (Prometheus).
#[derive(Debug, Parser)]
#[command(name = "h1serve", version)]
struct Cli {
    /// Address to listen on (each worker binds it with SO_REUSEPORT):
    /// ADDR:PORT, HOST:PORT (resolved at startup) or a bare PORT (all IPv4
    /// addresses).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_listen, value_name = "ADDR:PORT")]
    listen: SocketAddr,

    /// Folder to serve. Without it, a built-in default site is served.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,

    /// Worker threads, each with its own epoll and listener [default: one per core].
    #[arg(long, value_name = "N")]
    workers: Option<usize>,

    /// listen(2) backlog.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    backlog: i32,

    /// Connections open at once (all workers); one more is answered 503 and closed.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    max_connections: usize,

    /// Largest request body in bytes; larger is answered 413 (before reading
    /// it when Content-Length says so) and the connection closed.
    #[arg(long, default_value = "1m", value_parser = parse_bytes, value_name = "BYTES")]
    max_body: u64,

    /// Largest request head (request line and fields) in bytes; larger is answered 431.
    #[arg(long, default_value_t = 16 * 1024, value_name = "BYTES")]
    max_head: u32,

    /// Longest request-target in bytes; longer is answered 414.
    #[arg(long, default_value_t = 8 * 1024, value_name = "BYTES")]
    max_uri: u32,

    /// Most header fields per request; more is answered 431.
    #[arg(long, default_value_t = 64, value_name = "N")]
    max_headers: usize,

    /// Time allowed from a request's first byte (or from accept) to the end
    /// of its head; then 408 and close. Slow clients cannot hold a worker.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    header_timeout: Duration,

    /// How long an idle keep-alive connection is kept; then it is closed.
    #[arg(long, default_value = "75s", value_parser = parse_duration, value_name = "DURATION")]
    keepalive_timeout: Duration,

    /// A request body must bring 1 KiB within this time (and each further KiB within it again); else 408 and close.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    body_timeout: Duration,

    /// Slowest average rate (bytes per second, `k` and `m` suffixes taken)
    /// a request body may arrive at once its first --body-timeout is over;
    /// slower is 408 and close. 0 turns it off.
    #[arg(long, default_value = "512", value_parser = parse_bytes, value_name = "BYTES")]
    body_min_rate: u64,

    /// Longest time a client may take no response bytes; then the connection is closed.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    write_timeout: Duration,

    /// After a closing response (errors, Connection: close), how long input
    /// is read and discarded so the client sees the response, not a reset.
    #[arg(long, default_value = "2s", value_parser = parse_duration, value_name = "DURATION")]
    linger_timeout: Duration,

    /// On SIGTERM/SIGINT, how long in-flight responses may take before exit.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    shutdown_timeout: Duration,

    /// Access log in combined log format: a file path, or `-` for stdout. Off by default.
    #[arg(long, value_name = "PATH|-")]
    access_log: Option<PathBuf>,

    /// Error log file (appended to); without it, errors go to stderr.
    /// SIGUSR1 and SIGHUP reopen it, and the access log file.
    #[arg(long, value_name = "PATH")]
    error_log: Option<PathBuf>,

    /// Open-file cache entries per worker (descriptor, stat, and content of
    /// files up to 32 KiB); 0 turns it off.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    file_cache: usize,

    /// How long a cached file is trusted before it is checked for changes.
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
    file_cache_valid: Duration,

    /// Resolve paths with the portable walk (O_NOFOLLOW per component, no
    /// symlinks at all) even where openat2(RESOLVE_BENEATH) exists.
    #[arg(long)]
    resolve_fallback: bool,

    /// Enable uploads: PUT /path stores the body at DIR/path (atomically:
    /// temp file, fsync, rename, fsync of the folder), DELETE /path removes
    /// it, GET/HEAD serve it back (before --root). Off by default.
    #[arg(long, value_name = "DIR")]
    upload_dir: Option<PathBuf>,

    /// Run CGI/1.1 scripts (RFC 3875) from DIR, mounted at /cgi-bin/.
    /// Off by default.
    #[arg(long, value_name = "DIR")]
    cgi_dir: Option<PathBuf>,

    /// Longest a CGI script may run; then it is killed (504 if no response
    /// byte was sent yet, else the connection is closed).
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    cgi_timeout: Duration,

    /// Most bytes a CGI script may write to stdout; then it is killed (502
    /// if no response byte was sent yet, else the connection is closed).
    #[arg(long, default_value = "64m", value_parser = parse_bytes, value_name = "BYTES")]
    cgi_max_output: u64,

    /// Most CGI scripts running at once; over it, 503 with Retry-After and
    /// no fork [default: 32 per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    cgi_max_procs: Option<u64>,
}

impl Cli {
    fn into_config(self) -> Config {
        let d = Config::default();
        Config {
            listen: self.listen,
            root: self.root,
            workers: self.workers.unwrap_or(d.workers),
            backlog: self.backlog,
            max_connections: self.max_connections,
            max_body: self.max_body,
            max_head: self.max_head,
            max_uri: self.max_uri,
            max_headers: self.max_headers,
            header_timeout: self.header_timeout,
            keepalive_timeout: self.keepalive_timeout,
            body_timeout: self.body_timeout,
            body_min_rate: self.body_min_rate,
            write_timeout: self.write_timeout,
            linger_timeout: self.linger_timeout,
            shutdown_timeout: self.shutdown_timeout,
            access_log: match self.access_log {
                None => AccessLog::Off,
                Some(p) if p.as_os_str() == "-" => AccessLog::Stdout,
                Some(p) => AccessLog::File(p),
            },
            error_log: self.error_log,
            file_cache: self.file_cache,
            file_cache_valid: self.file_cache_valid,
            resolve_fallback: self.resolve_fallback,
            upload_dir: self.upload_dir,
            cgi_dir: self.cgi_dir,
            cgi_timeout: self.cgi_timeout,
            cgi_max_output: self.cgi_max_output,
            cgi_max_procs: self.cgi_max_procs.map_or(d.cgi_max_procs, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
            commit_delay: d.commit_delay,
        }
    }
}

/// Writes a line to the error log. Never waits on it: a stderr nobody
/// reads (a full pipe) must not hold up startup, a signal or the exit.
fn say(msg: std::fmt::Arguments<'_>) {
    h1serve::log_line(msg);
}

/// How long queued error-log lines may take to be written at exit.
const EXIT_FLUSH: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    let code = run();
    h1serve::flush_error_log(EXIT_FLUSH);
    code
}

fn run() -> ExitCode {
    let config = Cli::parse().into_config();
    // A panic message (a connection's bug; the connection is closed) goes
    // through the error log's queue too, never a blocking write.
    std::panic::set_hook(Box::new(|info| say(format_args!("{info}"))));
    // Block the signals before any worker exists, so every thread inherits
    // the mask and only `wait_for_signal` takes them.
    if let Err(e) = h1serve::block_signals() {
        say(format_args!("{e}"));
        return ExitCode::FAILURE;
    }
    let site = match &config.root {
        Some(r) => r.display().to_string(),
        None => "the built-in site".to_string(),
    };
    let workers = config.workers;
    let server = match Server::bind(config) {
        Ok(s) => s,
        Err(e) => {
            say(format_args!("{e}"));
            return ExitCode::FAILURE;
        }
    };
    // Tests and scripts read this line to learn the port.
    say(format_args!(
        "listening on http://{} ({workers} workers), serving {site}",
        server.local_addr()
    ));
    loop {
        match h1serve::wait_for_signal() {
            Ok(Signal::ReopenLogs(sig)) => match server.reopen_logs() {
                Ok(()) => say(format_args!("signal {sig}, logs reopened")),
                Err(e) => say(format_args!("signal {sig}, reopening the logs: {e}")),
            },
            Ok(Signal::Stop(sig)) => {
                say(format_args!("signal {sig}, shutting down"));
                break;
            }
            Err(e) => {
                say(format_args!("waiting for signals: {e}"));
                break;
            }
        }
    }
    server.shutdown();
    ExitCode::SUCCESS
}
