//! A CGI request body on its way to the script: the first
//! [`MEMORY_LIMIT`] bytes in memory, the rest spilled to an unlinked
//! temporary file (as nginx does past `client_body_buffer_size`, 16 KiB),
//! so a stalled client costs a small constant, never its body's size. The
//! file becomes the script's stdin as it is, with no pipe to feed.

use std::fs::File;
use std::io::{self, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Bytes kept in memory before spilling.
pub(crate) const MEMORY_LIMIT: usize = 16 * 1024;

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
        if self.mem.len() + data.len() <= MEMORY_LIMIT {
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
/// descriptor, whatever happens to the server or the script.
fn temp_file(dir: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
        .mode(0o600)
        .open(dir)
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
}
