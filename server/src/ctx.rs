//! What request handling reads and uses besides the connection itself:
//! [`Shared`] (the server's configuration and state every worker reads)
//! and [`Ctx`] (one worker's caches, counters, log and clock). A leaf for
//! the modules that handle requests: they import it, it imports none of
//! them.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Instant;

use crate::access_log::AccessLog;
use crate::config::Config;
use crate::date::DateCache;
use crate::dirs::Dirs;
use crate::files::FileCache;
use crate::stats::WorkerStats;
use crate::sys::Epoll;

/// State every worker can read; nothing here is written per request.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    /// The document root, opened once; files are opened relative to it.
    pub(crate) root: Option<Arc<OwnedFd>>,
    /// One entry per worker, summed by `/stats`.
    pub(crate) stats: Vec<Arc<WorkerStats>>,
    pub(crate) started: Instant,
    /// Open connections over all workers (for `--max-connections`); touched
    /// once per accept and close, never per request.
    pub(crate) active: AtomicUsize,
    pub(crate) shutdown: AtomicBool,
    /// An eventfd in every worker's epoll: rung to wake them for shutdown.
    pub(crate) bell: OwnedFd,
    /// `--upload-dir` and `--cgi-dir`, opened once.
    pub(crate) dynamic: Dirs,
}

/// What request handling needs from the worker, borrowed apart from the
/// connection table.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) stats: Arc<WorkerStats>,
    pub(crate) date: DateCache,
    pub(crate) files: FileCache,
    pub(crate) log: AccessLog,
    /// Reused for normalized paths (no allocation per request).
    pub(crate) path: Vec<u8>,
    /// Reused for generated bodies and header lines.
    pub(crate) scratch: Vec<u8>,
    /// The time at the top of this loop turn.
    pub(crate) now: Instant,
    pub(crate) shutting_down: bool,
    /// The worker's epoll (a second descriptor for it), where CGI pipes go.
    pub(crate) epoll: Epoll,
}

#[cfg(test)]
impl Ctx {
    /// A worker's context for `config`, as `Server::bind` would make it
    /// (for unit tests of the modules that take a `Ctx`).
    pub(crate) fn for_tests(config: Config) -> Ctx {
        let root = config.root.as_ref().map(|d| {
            let fd: OwnedFd = std::fs::File::open(d).unwrap().into();
            Arc::new(fd)
        });
        let shared = Arc::new(Shared {
            dynamic: Dirs::open(&config).unwrap(),
            root,
            stats: Vec::new(),
            started: Instant::now(),
            active: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            bell: crate::sys::eventfd().unwrap(),
            config,
        });
        Ctx {
            date: DateCache::new(),
            files: FileCache::new(4, std::time::Duration::from_secs(1)),
            log: AccessLog::new(None),
            path: Vec::new(),
            scratch: Vec::new(),
            now: Instant::now(),
            shutting_down: false,
            epoll: Epoll::new().unwrap(),
            stats: Arc::new(WorkerStats::new()),
            shared,
        }
    }
}
