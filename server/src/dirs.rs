//! The folders of the dynamic routes (uploads, CGI), opened once at
//! startup and shared by every worker, with what goes with them: the
//! `--cgi-max-procs` count and the threads that commit uploads.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::blocking::Pool;
use crate::cgi::{CgiDir, CgiSlot, Spooling};
use crate::config::Config;
use crate::upload;

/// The folders of the dynamic routes, opened once at startup.
#[derive(Debug)]
pub(crate) struct Dirs {
    pub(crate) upload: Option<OwnedFd>,
    pub(crate) cgi: Option<CgiDir>,
    /// CGI scripts running, all workers.
    cgi_running: Arc<AtomicUsize>,
    /// CGI requests whose body is being read, all workers.
    cgi_spooling: Arc<AtomicUsize>,
    /// `--cgi-max-procs`.
    cgi_max: usize,
    /// Threads that commit uploads (fsync, rename) off the event loop.
    pub(crate) io: Option<Pool>,
}

impl Dirs {
    /// Opens `--upload-dir` (sweeping stale temporary files) and `--cgi-dir`.
    pub(crate) fn open(config: &Config) -> io::Result<Dirs> {
        let upload = match &config.upload_dir {
            Some(d) => Some(upload::open_root(d).map_err(|e| {
                io::Error::new(e.kind(), format!("--upload-dir {}: {e}", d.display()))
            })?),
            None => None,
        };
        let cgi = match &config.cgi_dir {
            Some(d) => Some(CgiDir::open(d).map_err(|e| {
                io::Error::new(e.kind(), format!("--cgi-dir {}: {e}", d.display()))
            })?),
            None => None,
        };
        if cgi.is_some() {
            crate::spool::check_temp_dir()?;
        }
        let io = match upload {
            Some(_) => Some(Pool::new(2)?),
            None => None,
        };
        Ok(Dirs {
            upload,
            io,
            cgi,
            cgi_running: Arc::new(AtomicUsize::new(0)),
            cgi_spooling: Arc::new(AtomicUsize::new(0)),
            cgi_max: config.cgi_max_procs.max(1),
        })
    }

    /// A place for one more script, if fewer than `--cgi-max-procs` run.
    pub(crate) fn cgi_slot(&self) -> Option<CgiSlot> {
        let before = self.cgi_running.fetch_add(1, Ordering::AcqRel);
        let slot = CgiSlot(self.cgi_running.clone());
        (before < self.cgi_max).then_some(slot)
    }

    /// Counts one more CGI body being read, until the guard is dropped.
    pub(crate) fn spooling(&self) -> Spooling {
        self.cgi_spooling.fetch_add(1, Ordering::AcqRel);
        Spooling(self.cgi_spooling.clone())
    }

    /// Scripts running, and CGI bodies being read (`/stats`). The running
    /// count may briefly include a request refused over the cap.
    pub(crate) fn cgi_counts(&self) -> (usize, usize) {
        let running = self.cgi_running.load(Ordering::Acquire);
        (
            running.min(self.cgi_max),
            self.cgi_spooling.load(Ordering::Acquire),
        )
    }

    /// Whether any dynamic route is on (when not, routing skips the CGI
    /// and upload lookups).
    pub(crate) fn enabled(&self) -> bool {
        self.upload.is_some() || self.cgi.is_some()
    }
}
