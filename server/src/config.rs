//! Server configuration: every limit and timeout, with the reason for its default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where the access log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLog {
    /// No access log (the default: logging costs a write per batch).
    Off,
    /// Standard output.
    Stdout,
    /// Appended to this file.
    File(PathBuf),
}

/// Everything [`crate::Server::bind`] needs. `Config::default()` is what
/// `h1serve` with no arguments runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address every worker's listener binds (with `SO_REUSEPORT`).
    pub listen: SocketAddr,
    /// Document root; `None` serves the built-in default site.
    pub root: Option<PathBuf>,
    /// Worker threads, each with its own epoll and listener.
    pub workers: usize,
    /// `listen(2)` backlog.
    pub backlog: i32,
    /// Connections open at once over all workers; one more is answered 503.
    pub max_connections: usize,
    /// Largest request body accepted (bytes); a larger one is answered 413.
    pub max_body: u64,
    /// Largest request head (bytes); a larger one is answered 431.
    pub max_head: u32,
    /// Longest request-target (bytes); a longer one is answered 414.
    pub max_uri: u32,
    /// Most header fields in a request; more is answered 431.
    pub max_headers: usize,
    /// Time from the first byte of a request head to its end; then 408 and close.
    pub header_timeout: Duration,
    /// Time an idle keep-alive connection is kept; then it is closed silently.
    pub keepalive_timeout: Duration,
    /// Longest pause while a request body arrives; then 408 and close.
    pub body_timeout: Duration,
    /// Slowest average a request body may arrive at (bytes per second)
    /// once its first `body_timeout` of grace is over; slower is 408 and
    /// close. 0 turns it off.
    pub body_min_rate: u64,
    /// Longest pause while the client does not take response bytes; then close.
    pub write_timeout: Duration,
    /// How long a connection is drained after an error response before it is closed.
    pub linger_timeout: Duration,
    /// After shutdown is asked, how long in-flight responses may take.
    pub shutdown_timeout: Duration,
    /// Access log destination.
    pub access_log: AccessLog,
    /// Error log file: when set, stderr is pointed at it (appending) at
    /// startup and again by [`crate::ServerHandle::reopen_logs`].
    pub error_log: Option<PathBuf>,
    /// Open-file cache entries per worker (0 turns the cache off).
    pub file_cache: usize,
    /// How long a cached file is trusted before it is checked again.
    pub file_cache_valid: Duration,
    /// Use the portable component-by-component path walk even when the
    /// kernel has `openat2` (for testing the fallback).
    pub resolve_fallback: bool,
    /// Folder `PUT` stores into and `DELETE` removes from (off when `None`).
    pub upload_dir: Option<PathBuf>,
    /// Folder of CGI/1.1 scripts, mounted at `/cgi-bin/` (off when `None`).
    pub cgi_dir: Option<PathBuf>,
    /// Longest a CGI script may run; then it is killed (504 if nothing was sent).
    pub cgi_timeout: Duration,
    /// Most bytes a CGI script may write to stdout; then it is killed.
    pub cgi_max_output: u64,
    /// Most CGI scripts running at once (all workers together); over it a
    /// request for a script is answered 503 with Retry-After and nothing is
    /// forked.
    pub cgi_max_procs: usize,
    /// Test hook, not a flag: an upload commit waits this long first (as
    /// on a slow disk), so a test can show that it does not hold up the
    /// worker. Zero outside tests.
    #[doc(hidden)]
    pub commit_delay: Duration,
}

/// The default `--body-min-rate`, 512 bytes/s (Apache's mod_reqtimeout
/// asks 500): a 1 MiB body may take 30 s plus 34 min, while 64 bodies at
/// 1 KiB per 20 s (the old rule allowed 1 KiB per 30 s) are 408 within a
/// minute instead of holding their connections and spools for ever.
pub const DEFAULT_BODY_MIN_RATE: u64 = 512;

/// The default `--cgi-max-procs`: 32 per core. Each script is a process
/// with three pipes; a few dozen per core keep a burst of slow scripts from
/// exhausting the process and descriptor tables, while leaving room for
/// scripts that mostly wait.
pub fn default_cgi_max_procs() -> usize {
    32 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            root: None,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            backlog: 1024,
            max_connections: 100_000,
            max_body: 1024 * 1024,
            max_head: 16 * 1024,
            max_uri: 8 * 1024,
            max_headers: 64,
            header_timeout: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(75),
            body_timeout: Duration::from_secs(30),
            body_min_rate: DEFAULT_BODY_MIN_RATE,
            write_timeout: Duration::from_secs(30),
            linger_timeout: Duration::from_secs(2),
            shutdown_timeout: Duration::from_secs(10),
            access_log: AccessLog::Off,
            error_log: None,
            file_cache: 1024,
            file_cache_valid: Duration::from_secs(1),
            resolve_fallback: false,
            upload_dir: None,
            cgi_dir: None,
            cgi_timeout: Duration::from_secs(30),
            cgi_max_output: 64 * 1024 * 1024,
            cgi_max_procs: default_cgi_max_procs(),
            commit_delay: Duration::ZERO,
        }
    }
}

/// A `--listen` value: `ADDR:PORT` (`[::1]:8080` for IPv6), a bare `PORT`
/// (every IPv4 address, as nginx's `listen 8080`), or `HOST:PORT` with a
/// host name resolved once at startup (its first IPv4 address, else its
/// first address).
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let s = s.trim();
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([0, 0, 0, 0], port)));
    }
    let usage = "examples: 8080, 127.0.0.1:8080, localhost:8080, [::1]:8080";
    if s.rsplit_once(':')
        .is_none_or(|(_, p)| p.parse::<u16>().is_err())
    {
        return Err(format!("invalid address {s:?} ({usage})"));
    }
    let addrs: Vec<SocketAddr> = s
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {s:?}: {e}"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{s:?} resolves to no address ({usage})"))
}

/// Parses `250ms`, `10s`, `2m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (examples: 500ms, 10s, 2m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit in {s:?} (use ms, s or m)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// A byte count for the command line: `1048576`, or with a binary suffix
/// `k`, `m`, `g` (KiB, MiB, GiB; upper or lower case), e.g. `64m`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last().map(u8::to_ascii_lowercase) {
        Some(b'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some(b'm') => (&s[..s.len() - 1], 1 << 20),
        Some(b'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("invalid size {s:?} (examples: 1048576, 512k, 64m, 1g)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_bytes("64m"), Ok(64 << 20));
        assert_eq!(parse_bytes("512K"), Ok(512 << 10));
        assert_eq!(parse_bytes("1g"), Ok(1 << 30));
        assert!(parse_bytes("m").is_err());
        assert!(parse_bytes("-1").is_err());
        assert!(parse_bytes("99999999999g").is_err());
    }

    #[test]
    fn listen_addresses() {
        let a = |s: &str| parse_listen(s).map(|a| a.to_string());
        assert_eq!(a("127.0.0.1:8080"), Ok("127.0.0.1:8080".into()));
        assert_eq!(a("[::1]:8080"), Ok("[::1]:8080".into()));
        assert_eq!(a("8080"), Ok("0.0.0.0:8080".into()));
        assert_eq!(a("localhost:8080"), Ok("127.0.0.1:8080".into()));
        assert!(a("localhost").is_err());
        assert!(a("99999").is_err());
        assert!(a("no such host.invalid:80").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("x").is_err());
    }
}
