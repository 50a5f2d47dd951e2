//! A worker: one thread, one epoll instance, one `SO_REUSEPORT` listener and
//! the connections it accepted. Nothing a worker touches per request is
//! shared with another worker.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::access_log::AccessLog;
use crate::connection::{Connection, Pool};
use crate::ctx::{Ctx, Shared};
use crate::date::DateCache;
use crate::files::FileCache;
use crate::stats::{Gauge, WorkerStats};
use crate::sys::{self, Epoll, EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP};

/// Epoll token of the listener.
const LISTENER: u64 = u64::MAX;
/// Epoll token of the shutdown bell.
const BELL: u64 = u64::MAX - 1;
/// How long accepting pauses after `EMFILE`/`ENFILE`, instead of spinning on
/// a listener that stays readable.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Events taken per `epoll_wait`.
const EVENTS: usize = 1024;
/// Pooled buffer sets kept per worker.
const POOL_KEEP: usize = 256;

/// A wave of this many connections is followed by handing freed memory
/// back to the system once it is over (`sys::release_free_memory`).
const TRIM_AFTER: usize = 4 * POOL_KEEP;

/// A wave is over when no connection closed for this long; then memory is
/// handed back.
const TRIM_QUIET: Duration = Duration::from_millis(250);

/// Memory is handed back at most this long after a wave began to recede,
/// even while connections keep closing.
const TRIM_LATEST: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct Slot {
    gen: u32,
    conn: Option<Connection>,
}

/// One worker thread's state.
#[derive(Debug)]
pub(crate) struct Worker {
    epoll: Epoll,
    listener: Option<OwnedFd>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    open: usize,
    /// Most connections open at once since memory was last handed back.
    peak_open: usize,
    /// Connections closed since memory was last handed back.
    closed_since_trim: usize,
    /// When a receding wave began to be noticed, and when memory is to be
    /// handed back (moved on by every close, up to `TRIM_LATEST`).
    trim: Option<(Instant, Instant)>,
    /// Deadlines by (time, slot, generation); stale entries are skipped.
    timers: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    accept_paused_until: Option<Instant>,
    shutdown_deadline: Option<Instant>,
    /// Busy-time buffers, handed to connections and back.
    pool: Pool,
    /// Connections that yielded with input left (slot, generation): driven
    /// again after this turn's events, before waiting.
    ready: Vec<(u32, u32)>,
    /// The other half of `ready`, swapped in each turn (no allocation).
    ready_next: Vec<(u32, u32)>,
    ctx: Ctx,
}

/// Runs one connection step; a panic (a bug) closes that connection
/// instead of taking the worker and all its other connections down
/// (`dead` is what the step returns then: "close it").
fn guarded<T>(dead: T, step: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).unwrap_or(dead)
}

fn token(slot: u32, gen: u32) -> u64 {
    u64::from(gen) << 32 | u64::from(slot)
}

impl Worker {
    pub(crate) fn new(
        shared: Arc<Shared>,
        stats: Arc<WorkerStats>,
        listener: OwnedFd,
        log_fd: Option<Arc<OwnedFd>>,
    ) -> io::Result<Worker> {
        let epoll = Epoll::new()?;
        epoll.add(listener.as_fd(), EPOLLIN | EPOLLET, LISTENER)?;
        // Level-triggered: every worker sees the bell, nobody drains it.
        epoll.add(shared.bell.as_fd(), EPOLLIN, BELL)?;
        let cfg = &shared.config;
        let pool = Pool::new(cfg.max_head, cfg.max_uri, cfg.max_headers, POOL_KEEP);
        crate::cgi::install_reaper(epoll.try_clone()?);
        let ctx = Ctx {
            date: DateCache::new(),
            files: FileCache::new(cfg.file_cache, cfg.file_cache_valid),
            log: AccessLog::new(log_fd),
            path: Vec::with_capacity(1024),
            scratch: Vec::with_capacity(4096),
            now: Instant::now(),
            shutting_down: false,
            epoll: epoll.try_clone()?,
            stats,
            shared,
        };
        Ok(Worker {
            epoll,
            pool,
            listener: Some(listener),
            slots: Vec::new(),
            free: Vec::new(),
            open: 0,
            peak_open: 0,
            closed_since_trim: 0,
            trim: None,
            timers: BinaryHeap::new(),
            accept_paused_until: None,
            shutdown_deadline: None,
            ready: Vec::new(),
            ready_next: Vec::new(),
            ctx,
        })
    }

    /// The event loop; returns after shutdown once every connection is done.
    pub(crate) fn run(mut self) {
        let mut events: Vec<sys::Event> = Vec::with_capacity(EVENTS);
        loop {
            if self.ctx.shared.shutdown.load(Ordering::Acquire) && !self.ctx.shutting_down {
                self.begin_shutdown();
            }
            if self.ctx.shutting_down
                && (self.open == 0 || self.shutdown_deadline.is_some_and(|d| self.ctx.now >= d))
            {
                break;
            }
            let timeout = if self.ready.is_empty() {
                self.timeout_ms()
            } else {
                0
            };
            if self.epoll.wait(&mut events, timeout).is_err() {
                break;
            }
            self.ctx.now = Instant::now();
            self.ctx.date.refresh();
            for ev in &events {
                let (tok, flags) = (sys::event_token(ev), sys::event_flags(ev));
                match tok {
                    LISTENER => self.accept_all(),
                    BELL => {}
                    crate::cgi::REAPER => crate::cgi::reap_exited(),
                    _ => self.on_event(tok, flags),
                }
            }
            self.run_ready();
            self.expire_timers();
            if self.accept_paused_until.is_some_and(|t| self.ctx.now >= t) {
                self.accept_paused_until = None;
                self.accept_all();
            }
            if self.ctx.log.deadline().is_some_and(|d| self.ctx.now >= d) {
                self.ctx.log.flush(self.ctx.now);
            }
            if self.trim.is_some_and(|(_, at)| self.ctx.now >= at) {
                self.release_memory();
            }
        }
        // Past the grace period: whatever is left is dropped.
        for i in 0..self.slots.len() {
            self.close(i as u32);
        }
        crate::cgi::reap_all();
        self.ctx.log.flush(Instant::now());
    }

    /// Milliseconds until the nearest deadline, rounded up so a timer never
    /// turns into a busy poll; -1 when there is none.
    fn timeout_ms(&self) -> i32 {
        let mut next: Option<Instant> = self.timers.peek().map(|Reverse((t, _, _))| *t);
        for t in [
            self.accept_paused_until,
            self.ctx.log.deadline(),
            self.shutdown_deadline,
        ]
        .into_iter()
        .flatten()
        {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        if let Some((_, t)) = self.trim {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        match next {
            None => -1,
            Some(t) => {
                let now = Instant::now();
                if t <= now {
                    0
                } else {
                    let d = t - now;
                    let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
                    ms.min(i32::MAX as u128) as i32
                }
            }
        }
    }

    /// Accepts until the listener is drained (edge-triggered).
    fn accept_all(&mut self) {
        if self.accept_paused_until.is_some() {
            return;
        }
        loop {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            match sys::accept(listener.as_fd()) {
                Ok((fd, peer)) => self.add(fd, peer),
                Err(e) => match e.raw_os_error() {
                    Some(libc::EAGAIN) => return,
                    // The connection died in the queue: take the next one.
                    Some(libc::EINTR | libc::ECONNABORTED | libc::EPROTO | libc::EPERM) => {}
                    // Out of descriptors or memory (or anything unexpected):
                    // retry after a pause. Edge-triggered, the listener would
                    // not report the waiting connections again, so the timer
                    // must.
                    _ => {
                        self.accept_paused_until = Some(self.ctx.now + ACCEPT_BACKOFF);
                        return;
                    }
                },
            }
        }
    }

    fn add(&mut self, fd: OwnedFd, peer: Option<std::net::SocketAddr>) {
        let shared = &self.ctx.shared;
        let stats = &self.ctx.stats;
        stats.accepted();
        let over = shared.active.fetch_add(1, Ordering::Relaxed) >= shared.config.max_connections;
        if !over {
            stats.handled();
        }
        stats.opened();
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot { gen: 0, conn: None });
                (self.slots.len() - 1) as u32
            }
        };
        let gen = self.slots[slot as usize].gen;
        if self
            .epoll
            .add(
                fd.as_fd(),
                EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                token(slot, gen),
            )
            .is_err()
        {
            self.free.push(slot);
            shared.active.fetch_sub(1, Ordering::Relaxed);
            stats.closed();
            return;
        }
        let mut conn = Connection::new(fd, peer, token(slot, gen));
        self.open += 1;
        self.peak_open = self.peak_open.max(self.open);
        if over {
            conn.refuse(&mut self.ctx, &mut self.pool);
        }
        let alive = guarded(false, || conn.drive(&mut self.ctx, &mut self.pool));
        self.slots[slot as usize].conn = Some(conn);
        if alive {
            self.schedule(slot);
        } else {
            self.close(slot);
        }
    }

    /// Drives the connections that yielded last turn, once each.
    fn run_ready(&mut self) {
        std::mem::swap(&mut self.ready, &mut self.ready_next);
        let mut ready = std::mem::take(&mut self.ready_next);
        for &(slot, gen) in &ready {
            self.drive(slot, gen, 0);
        }
        ready.clear();
        self.ready_next = ready;
    }

    fn on_event(&mut self, tok: u64, flags: u32) {
        self.drive(tok as u32, (tok >> 32) as u32, flags);
    }

    /// Drives the connection in `slot` if it is still generation `gen`
    /// (after an event with `flags`, or 0), then schedules or closes it.
    fn drive(&mut self, slot: u32, gen: u32, flags: u32) {
        let Some(s) = self.slots.get_mut(slot as usize) else {
            return;
        };
        if s.gen != gen {
            return;
        }
        let Some(conn) = s.conn.as_mut() else {
            return;
        };
        if flags & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) != 0 {
            conn.set_readable(flags & (EPOLLRDHUP | EPOLLHUP | EPOLLERR) != 0);
        }
        if guarded(false, || conn.drive(&mut self.ctx, &mut self.pool)) {
            self.schedule(slot);
        } else {
            self.close(slot);
        }
    }

    /// Puts the connection's deadline in the heap unless an earlier or equal
    /// entry is there already (it re-queues itself when it fires early).
    fn schedule(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        let Some(conn) = s.conn.as_mut() else {
            return;
        };
        if conn.yielded() {
            self.ready.push((slot, s.gen));
        }
        if let Some(at) = conn.enqueue() {
            self.timers.push(Reverse((at, slot, s.gen)));
        }
    }

    fn expire_timers(&mut self) {
        let now = self.ctx.now;
        while let Some(Reverse((at, slot, gen))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(s) = self.slots.get_mut(slot as usize) else {
                continue;
            };
            if s.gen != gen {
                continue;
            }
            let Some(conn) = s.conn.as_mut() else {
                continue;
            };
            match guarded(Some(false), || conn.fire(at, &mut self.ctx, &mut self.pool)) {
                None => {}
                Some(true) => self.schedule(slot),
                Some(false) => self.close(slot),
            }
        }
    }

    fn close(&mut self, slot: u32) {
        let Some(s) = self.slots.get_mut(slot as usize) else {
            return;
        };
        let Some(mut conn) = s.conn.take() else {
            return;
        };
        s.gen = s.gen.wrapping_add(1);
        self.free.push(slot);
        self.open -= 1;
        conn.release(&mut self.pool);
        self.ctx.stats.gauge(conn.gauge(), Gauge::None);
        self.ctx.stats.closed();
        self.ctx.shared.active.fetch_sub(1, Ordering::Relaxed);
        // Dropping `conn` closes the socket, which also removes it from epoll.
        drop(conn);
        // After a wave (thousands of connections, e.g. slowloris), most of
        // their buffers went back to the allocator, which keeps them. Once
        // a wave's worth closed and at most half the peak is open, memory
        // is handed back when closes pause: whatever number stays open
        // (it waited for 64 or fewer, so 80 held connections kept 23 MB).
        self.closed_since_trim += 1;
        if self.closed_since_trim >= TRIM_AFTER && self.open * 2 <= self.peak_open {
            let now = self.ctx.now;
            let began = self.trim.map_or(now, |(began, _)| began);
            self.trim = Some((began, (now + TRIM_QUIET).min(began + TRIM_LATEST)));
        }
    }

    /// Hands memory freed by a wave of connections back to the system.
    #[cold]
    #[inline(never)]
    fn release_memory(&mut self) {
        self.trim = None;
        self.closed_since_trim = 0;
        self.peak_open = self.open;
        self.pool.shrink(POOL_KEEP / 8);
        sys::release_free_memory();
    }

    /// Stop accepting, close idle connections, let the others finish.
    fn begin_shutdown(&mut self) {
        self.ctx.shutting_down = true;
        self.shutdown_deadline = Some(self.ctx.now + self.ctx.shared.config.shutdown_timeout);
        if let Some(l) = self.listener.take() {
            let _ = self.epoll.delete(l.as_fd());
        }
        let _ = self.epoll.delete(self.ctx.shared.bell.as_fd());
        for slot in 0..self.slots.len() as u32 {
            let Some(conn) = self.slots[slot as usize].conn.as_mut() else {
                continue;
            };
            if guarded(false, || conn.drive(&mut self.ctx, &mut self.pool)) {
                self.schedule(slot);
            } else {
                self.close(slot);
            }
        }
    }
}
