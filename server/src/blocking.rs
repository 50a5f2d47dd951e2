//! A few threads for file work that can block for long (`fsync`, `rename`
//! and the folder's `fsync` when an upload is committed): a worker hands a
//! job over and learns that it ended through an eventfd in its epoll, with
//! the connection's token, so a slow disk never stalls the event loop and
//! the other connections it serves (issue 17 fault 10: with the commit in
//! the loop, a 64 MiB PUT put 100 ms into other clients' GETs).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use crate::sys;

type Job = Box<dyn FnOnce() + Send>;

/// The threads, shared by all workers.
#[derive(Debug)]
pub(crate) struct Pool {
    tx: Mutex<Sender<Job>>,
}

impl Pool {
    /// Starts `threads` threads; they end when the pool is dropped.
    pub(crate) fn new(threads: usize) -> io::Result<Pool> {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx: Arc<Mutex<Receiver<Job>>> = rx.clone();
            std::thread::Builder::new()
                .name(format!("h1serve-io-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })?;
        }
        Ok(Pool { tx: Mutex::new(tx) })
    }

    /// Runs `f` on a pool thread; the result waits in the returned
    /// [`Pending`], whose eventfd is rung when it is there.
    pub(crate) fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<Pending<T>> {
        let pending = Pending {
            bell: Arc::new(sys::eventfd()?),
            slot: Arc::new(Mutex::new(None)),
        };
        let (bell, slot) = (pending.bell.clone(), pending.slot.clone());
        let job: Job = Box::new(move || {
            let r = f();
            if let Ok(mut s) = slot.lock() {
                *s = Some(r);
            }
            let _ = sys::eventfd_ring(bell.as_fd());
        });
        self.tx
            .lock()
            .map_err(|_| io::Error::other("blocking pool poisoned"))?
            .send(job)
            .map_err(|_| io::Error::other("blocking pool stopped"))?;
        Ok(pending)
    }
}

/// A job's result, once it is there.
#[derive(Debug)]
pub(crate) struct Pending<T> {
    bell: Arc<OwnedFd>,
    slot: Arc<Mutex<Option<T>>>,
}

impl<T> Pending<T> {
    /// The eventfd to wait on (readable once the result is there).
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.bell.as_fd()
    }

    /// The result, if the job has ended.
    pub(crate) fn take(&self) -> Option<T> {
        self.slot.lock().ok()?.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn jobs_run_off_the_caller_and_ring_when_done() {
        let pool = Pool::new(2).unwrap();
        let caller = std::thread::current().id();
        let p = pool
            .submit(move || {
                std::thread::sleep(Duration::from_millis(50));
                std::thread::current().id() != caller
            })
            .unwrap();
        assert_eq!(p.take(), None, "not before the job ends");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Some(other_thread) = p.take() {
                assert!(other_thread);
                let mut n = [0u8; 8];
                // The eventfd was rung: it reads 1.
                assert_eq!(sys::read(p.fd(), &mut n).unwrap(), 8);
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the job never ended");
    }
}
