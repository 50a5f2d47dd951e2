//! Starting and stopping the server: binds one listener per worker, spawns
//! the workers, and hands back a [`ServerHandle`].

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crate::config::{AccessLog, Config};
use crate::ctx::Shared;
use crate::stats::WorkerStats;
use crate::sys;
use crate::worker::Worker;

/// The entry point of the library.
#[derive(Debug)]
pub struct Server;

/// A running server: its address, and the way to stop it.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    /// The access log's descriptor the workers write to (reopened in place).
    access_log: SharedFd,
}

/// A descriptor every worker uses, if configured.
type SharedFd = Option<Arc<OwnedFd>>;

/// Opens `path` for appending and puts it in place of descriptor `fd`
/// (the access log's, or stderr for the error log).
fn reopen(path: &std::path::Path, fd: std::os::fd::RawFd, what: &str) -> io::Result<()> {
    let fresh = sys::open_append(&sys::cstring(path)?)
        .map_err(|e| io::Error::new(e.kind(), format!("{what} {}: {e}", path.display())))?;
    sys::replace_fd(fresh.as_fd(), fd)
}

/// `--root` (opened once, files are opened relative to it) and the access
/// log's descriptor; stderr goes to `--error-log` if given.
fn open_root_and_log(config: &Config) -> io::Result<(SharedFd, SharedFd)> {
    if let Some(path) = &config.error_log {
        reopen(path, 2, "--error-log")?;
    }
    let root = match &config.root {
        Some(dir) => Some(Arc::new(sys::open_dir(&sys::cstring(dir)?).map_err(
            |e| io::Error::new(e.kind(), format!("--root {}: {e}", dir.display())),
        )?)),
        None => None,
    };
    let log_fd = match &config.access_log {
        AccessLog::Off => None,
        AccessLog::Stdout => Some(Arc::new(std::io::stdout().as_fd().try_clone_to_owned()?)),
        AccessLog::File(p) => Some(Arc::new(sys::open_append(&sys::cstring(p)?).map_err(
            |e| io::Error::new(e.kind(), format!("--access-log {}: {e}", p.display())),
        )?)),
    };
    Ok((root, log_fd))
}

impl Server {
    /// Binds every worker's listener and starts the workers. With port 0
    /// the first listener picks a port and the others share it.
    pub fn bind(config: Config) -> io::Result<ServerHandle> {
        sys::ignore_sigpipe()?;
        sys::raise_nofile_limit();
        let workers = config.workers.max(1);
        let (root, log_fd) = open_root_and_log(&config)?;
        // Before anything else touches shared state (the upload folder's
        // sweep): a second server on a port in use refuses to start.
        if config.listen.port() != 0 {
            sys::check_port_free(&config.listen)?;
        }
        let dynamic = crate::dirs::Dirs::open(&config)?;
        let first = sys::listener(&config.listen, config.backlog)?;
        let local_addr = sys::local_addr(first.as_fd())?;
        let mut listeners = vec![first];
        for _ in 1..workers {
            listeners.push(sys::listener(&local_addr, config.backlog)?);
        }
        let stats: Vec<Arc<WorkerStats>> =
            (0..workers).map(|_| Arc::new(WorkerStats::new())).collect();
        let shared = Arc::new(Shared {
            config,
            root,
            stats: stats.clone(),
            started: Instant::now(),
            active: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            bell: sys::eventfd()?,
            dynamic,
        });
        // A worker holds `Rc`s (its file cache), so it is built on its own
        // thread; each reports whether it started.
        let (tx, rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let mut threads = Vec::with_capacity(workers);
        for (i, (listener, stats)) in listeners.into_iter().zip(stats).enumerate() {
            let (shared, log_fd, tx) = (shared.clone(), log_fd.clone(), tx.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("h1serve-w{i}"))
                    .spawn(move || match Worker::new(shared, stats, listener, log_fd) {
                        Ok(w) => {
                            let _ = tx.send(Ok(()));
                            w.run();
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    })?,
            );
        }
        let mut handle = ServerHandle {
            local_addr,
            shared,
            threads,
            access_log: log_fd,
        };
        for _ in 0..workers {
            match rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    handle.stop();
                    return Err(e);
                }
                Err(_) => {
                    handle.stop();
                    return Err(io::Error::other("a worker thread died while starting"));
                }
            }
        }
        Ok(handle)
    }
}

impl ServerHandle {
    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Reopens the access log file and the error log file (what SIGUSR1 and
    /// SIGHUP ask): after logrotate moved them, lines go to new files at
    /// the configured paths. Workers are not told: each log's descriptor
    /// number is made to refer to the new file (`dup3`), atomically.
    pub fn reopen_logs(&self) -> io::Result<()> {
        let config = &self.shared.config;
        if let (AccessLog::File(path), Some(fd)) = (&config.access_log, &self.access_log) {
            reopen(path, fd.as_raw_fd(), "--access-log")?;
        }
        if let Some(path) = &config.error_log {
            reopen(path, 2, "--error-log")?;
        }
        Ok(())
    }

    /// Graceful shutdown: stop accepting, close idle connections, finish
    /// in-flight responses (up to the shutdown timeout), then return.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        let _ = sys::eventfd_ring(self.shared.bell.as_fd());
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// Waits until the workers exit (after [`ServerHandle::shutdown`] from
    /// another thread, or never).
    pub fn join(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.stop();
        }
    }
}
