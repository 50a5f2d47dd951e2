//! The access log in combined log format, buffered per worker.
//!
//! Lines are appended to a worker-local buffer and written with one
//! `write(2)` when the buffer passes [`FLUSH_AT`] bytes or a second has
//! passed, so logging costs no syscall per request. The file is opened with
//! `O_APPEND`, so whole buffers from different workers never interleave
//! inside a line.

use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sys;
use crate::writer::push_u64;

/// Buffer size that triggers a write.
const FLUSH_AT: usize = 32 * 1024;
/// Longest time a line waits in the buffer.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// One worker's access-log buffer.
#[derive(Debug)]
pub(crate) struct AccessLog {
    fd: Option<Arc<OwnedFd>>,
    buf: Vec<u8>,
    last_flush: Instant,
}

/// One request as the log sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) time: &'a [u8; 26],
    /// The request line; `None` when the request could not be parsed.
    pub(crate) request: Option<(&'a [u8], &'a [u8], u8)>,
    pub(crate) status: u16,
    pub(crate) bytes: u64,
    pub(crate) referer: Option<&'a [u8]>,
    pub(crate) user_agent: Option<&'a [u8]>,
}

/// Appends `bytes` with `"`, `\` and non-printable bytes escaped as `\xHH`
/// (nginx's escaping), so a field can never break the line format.
fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        } else {
            out.push(b);
        }
    }
}

impl AccessLog {
    pub(crate) fn new(fd: Option<Arc<OwnedFd>>) -> AccessLog {
        AccessLog {
            buf: Vec::with_capacity(if fd.is_some() { FLUSH_AT + 4096 } else { 0 }),
            fd,
            last_flush: Instant::now(),
        }
    }

    /// Whether lines are being recorded.
    pub(crate) fn enabled(&self) -> bool {
        self.fd.is_some()
    }

    /// Records one line (no-op when the log is off).
    pub(crate) fn record(&mut self, e: &Entry<'_>) {
        if self.fd.is_none() {
            return;
        }
        let out = &mut self.buf;
        match e.peer {
            Some(SocketAddr::V4(a)) => {
                for (i, o) in a.ip().octets().iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    push_u64(out, u64::from(*o));
                }
            }
            Some(SocketAddr::V6(a)) => {
                use std::io::Write;
                let _ = write!(out, "{}", a.ip());
            }
            None => out.push(b'-'),
        }
        out.extend_from_slice(b" - - [");
        out.extend_from_slice(e.time);
        out.extend_from_slice(b"] \"");
        match e.request {
            Some((method, target, minor)) => {
                escaped(out, method);
                out.push(b' ');
                escaped(out, target);
                out.extend_from_slice(b" HTTP/1.");
                push_u64(out, u64::from(minor));
            }
            None => out.push(b'-'),
        }
        out.extend_from_slice(b"\" ");
        push_u64(out, u64::from(e.status));
        out.push(b' ');
        push_u64(out, e.bytes);
        for field in [e.referer, e.user_agent] {
            out.extend_from_slice(b" \"");
            match field {
                Some(v) => escaped(out, v),
                None => out.push(b'-'),
            }
            out.push(b'"');
        }
        out.push(b'\n');
        if self.buf.len() >= FLUSH_AT {
            self.flush(Instant::now());
        }
    }

    /// When the next time-based flush is due, if lines are waiting.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        (!self.buf.is_empty()).then(|| self.last_flush + FLUSH_EVERY)
    }

    /// Writes what is buffered. Errors are dropped: a full disk must not
    /// stop the server from answering.
    pub(crate) fn flush(&mut self, now: Instant) {
        self.last_flush = now;
        if let Some(fd) = &self.fd {
            if !self.buf.is_empty() {
                let _ = sys::write_all(fd.as_fd(), &self.buf);
                self.buf.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        let mut v = Vec::new();
        escaped(&mut v, b"a\"b\\c\x01\xff");
        assert_eq!(v, b"a\\x22b\\x5Cc\\x01\\xFF");
    }
}
