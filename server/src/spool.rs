//! A CGI request body on its way to the script: the first
//! [`MEMORY_LIMIT`] bytes in memory, the rest spilled to an unlinked
//! temporary file (as nginx does past `client_body_buffer_size`), so a
//! stalled client costs a small constant, never its body's size. The file
//! becomes the script's stdin as it is, with no pipe to feed.
//!
//! Spilling fits CGI better than streaming into the stdin pipe: the script
//! needs `CONTENT_LENGTH` before it starts (RFC 3875 §4.1.2), and for a
//! chunked body that is known only at its end.

use std::fs::File;
use std::io::{self, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Bytes kept in memory before spilling: nginx's `client_body_buffer_size`
/// on x86-64 (two pages). Together with the connection's read buffer this
/// is what a stalled CGI client costs, whatever its body's size.
pub(crate) const MEMORY_LIMIT: usize = 8 * 1024;

/// A body being collected.
#[derive(Debug, Default)]
pub(crate) struct Spool {
    mem: Vec<u8>,
    file: Option<File>,
    len: u64,
}

/// A whole body, ready to be the script's stdin.
#[derive(Debug)]
pub(crate) enum Body {
    /// Small: fed through a pipe.
    Memory(Vec<u8>),
    /// Spilled: the file itself is the script's stdin, rewound.
    File(File),
}

impl Spool {
    /// Takes body bytes; spills to a file in the temporary folder (`TMPDIR`,
    /// else `/tmp`) past [`MEMORY_LIMIT`].
    pub(crate) fn push(&mut self, data: &[u8]) -> io::Result<()> {
        self.len += data.len() as u64;
        if let Some(f) = self.file.as_mut() {
            return f.write_all(data);
        }
        let need = self.mem.len() + data.len();
        if need <= MEMORY_LIMIT {
            // Grown by doubling, but never past the limit: a body of
            // 5 KiB must not hold a 10 KiB allocation.
            if need > self.mem.capacity() {
                let cap = (self.mem.capacity() * 2).clamp(need, MEMORY_LIMIT);
                self.mem.reserve_exact(cap - self.mem.len());
            }
            self.mem.extend_from_slice(data);
            return Ok(());
        }
        let mut f = temp_file(&std::env::temp_dir())?;
        f.write_all(&self.mem)?;
        f.write_all(data)?;
        self.mem = Vec::new();
        self.file = Some(f);
        Ok(())
    }

    /// Bytes taken so far.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The whole body.
    pub(crate) fn finish(self) -> io::Result<Body> {
        match self.file {
            Some(mut f) => {
                f.rewind()?;
                Ok(Body::File(f))
            }
            None => Ok(Body::Memory(self.mem)),
        }
    }
}

/// An unlinked file in `dir` (`O_TMPFILE`): it goes away with its last
/// descriptor, whatever happens to the server or the script. Where the
/// file system or kernel has no `O_TMPFILE` (`EOPNOTSUPP`; `EISDIR` before
/// Linux 3.11), a named file created exclusively and unlinked at once.
/// Checks at startup that a CGI body can be spilled to `TMPDIR`: it was
/// found only when the first body over 8 KiB failed with 500.
pub(crate) fn check_temp_dir() -> io::Result<()> {
    use std::io::Write;
    let dir = std::env::temp_dir();
    temp_file(&dir)
        .and_then(|mut f| f.write_all(b"x"))
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "TMPDIR {}: CGI request bodies over 8 KiB are kept there, and no file can be \
                     created in it ({e}); point TMPDIR at a writable folder",
                    dir.display()
                ),
            )
        })
}

fn temp_file(dir: &Path) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
        .open(dir);
    match file {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR)) => {
            unlinked_file(dir)
        }
        other => other,
    }
}

/// The fallback for [`temp_file`]: a new name, opened with `O_EXCL` (so a
/// file someone else made is never used), unlinked before any byte is
/// written.
fn unlinked_file(dir: &Path) -> io::Result<File> {
    let mut open = std::fs::OpenOptions::new();
    open.read(true).write(true).mode(0o600);
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    loop {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!(".h1serve-cgi-body-{}-{n}", std::process::id()));
        let file = open
            .clone()
            .create_new(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path);
        match file {
            Ok(f) => {
                std::fs::remove_file(&path)?;
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn small_bodies_stay_in_memory_large_ones_spill_whole() {
        let mut s = Spool::default();
        s.push(b"hello").unwrap();
        assert!(matches!(s.finish().unwrap(), Body::Memory(ref m) if m == b"hello"));

        // Up to the limit in memory, in an allocation no larger than it.
        let mut s = Spool::default();
        for _ in 0..3 {
            s.push(&[b'y'; 2500]).unwrap();
        }
        s.push(&[b'y'; MEMORY_LIMIT - 7500]).unwrap();
        assert!(s.file.is_none());
        assert_eq!(s.mem.capacity(), MEMORY_LIMIT);

        let mut s = Spool::default();
        let piece: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        for _ in 0..100 {
            s.push(&piece).unwrap();
        }
        assert_eq!(s.len(), 100_000);
        assert!(s.mem.capacity() == 0, "memory handed back after the spill");
        let Body::File(mut f) = s.finish().unwrap() else {
            panic!("100 kB must spill");
        };
        let mut back = Vec::new();
        f.read_to_end(&mut back).unwrap();
        assert_eq!(back, piece.repeat(100));
    }

    #[test]
    fn fallback_file_is_unlinked_at_once() {
        let dir = std::env::temp_dir().join(format!("h1serve-spool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut f = unlinked_file(&dir).unwrap();
        let mut g = unlinked_file(&dir).unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        f.write_all(b"body").unwrap();
        g.write_all(b"other").unwrap();
        f.rewind().unwrap();
        let mut back = String::new();
        f.read_to_string(&mut back).unwrap();
        assert_eq!(back, "body");
        std::fs::remove_dir(&dir).unwrap();
    }
}
