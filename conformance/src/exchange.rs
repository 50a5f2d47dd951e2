//! One connection to the target: play a script of steps while a reader task
//! records every byte the server sends and how the connection ended.
//!
//! A target that hangs, resets or closes early is recorded, never an error of
//! the runner: only failing to connect at all is.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{sleep, timeout, Instant};

/// One action on the wire, placeholders already filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes.
    Write(Vec<u8>),
    /// Wait.
    Pause(Duration),
    /// Wait; nothing may arrive and the connection must stay open meanwhile.
    Silence(Duration),
    /// Wait until something arrives (or the connection ends), at most this long.
    Await(Duration),
    /// Shut down our sending side (FIN).
    Shutdown,
}

/// How the connection ended, as seen by the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Still open when we stopped waiting.
    Open,
    /// The server sent FIN.
    Closed,
    /// The connection was reset.
    Reset,
}

impl End {
    /// Closed or reset.
    pub fn is_closed(self) -> bool {
        self != End::Open
    }
}

/// Everything one connection showed.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// The bytes we wrote, in order.
    pub sent: Vec<u8>,
    /// The bytes the server sent.
    pub received: Vec<u8>,
    /// How it ended.
    pub end: End,
    /// A write failed (the server had closed or reset); later writes were skipped.
    pub write_failed: bool,
    /// A `Silence` step saw bytes or a close: how many bytes had arrived by then.
    pub silence_broken: Option<usize>,
    /// We half-closed (sent FIN) before the end.
    pub half_closed: bool,
    /// An `Await` step timed out with nothing new: how long it waited.
    pub await_missed: Option<Duration>,
    /// How long the connection had been quiet (nothing written, nothing
    /// received) when the server closed it: a close that comes after the
    /// server's idle timeout is its timer, not its answer to the request.
    pub quiet_before_close: Option<Duration>,
}

impl Transcript {
    /// A transcript of a connection that only sent and received, for tests.
    #[cfg(test)]
    pub(crate) fn plain(sent: &[u8], received: &[u8], end: End) -> Transcript {
        Transcript {
            sent: sent.to_vec(),
            received: received.to_vec(),
            end,
            write_failed: false,
            silence_broken: None,
            half_closed: false,
            await_missed: None,
            quiet_before_close: None,
        }
    }
}

#[derive(Default)]
struct Inbox {
    bytes: Vec<u8>,
    end: Option<End>,
    /// When the last bytes arrived.
    last_byte: Option<Instant>,
    /// When the close (or reset) arrived.
    ended_at: Option<Instant>,
}

/// Limits of one exchange.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Connect timeout, and the longest a single write may stall.
    pub step: Duration,
    /// After the last step: stop when nothing arrived for this long.
    pub idle: Duration,
}

/// When to stop waiting after the last step, besides idling out or a close.
pub type Done<'a> = &'a (dyn Fn(&[u8]) -> bool + Sync);

/// Connects and plays `actions`; returns `Err` only if the connect fails.
pub async fn run(
    addr: &str,
    actions: &[Action],
    timing: Timing,
    done: Option<Done<'_>>,
) -> std::io::Result<Transcript> {
    let stream = match timeout(timing.step, TcpStream::connect(addr)).await {
        Ok(s) => s?,
        Err(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connect timed out",
            ))
        }
    };
    stream.set_nodelay(true)?;
    let (mut rd, mut wr) = stream.into_split();
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let (tick_tx, mut tick_rx) = watch::channel(0u64);
    let reader = {
        let inbox = inbox.clone();
        tokio::spawn(async move {
            let mut chunk = vec![0u8; 16 * 1024];
            let mut n_events = 0u64;
            loop {
                let r = rd.read(&mut chunk).await;
                let mut ib = inbox.lock().expect("inbox lock");
                match r {
                    Ok(0) => ib.end = Some(End::Closed),
                    Ok(n) => {
                        ib.bytes.extend_from_slice(&chunk[..n]);
                        ib.last_byte = Some(Instant::now());
                    }
                    Err(_) => ib.end = Some(End::Reset),
                }
                if ib.end.is_some() {
                    ib.ended_at = Some(Instant::now());
                }
                let ended = ib.end.is_some();
                drop(ib);
                n_events += 1;
                let _ = tick_tx.send(n_events);
                if ended {
                    break;
                }
            }
        })
    };

    let snapshot = |ib: &Arc<Mutex<Inbox>>| {
        let ib = ib.lock().expect("inbox lock");
        (ib.bytes.len(), ib.end)
    };
    let mut sent = Vec::new();
    let mut write_failed = false;
    let mut silence_broken = None;
    let mut half_closed = false;
    let mut await_missed = None;
    let mut last_write = Instant::now();
    for action in actions {
        match action {
            Action::Write(bytes) => {
                if write_failed {
                    continue;
                }
                match timeout(timing.step, wr.write_all(bytes)).await {
                    Ok(Ok(())) => {
                        sent.extend_from_slice(bytes);
                        last_write = Instant::now();
                    }
                    // The server stopped reading or went away: that is the verdict's business.
                    Ok(Err(_)) | Err(_) => write_failed = true,
                }
            }
            Action::Pause(d) => sleep(*d).await,
            Action::Silence(d) => {
                let before = snapshot(&inbox);
                sleep(*d).await;
                let after = snapshot(&inbox);
                if silence_broken.is_none() && (after.0 != before.0 || after.1.is_some()) {
                    silence_broken = Some(after.0);
                }
            }
            Action::Await(d) => {
                let before = snapshot(&inbox);
                let until = Instant::now() + *d;
                loop {
                    tick_rx.mark_unchanged();
                    let now = snapshot(&inbox);
                    if now.0 != before.0 || now.1.is_some() {
                        break;
                    }
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() || timeout(left, tick_rx.changed()).await.is_err() {
                        if await_missed.is_none() {
                            await_missed = Some(*d);
                        }
                        break;
                    }
                }
            }
            Action::Shutdown => {
                half_closed = true;
                if !write_failed && wr.shutdown().await.is_err() {
                    write_failed = true;
                }
            }
        }
    }

    // Wait for the rest: until closed, idle, or `done` says enough.
    let deadline = Instant::now() + timing.idle * 20;
    loop {
        // Forget earlier ticks before looking, so none arriving after the look is lost.
        tick_rx.mark_unchanged();
        {
            let ib = inbox.lock().expect("inbox lock");
            if ib.end.is_some() {
                break;
            }
            if let Some(done) = done {
                if done(&ib.bytes) {
                    break;
                }
            }
        }
        let wait = timing
            .idle
            .min(deadline.saturating_duration_since(Instant::now()));
        match timeout(wait, tick_rx.changed()).await {
            Ok(Ok(())) if Instant::now() < deadline => continue,
            _ => break,
        }
    }
    reader.abort();
    let ib = inbox.lock().expect("inbox lock");
    let quiet_before_close = ib.ended_at.map(|at| {
        let last = ib.last_byte.map_or(last_write, |b| b.max(last_write));
        at.saturating_duration_since(last)
    });
    Ok(Transcript {
        sent,
        received: ib.bytes.clone(),
        end: ib.end.unwrap_or(End::Open),
        write_failed,
        silence_broken,
        half_closed,
        await_missed,
        quiet_before_close,
    })
}
