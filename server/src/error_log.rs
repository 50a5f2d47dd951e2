//! The error log (h1serve's stderr) for what CGI scripts write to theirs.
//!
//! A worker must never wait on it: when h1serve's stderr is a pipe nobody
//! reads, a blocking copy froze the whole worker (issue 17: ≥16 s, with
//! `--cgi-timeout` never firing). So workers hand bytes to a bounded queue
//! and one thread of its own writes them out; a full queue, or a script over
//! its share, drops bytes, and `/stats` counts them.

use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Mutex, OnceLock};

/// Bytes of one script's stderr that are copied; the rest is read (so the
/// script never blocks on it) and dropped. `yes >&2` wrote 146 MiB in 3.5 s.
pub(crate) const PER_SCRIPT: u64 = 64 * 1024;

/// Bytes waiting for the writer thread, at most.
const QUEUE_BYTES: usize = 1 << 20;

static DROPPED: AtomicU64 = AtomicU64::new(0);
static QUEUED: AtomicUsize = AtomicUsize::new(0);
static WRITER: OnceLock<Mutex<SyncSender<Vec<u8>>>> = OnceLock::new();

/// Queues `data` for the error log without blocking; `false` (and the bytes
/// counted as dropped) when the queue is full.
pub(crate) fn submit(data: &[u8]) -> bool {
    if data.is_empty() {
        return true;
    }
    let len = data.len();
    if QUEUED.fetch_add(len, Ordering::AcqRel) + len > QUEUE_BYTES {
        QUEUED.fetch_sub(len, Ordering::AcqRel);
        drop_bytes(len as u64);
        return false;
    }
    let writer = WRITER.get_or_init(|| {
        let (tx, rx) = sync_channel::<Vec<u8>>(1024);
        let started = std::thread::Builder::new()
            .name("h1serve-errlog".into())
            .spawn(move || {
                let mut err = std::io::stderr();
                for msg in rx {
                    // Blocking here is the point: only this thread waits.
                    let _ = err.write_all(&msg);
                    QUEUED.fetch_sub(msg.len(), Ordering::AcqRel);
                }
            });
        if started.is_err() {
            // No thread: every later message is dropped (and counted).
            let (tx, _) = sync_channel(0);
            return Mutex::new(tx);
        }
        Mutex::new(tx)
    });
    let sent = writer
        .lock()
        .map(|tx| tx.try_send(data.to_vec()).is_ok())
        .unwrap_or(false);
    if !sent {
        QUEUED.fetch_sub(len, Ordering::AcqRel);
        drop_bytes(len as u64);
    }
    sent
}

/// Waits at most `within` for the queued lines to be written (before the
/// process exits): a stderr nobody reads costs at most that long.
/// Gives up sooner when the writer makes no progress for 100 ms (a full
/// pipe nobody reads).
pub fn flush(within: std::time::Duration) {
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + within;
    let stalled = Duration::from_millis(100);
    let (mut last, mut give_up) = (QUEUED.load(Ordering::Acquire), Instant::now() + stalled);
    while last > 0 && Instant::now() < deadline.min(give_up) {
        std::thread::sleep(Duration::from_millis(2));
        let now = QUEUED.load(Ordering::Acquire);
        if now != last {
            (last, give_up) = (now, Instant::now() + stalled);
        }
    }
}

/// Counts bytes that were not logged.
pub(crate) fn drop_bytes(n: u64) {
    DROPPED.fetch_add(n, Ordering::Relaxed);
}

/// Bytes of script stderr dropped so far (`/stats`).
pub(crate) fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Writes `h1serve: {msg}` and a newline to the error log (stderr) without
/// ever waiting on it: through the bounded queue, dropped when it is full.
pub fn line(msg: std::fmt::Arguments<'_>) {
    let mut buf = Vec::with_capacity(64);
    let _ = writeln!(buf, "h1serve: {msg}");
    submit(&buf);
}
