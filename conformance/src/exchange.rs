//! One connection to the target: play a script of steps while a reader task
//! records every byte the server sends and how the connection ended.
//!
//! A target that hangs, resets or closes early is recorded, never an error of
//! the runner: only failing to connect at all is.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout, Instant};

use crate::transport::{self, Conn};

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
    /// Shut down our sending side (FIN; over TLS, `close_notify` then FIN).
    Shutdown,
}

/// How the connection ended, as seen by the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Still open when we stopped waiting.
    Open,
    /// The server sent FIN (over TLS: `close_notify`, or a FIN without it).
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

/// Connects to `addr` (`HOST:PORT` or `https://HOST:PORT`) and plays
/// `actions`; returns `Err` only if the connect (or the TLS handshake) fails.
pub async fn run(
    addr: &str,
    actions: &[Action],
    timing: Timing,
    done: Option<Done<'_>>,
) -> std::io::Result<Transcript> {
    let stream = connect(addr, timing.step).await?;
    let (rd, wr) = tokio::io::split(stream);
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let (tick_tx, tick_rx) = watch::channel(0u64);
    let reader = spawn_reader(rd, inbox.clone(), tick_tx);
    let mut player = Player {
        wr,
        inbox,
        tick_rx,
        step: timing.step,
        sent: Vec::new(),
        write_failed: false,
        silence_broken: None,
        half_closed: false,
        await_missed: None,
        last_write: Instant::now(),
    };
    for action in actions {
        player.play(action).await;
    }
    player.wait_for_rest(timing.idle, done).await;
    reader.abort();
    Ok(player.transcript())
}

/// Connects within `within` (the TLS handshake included), with Nagle off:
/// each write goes out as the script split it.
async fn connect(addr: &str, within: Duration) -> std::io::Result<Conn> {
    match timeout(within, transport::connect(addr)).await {
        Ok(s) => s,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            if transport::is_tls(addr) {
                // A plain HTTP server may wait for more of what it takes
                // for a request instead of answering the handshake.
                "connect timed out (or the TLS handshake: no TLS on that port?)"
            } else {
                "connect timed out"
            },
        )),
    }
}

/// The reader task: records every byte and how the connection ended in
/// `inbox`, and ticks `tick_tx` on each event so waiters wake.
fn spawn_reader(
    mut rd: ReadHalf<Conn>,
    inbox: Arc<Mutex<Inbox>>,
    tick_tx: watch::Sender<u64>,
) -> JoinHandle<()> {
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
}

/// The writing side of [`run`], and what playing the script showed.
struct Player {
    /// Our half of the connection.
    wr: WriteHalf<Conn>,
    /// What the reader task recorded.
    inbox: Arc<Mutex<Inbox>>,
    /// Ticks on each read event.
    tick_rx: watch::Receiver<u64>,
    /// The longest a single write may stall.
    step: Duration,
    /// The bytes written, in order.
    sent: Vec<u8>,
    /// See [`Transcript::write_failed`].
    write_failed: bool,
    /// See [`Transcript::silence_broken`].
    silence_broken: Option<usize>,
    /// See [`Transcript::half_closed`].
    half_closed: bool,
    /// See [`Transcript::await_missed`].
    await_missed: Option<Duration>,
    /// When the last write finished.
    last_write: Instant,
}

impl Player {
    /// Bytes received so far, and the end if there was one.
    fn snapshot(&self) -> (usize, Option<End>) {
        let ib = self.inbox.lock().expect("inbox lock");
        (ib.bytes.len(), ib.end)
    }

    /// Plays one action.
    async fn play(&mut self, action: &Action) {
        match action {
            Action::Write(bytes) => {
                if self.write_failed {
                    return;
                }
                // Flushed: over TLS, each write is a record of its own, as
                // over TCP each is a segment of its own (Nagle is off).
                let wr = &mut self.wr;
                let write = async move {
                    wr.write_all(bytes).await?;
                    wr.flush().await
                };
                match timeout(self.step, write).await {
                    Ok(Ok(())) => {
                        self.sent.extend_from_slice(bytes);
                        self.last_write = Instant::now();
                    }
                    // The server stopped reading or went away: that is the verdict's business.
                    Ok(Err(_)) | Err(_) => self.write_failed = true,
                }
            }
            Action::Pause(d) => sleep(*d).await,
            Action::Silence(d) => {
                let before = self.snapshot();
                sleep(*d).await;
                let after = self.snapshot();
                if self.silence_broken.is_none() && (after.0 != before.0 || after.1.is_some()) {
                    self.silence_broken = Some(after.0);
                }
            }
            Action::Await(d) => self.await_news(*d).await,
            Action::Shutdown => {
                self.half_closed = true;
                if !self.write_failed && self.wr.shutdown().await.is_err() {
                    self.write_failed = true;
                }
            }
        }
    }

    /// An `Await` step: waits until bytes or the end arrive, at most `d`.
    async fn await_news(&mut self, d: Duration) {
        let before = self.snapshot();
        let until = Instant::now() + d;
        loop {
            self.tick_rx.mark_unchanged();
            let now = self.snapshot();
            if now.0 != before.0 || now.1.is_some() {
                break;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || timeout(left, self.tick_rx.changed()).await.is_err() {
                if self.await_missed.is_none() {
                    self.await_missed = Some(d);
                }
                break;
            }
        }
    }

    /// Waits for the rest: until closed, idle for `idle`, or `done` says
    /// enough (and never past twenty idle periods).
    async fn wait_for_rest(&mut self, idle: Duration, done: Option<Done<'_>>) {
        let deadline = Instant::now() + idle * 20;
        loop {
            // Forget earlier ticks before looking, so none arriving after the look is lost.
            self.tick_rx.mark_unchanged();
            {
                let ib = self.inbox.lock().expect("inbox lock");
                if ib.end.is_some() {
                    break;
                }
                if let Some(done) = done {
                    if done(&ib.bytes) {
                        break;
                    }
                }
            }
            let wait = idle.min(deadline.saturating_duration_since(Instant::now()));
            match timeout(wait, self.tick_rx.changed()).await {
                Ok(Ok(())) if Instant::now() < deadline => continue,
                _ => break,
            }
        }
    }

    /// What the connection showed.
    fn transcript(self) -> Transcript {
        let ib = self.inbox.lock().expect("inbox lock");
        let quiet_before_close = ib.ended_at.map(|at| {
            let last = ib
                .last_byte
                .map_or(self.last_write, |b| b.max(self.last_write));
            at.saturating_duration_since(last)
        });
        Transcript {
            sent: self.sent,
            received: ib.bytes.clone(),
            end: ib.end.unwrap_or(End::Open),
            write_failed: self.write_failed,
            silence_broken: self.silence_broken,
            half_closed: self.half_closed,
            await_missed: self.await_missed,
            quiet_before_close,
        }
    }
}
