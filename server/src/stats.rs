//! Per-worker counters, summed when `/stats` or `/metrics` is read.
//!
//! Each [`WorkerStats`] has exactly one writer (its worker), so updates are a
//! relaxed load and store, not a locked read-modify-write, and no cache line
//! is shared between workers on the hot path. Readers sum all workers.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// The statuses counted one by one; anything else lands in "other". 200
/// comes first: the lookup is a scan, and most responses are 200.
pub(crate) const STATUSES: [u16; 26] = [
    200, 201, 204, 206, 301, 304, 400, 403, 404, 405, 408, 409, 412, 413, 414, 416, 417, 431, 500,
    501, 502, 503, 504, 505, 507, 0,
];

/// `STATUS_INDEX[status]` is the status's place in [`STATUSES`] (the last
/// one, "other", for the rest): one load per response, however many
/// statuses are counted.
const STATUS_INDEX: [u8; 600] = {
    let mut t = [(STATUSES.len() - 1) as u8; 600];
    let mut i = 0;
    while i < STATUSES.len() - 1 {
        t[STATUSES[i] as usize] = i as u8;
        i += 1;
    }
    t
};

fn status_index(status: u16) -> usize {
    match STATUS_INDEX.get(status as usize) {
        Some(&i) => i as usize,
        None => STATUSES.len() - 1,
    }
}

/// What a connection is doing, for nginx's stub_status gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gauge {
    /// Not counted (closed or not yet registered).
    None,
    /// Reading a request head or body.
    Reading,
    /// Writing a response.
    Writing,
    /// Idle keep-alive, waiting for the next request.
    Waiting,
}

/// One worker's counters.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct WorkerStats {
    accepted: AtomicU64,
    handled: AtomicU64,
    requests: AtomicU64,
    active: AtomicU64,
    reading: AtomicU64,
    writing: AtomicU64,
    waiting: AtomicU64,
    status: [AtomicU64; STATUSES.len()],
}

fn bump(c: &AtomicU64, by: u64) {
    // Single writer: a plain load and store is enough and avoids a locked op.
    c.store(c.load(Relaxed).wrapping_add(by), Relaxed);
}

impl WorkerStats {
    pub(crate) fn new() -> WorkerStats {
        WorkerStats {
            accepted: AtomicU64::new(0),
            handled: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            active: AtomicU64::new(0),
            reading: AtomicU64::new(0),
            writing: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            status: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    pub(crate) fn accepted(&self) {
        bump(&self.accepted, 1);
    }

    pub(crate) fn handled(&self) {
        bump(&self.handled, 1);
    }

    pub(crate) fn opened(&self) {
        bump(&self.active, 1);
    }

    pub(crate) fn closed(&self) {
        bump(&self.active, u64::MAX);
    }

    pub(crate) fn response(&self, status: u16, counts_as_request: bool) {
        if counts_as_request {
            bump(&self.requests, 1);
        }
        bump(&self.status[status_index(status)], 1);
    }

    pub(crate) fn gauge(&self, from: Gauge, to: Gauge) {
        if from == to {
            return;
        }
        if let Some(c) = self.gauge_counter(from) {
            bump(c, u64::MAX);
        }
        if let Some(c) = self.gauge_counter(to) {
            bump(c, 1);
        }
    }

    fn gauge_counter(&self, g: Gauge) -> Option<&AtomicU64> {
        match g {
            Gauge::None => None,
            Gauge::Reading => Some(&self.reading),
            Gauge::Writing => Some(&self.writing),
            Gauge::Waiting => Some(&self.waiting),
        }
    }
}

/// A sum over all workers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) active: u64,
    pub(crate) accepted: u64,
    pub(crate) handled: u64,
    pub(crate) requests: u64,
    pub(crate) reading: u64,
    pub(crate) writing: u64,
    pub(crate) waiting: u64,
    pub(crate) status: [u64; STATUSES.len()],
    pub(crate) uptime_secs: u64,
    /// Bytes of CGI stderr not copied to the error log (over a script's
    /// share, or the log's queue full).
    pub(crate) cgi_stderr_dropped: u64,
    /// `--cgi-max-procs` places in use (scripts running).
    pub(crate) cgi_running: u64,
    /// CGI requests whose body is being read (they hold no place yet).
    pub(crate) cgi_spooling: u64,
}

impl Snapshot {
    pub(crate) fn sum(workers: &[std::sync::Arc<WorkerStats>], started: Instant) -> Snapshot {
        let mut s = Snapshot {
            uptime_secs: started.elapsed().as_secs(),
            cgi_stderr_dropped: crate::error_log::dropped(),
            ..Snapshot::default()
        };
        for w in workers {
            s.active = s.active.wrapping_add(w.active.load(Relaxed));
            s.accepted += w.accepted.load(Relaxed);
            s.handled += w.handled.load(Relaxed);
            s.requests += w.requests.load(Relaxed);
            s.reading = s.reading.wrapping_add(w.reading.load(Relaxed));
            s.writing = s.writing.wrapping_add(w.writing.load(Relaxed));
            s.waiting = s.waiting.wrapping_add(w.waiting.load(Relaxed));
            for (t, c) in s.status.iter_mut().zip(&w.status) {
                *t += c.load(Relaxed);
            }
        }
        s
    }

    /// The `/stats` body.
    pub(crate) fn json(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        let _ = write!(
            out,
            "{{\"active\":{},\"accepted\":{},\"handled\":{},\"requests\":{},\
             \"reading\":{},\"writing\":{},\"waiting\":{},\"status\":{{",
            self.active,
            self.accepted,
            self.handled,
            self.requests,
            self.reading,
            self.writing,
            self.waiting
        );
        let mut first = true;
        for (s, n) in STATUSES.iter().zip(&self.status) {
            if *n == 0 {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            if *s == 0 {
                let _ = write!(out, "\"other\":{n}");
            } else {
                let _ = write!(out, "\"{s}\":{n}");
            }
        }
        let _ = writeln!(
            out,
            "}},\"cgi_running\":{},\"cgi_spooling\":{},\"cgi_stderr_dropped\":{},\"uptime\":{}}}",
            self.cgi_running, self.cgi_spooling, self.cgi_stderr_dropped, self.uptime_secs
        );
    }

    /// The `/metrics` body (Prometheus text exposition format 0.0.4).
    pub(crate) fn prometheus(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        let counters = [
            (
                "connections_accepted",
                "Connections accepted.",
                self.accepted,
            ),
            (
                "connections_handled",
                "Connections handled (accepted and not refused with 503).",
                self.handled,
            ),
            ("requests", "Requests answered.", self.requests),
            (
                "cgi_stderr_dropped_bytes",
                "Bytes of CGI stderr not copied to the error log.",
                self.cgi_stderr_dropped,
            ),
        ];
        for (name, help, v) in counters {
            let _ = write!(
                out,
                "# HELP h1serve_{name}_total {help}\n\
                 # TYPE h1serve_{name}_total counter\n\
                 h1serve_{name}_total {v}\n"
            );
        }
        let _ = write!(
            out,
            "# HELP h1serve_connections Open connections by state.\n\
             # TYPE h1serve_connections gauge\n\
             h1serve_connections{{state=\"active\"}} {}\n\
             h1serve_connections{{state=\"reading\"}} {}\n\
             h1serve_connections{{state=\"writing\"}} {}\n\
             h1serve_connections{{state=\"waiting\"}} {}\n",
            self.active, self.reading, self.writing, self.waiting
        );
        let _ = write!(
            out,
            "# HELP h1serve_cgi_scripts CGI scripts running (--cgi-max-procs places in use).\n\
             # TYPE h1serve_cgi_scripts gauge\n\
             h1serve_cgi_scripts {}\n\
             # HELP h1serve_cgi_bodies_spooling CGI request bodies being read.\n\
             # TYPE h1serve_cgi_bodies_spooling gauge\n\
             h1serve_cgi_bodies_spooling {}\n",
            self.cgi_running, self.cgi_spooling
        );
        let _ = write!(
            out,
            "# HELP h1serve_responses_total Responses by status.\n\
             # TYPE h1serve_responses_total counter\n"
        );
        for (s, n) in STATUSES.iter().zip(&self.status) {
            if *s == 0 {
                let _ = writeln!(out, "h1serve_responses_total{{status=\"other\"}} {n}");
            } else {
                let _ = writeln!(out, "h1serve_responses_total{{status=\"{s}\"}} {n}");
            }
        }
        let _ = write!(
            out,
            "# HELP h1serve_uptime_seconds Seconds since the server started.\n\
             # TYPE h1serve_uptime_seconds gauge\n\
             h1serve_uptime_seconds {}\n",
            self.uptime_secs
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counted_status_has_its_place() {
        for (i, &s) in STATUSES.iter().enumerate().take(STATUSES.len() - 1) {
            assert_eq!(status_index(s), i, "{s}");
        }
        let other = STATUSES.len() - 1;
        for s in [0, 100, 202, 299, 418, 599, 600, 999] {
            assert_eq!(status_index(s), other, "{s}");
        }
    }
}
