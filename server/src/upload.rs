//! Uploads under `--upload-dir`: `PUT` stores a body, `DELETE` removes a
//! file, `GET`/`HEAD` serve it back.
//!
//! A `PUT` is atomic and durable: the body goes to a temporary file in the
//! target's own folder (so the final `rename` never crosses a file system),
//! written as it arrives, then `fsync`, `rename` over the target, `fsync` of
//! the folder. Until the rename nothing is visible under the target name; a
//! client that goes away, a body over `--max-body` or a failed write drops
//! the [`Upload`], which unlinks its temporary file. Temporary files a killed
//! server left behind are removed at startup ([`open_root`]).
//!
//! Paths follow the static-file rules: [`files::normalize`] refuses `..`
//! above the folder, and the parent folder is opened with
//! `openat2(RESOLVE_BENEATH)`, so nothing escapes. The final component is
//! created with `O_EXCL|O_NOFOLLOW` and replaced with `renameat`, which
//! replaces a symlink itself, never what it points to.
//!
//! File data is written synchronously in the worker: a write to a regular
//! file does not wait on the network, only on the disk.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::files;
use crate::preconditions::{self, Current, Outcome, Preconditions, IF_MATCH, IF_NONE_MATCH};
use crate::sys::{self, FileStat};

/// Names of temporary files start with this; requests may not name them.
pub(crate) const TEMP_PREFIX: &str = ".h1serve-tmp-";

/// How deep the startup sweep for stale temporary files looks.
const SWEEP_DEPTH: usize = 32;

/// Makes temporary names unique within this process (the pid makes them
/// unique between processes).
static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Opens the upload folder and removes temporary files a killed server left.
pub(crate) fn open_root(dir: &Path) -> io::Result<OwnedFd> {
    let fd = sys::open_dir(&sys::cstring(dir)?)?;
    sweep(dir, SWEEP_DEPTH);
    Ok(fd)
}

/// Removes `TEMP_PREFIX*` files under `dir` (symlinks are not followed)
/// that no process is writing: an upload holds an exclusive `flock` on its
/// temporary file until it ends, and a killed server's locks are gone, so a
/// file whose lock can be taken is stale. Another live server's (sharing the
/// folder) are kept.
fn sweep(dir: &Path, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name();
        if ft.is_dir() && depth > 0 {
            sweep(&e.path(), depth - 1);
        } else if ft.is_file() && name.to_string_lossy().starts_with(TEMP_PREFIX) {
            let Ok(f) = std::fs::File::open(e.path()) else {
                continue;
            };
            if sys::try_lock_exclusive(f.as_fd()).unwrap_or(false) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// A target resolved beneath the upload folder: its parent folder, open,
/// the final name in it, and the whole normalized path (where `--root`
/// would serve it from).
struct Place {
    dir: OwnedFd,
    name: CString,
    rel: CString,
}

/// Resolves `path` (the request-target's path, undecoded). `missing` is the
/// status when the parent folder does not exist (409 for `PUT`: RFC 9110
/// §9.3.4 leaves it to the server; WebDAV uses 409; 404 for `DELETE`).
fn place(root: BorrowedFd<'_>, path: &[u8], fallback: bool, missing: u16) -> Result<Place, u16> {
    let mut rel = Vec::with_capacity(path.len() + 1);
    let norm = files::normalize(path, &mut rel).map_err(|_| 400u16)?;
    rel.pop(); // the NUL
    if rel.is_empty() || norm.trailing_slash {
        // A folder: nothing to store or remove there.
        return Err(405);
    }
    let (parent, name) = match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => (&b""[..], &rel[..]),
    };
    if name.starts_with(TEMP_PREFIX.as_bytes()) {
        return Err(403);
    }
    let name = CString::new(name).map_err(|_| 400u16)?;
    let parent = CString::new(parent).map_err(|_| 400u16)?;
    let dir = files::open_beneath(root, &parent, fallback).map_err(|e| io_status(&e, missing))?;
    let rel = CString::new(rel).map_err(|_| 400u16)?;
    match sys::fstat(dir.as_fd()) {
        Ok(st) if st.is_dir => Ok(Place { dir, name, rel }),
        Ok(_) => Err(missing),
        Err(_) => Err(500),
    }
}

/// Body bytes gathered before one `write(2)`: a chunked body of 1-byte
/// chunks must not cost one system call per byte (issue 17: 8 MiB of them
/// took 2.76 s of CPU). Pieces this large or larger go straight to the file.
const WRITE_AT: usize = 16 * 1024;

/// A `PUT`'s preconditions, kept for its commit (the request's head is
/// gone by then); the entity-tag lists with every field line joined.
#[derive(Debug, Default)]
struct Kept {
    if_match: Option<Vec<u8>>,
    if_none_match: Option<Vec<u8>>,
    if_unmodified_since: Option<Vec<u8>>,
}

impl Kept {
    fn of(p: &Preconditions<'_>) -> Kept {
        Kept {
            if_match: p.if_match.map(|l| preconditions::joined(l, IF_MATCH)),
            if_none_match: p
                .if_none_match
                .map(|l| preconditions::joined(l, IF_NONE_MATCH)),
            if_unmodified_since: p.if_unmodified_since.map(<[u8]>::to_vec),
        }
    }

    fn get(&self) -> Preconditions<'_> {
        Preconditions {
            if_match: self.if_match.as_deref(),
            if_none_match: self.if_none_match.as_deref(),
            if_modified_since: None,
            if_unmodified_since: self.if_unmodified_since.as_deref(),
        }
    }
}

/// What preconditions are compared with: the upload at `name` in `dir`,
/// else the file `--root` serves at `rel` (an upload there would shadow
/// it, so it is the current representation, RFC 9110 §13.1.2).
#[derive(Clone, Copy)]
struct Target<'a> {
    dir: BorrowedFd<'a>,
    name: &'a CStr,
    root: Option<BorrowedFd<'a>>,
    rel: &'a CStr,
    fallback: bool,
}

/// A regular file `--root` serves at `rel`.
fn root_file(root: BorrowedFd<'_>, rel: &CStr, fallback: bool) -> Option<FileStat> {
    let fd = files::open_beneath(root, rel, fallback).ok()?;
    let st = sys::fstat(fd.as_fd()).ok()?;
    st.is_file.then_some(st)
}

/// A `PUT` in progress: the body goes into `tmp` beside the target.
#[derive(Debug)]
pub(crate) struct Upload {
    dir: OwnedFd,
    name: CString,
    tmp: CString,
    /// The preconditions, evaluated again at commit time.
    kept: Kept,
    /// `--root` (when there are preconditions) and the target's path in it.
    root: Option<OwnedFd>,
    rel: CString,
    fallback: bool,
    file: OwnedFd,
    /// Small pieces of body not yet written (at most `WRITE_AT` bytes and one piece).
    pending: Vec<u8>,
    /// `write(2)` calls made (data written, not counting retries inside one call).
    writes: u64,
    /// Renamed into place: the temporary name no longer exists.
    committed: bool,
}

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Place").field("name", &self.name).finish()
    }
}

/// A filesystem error as the status of an upload request (its place, its
/// temporary file, its data): [`files::io_status`] for writing.
fn io_status(e: &io::Error, missing: u16) -> u16 {
    files::io_status(e, files::Access::Write, missing)
}

/// The preconditions of a `PUT` or `DELETE` against what is stored at the
/// target now (RFC 9110 §13.2.2): 412 when they fail. Also 409 for a folder
/// (RFC 9110 §15.5.10: it cannot be replaced or removed as a file).
/// Returns whether a file is there in the upload folder.
fn check_current(t: &Target<'_>, pre: &Preconditions<'_>) -> Result<bool, u16> {
    let st = sys::stat_at(t.dir, t.name).map_err(|e| io_status(&e, 404))?;
    if st.is_some_and(|st| st.is_dir) {
        return Err(409);
    }
    let here = st.is_some();
    if pre.is_empty() {
        return Ok(here);
    }
    let st = st.or_else(|| root_file(t.root?, t.rel, t.fallback));
    let mut tag = [0u8; 48];
    let current = st.map(|st| {
        let n = files::etag(&st, &mut tag);
        (n, st.mtime)
    });
    let current = current.map(|(n, mtime)| Current {
        etag: &tag[..n],
        mtime,
    });
    match preconditions::evaluate(pre, current, false, crate::date::unix_now()) {
        Outcome::Failed | Outcome::NotModified => Err(412),
        Outcome::Proceed => Ok(here),
    }
}

/// Checks a `PUT` target and its preconditions and creates its temporary
/// file, before any body byte is read (so `Expect: 100-continue` gets a
/// final status instead).
pub(crate) fn begin_put(
    root: BorrowedFd<'_>,
    path: &[u8],
    fallback: bool,
    pre: &Preconditions<'_>,
    static_root: Option<BorrowedFd<'_>>,
) -> Result<Upload, u16> {
    let Place { dir, name, rel } = place(root, path, fallback, 409)?;
    let target = Target {
        dir: dir.as_fd(),
        name: &name,
        root: static_root,
        rel: &rel,
        fallback,
    };
    check_current(&target, pre)?;
    let static_root = match static_root {
        Some(r) if !pre.is_empty() => Some(r.try_clone_to_owned().map_err(|_| 500u16)?),
        _ => None,
    };
    for _ in 0..8 {
        let seq = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
        let tmp = CString::new(format!("{TEMP_PREFIX}{}-{seq}", std::process::id()))
            .map_err(|_| 500u16)?;
        match sys::create_excl(dir.as_fd(), &tmp) {
            Ok(file) => {
                // Marks the file as in use for a sweep by another server.
                // A sweep may have opened and locked it first (it removes
                // files whose lock it can take, and unlinks before it lets
                // the lock go): then the lock fails, or it succeeds on a
                // file with no name left. Either way it is not ours to use,
                // and the next name is taken.
                if !sys::try_lock_exclusive(file.as_fd()).map_err(|e| io_status(&e, 500))?
                    || sys::fstat(file.as_fd())
                        .map_err(|e| io_status(&e, 500))?
                        .nlink
                        == 0
                {
                    continue;
                }
                return Ok(Upload {
                    dir,
                    name,
                    tmp,
                    kept: Kept::of(pre),
                    root: static_root,
                    rel,
                    fallback,
                    file,
                    pending: Vec::new(),
                    writes: 0,
                    committed: false,
                });
            }
            // Left by an earlier process with the same pid: take the next name.
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => continue,
            Err(e) => return Err(io_status(&e, 500)),
        }
    }
    Err(500)
}

impl Upload {
    /// Appends body bytes to the temporary file: small pieces are gathered
    /// and written `WRITE_AT` bytes at a time.
    pub(crate) fn write(&mut self, data: &[u8]) -> Result<(), u16> {
        if self.pending.is_empty() && data.len() >= WRITE_AT {
            return self.write_out(data);
        }
        self.pending.extend_from_slice(data);
        if self.pending.len() >= WRITE_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what `write` gathered.
    fn flush(&mut self) -> Result<(), u16> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let r = self.write_out(&pending);
        // Keep the allocation for the next pieces.
        self.pending = pending;
        self.pending.clear();
        r
    }

    fn write_out(&mut self, data: &[u8]) -> Result<(), u16> {
        self.writes += 1;
        sys::write_all(self.file.as_fd(), data).map_err(|e| io_status(&e, 500))
    }

    /// Makes the upload durable and visible: `fsync`, then under the
    /// folder's lock the preconditions again and the `rename`, then `fsync`
    /// of the folder. Returns 201 (created) or 204 (replaced).
    pub(crate) fn commit(mut self) -> Result<u16, u16> {
        self.flush()?;
        sys::fsync(self.file.as_fd()).map_err(|_| 500u16)?;
        // Preconditions were checked on the head, before the body; two PUTs
        // with the same `If-Match` (or `If-None-Match: *`) both passed then.
        // Checked again with the rename under an exclusive `flock` on the
        // folder (held by other h1serve processes sharing it too), so the
        // second one fails with 412 instead of overwriting the first
        // (RFC 9110 §13.1.1, §13.1.2). The lock covers a stat and a rename,
        // not the fsyncs.
        sys::lock_exclusive(self.dir.as_fd()).map_err(|_| 500u16)?;
        let placed = self.place_locked();
        let _ = sys::unlock(self.dir.as_fd());
        let existed = placed?;
        // The rename itself is durable only once the folder is synced.
        sys::fsync(self.dir.as_fd()).map_err(|_| 500u16)?;
        Ok(if existed { 204 } else { 201 })
    }

    /// The commit's step under the folder lock: preconditions, then the
    /// rename; a new name is created with no-replace semantics. Returns
    /// whether a file was replaced.
    fn place_locked(&mut self) -> Result<bool, u16> {
        let pre = self.kept.get();
        let target = Target {
            dir: self.dir.as_fd(),
            name: &self.name,
            root: self.root.as_ref().map(|r| r.as_fd()),
            rel: &self.rel,
            fallback: self.fallback,
        };
        let mut existed = check_current(&target, &pre)?;
        if existed {
            sys::rename_in(self.dir.as_fd(), &self.tmp, &self.name).map_err(|_| 500u16)?;
        } else {
            match sys::rename_noreplace(self.dir.as_fd(), &self.tmp, &self.name) {
                Ok(()) => {}
                // Created meanwhile by something that does not take the
                // lock: a conditional PUT fails, a plain one replaces it.
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                    if !pre.is_empty() {
                        return Err(412);
                    }
                    sys::rename_in(self.dir.as_fd(), &self.tmp, &self.name).map_err(|_| 500u16)?;
                    existed = true;
                }
                Err(_) => return Err(500),
            }
        }
        self.committed = true;
        Ok(existed)
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.committed {
            let _ = sys::unlink_in(self.dir.as_fd(), &self.tmp);
        }
    }
}

/// `DELETE`: 204 when removed, 404 when absent, 409 for a folder.
pub(crate) fn delete(
    root: BorrowedFd<'_>,
    path: &[u8],
    fallback: bool,
    pre: &Preconditions<'_>,
    static_root: Option<BorrowedFd<'_>>,
) -> u16 {
    let Place { dir, name, rel } = match place(root, path, fallback, 404) {
        Ok(p) => p,
        Err(403) => return 404,
        Err(s) => return s,
    };
    let target = Target {
        dir: dir.as_fd(),
        name: &name,
        root: static_root,
        rel: &rel,
        fallback,
    };
    match check_current(&target, pre) {
        Ok(false) => return 404,
        Ok(true) => {}
        Err(s) => return s,
    }
    match sys::unlink_in(dir.as_fd(), &name) {
        Ok(()) => {
            let _ = sys::fsync(dir.as_fd());
            204
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => 404,
        Err(_) => 500,
    }
}

/// An uploaded file for `GET`/`HEAD`, opened fresh (no cache: a `PUT` must
/// be visible to the very next request). `None` when there is no such
/// regular file, so the request falls through to `--root`.
pub(crate) fn open_for_get(
    root: BorrowedFd<'_>,
    path: &[u8],
    fallback: bool,
) -> Option<(OwnedFd, FileStat)> {
    let mut rel = Vec::with_capacity(path.len() + 1);
    let norm = files::normalize(path, &mut rel).ok()?;
    if norm.trailing_slash || rel.len() <= 1 {
        return None;
    }
    let name_at = rel.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    if rel[name_at..].starts_with(TEMP_PREFIX.as_bytes()) {
        return None;
    }
    let c = CStr::from_bytes_with_nul(&rel).ok()?;
    let fd = files::open_beneath(root, c, fallback).ok()?;
    let st = sys::fstat(fd.as_fd()).ok()?;
    st.is_file.then_some((fd, st))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 17, fault 7: one write(2) per decoded chunk, so 1-byte chunks cost
    // a system call each. Pieces are now gathered: 64 KiB in 1-byte pieces
    // take 4 writes, and the file holds every byte in order.
    #[test]
    fn small_pieces_are_gathered_into_few_writes() {
        let dir = std::env::temp_dir().join(format!("h1serve-upload-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let root = open_root(&dir).unwrap();
        let pre = Preconditions::default();
        let mut u = begin_put(root.as_fd(), b"/gathered.bin", false, &pre, None).unwrap();
        let body: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
        for b in body.chunks(1) {
            u.write(b).unwrap();
        }
        assert_eq!(u.writes, 4);
        // a large piece after small ones: what was gathered goes first
        u.write(b"x").unwrap();
        u.write(&vec![b'y'; WRITE_AT]).unwrap();
        assert_eq!(u.writes, 5);
        assert_eq!(u.commit(), Ok(201));
        let mut want = body;
        want.push(b'x');
        want.extend(std::iter::repeat_n(b'y', WRITE_AT));
        assert_eq!(std::fs::read(dir.join("gathered.bin")).unwrap(), want);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    // Another server's startup sweep took a temporary file between its
    // creation and its lock, and removed it: the upload then failed with
    // 500 at the rename (8 of 3,303 PUTs, one instance restarted 300
    // times beside another). Here a thread sweeps in a loop while uploads
    // run: none may fail.
    #[test]
    fn sweep_beside_new_uploads_fails_none() {
        let dir = std::env::temp_dir().join(format!("h1serve-sweep-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = open_root(&dir).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sweeper = {
            let (dir, stop) = (dir.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    sweep(&dir, 0);
                }
            })
        };
        let pre = Preconditions::default();
        let mut failed = Vec::new();
        for i in 0..2000 {
            let r = match begin_put(root.as_fd(), b"/raced.bin", false, &pre, None) {
                Err(s) => Err(("begin", s)),
                Ok(mut u) => match u.write(b"data") {
                    Err(s) => Err(("write", s)),
                    Ok(()) => u.commit().map_err(|s| ("commit", s)),
                },
            };
            if let Err(s) = r {
                failed.push((i, s));
            }
        }
        stop.store(true, Ordering::Relaxed);
        sweeper.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(failed, Vec::new(), "uploads that failed beside a sweep");
    }

    #[test]
    fn one_errno_map() {
        let st = |n| io_status(&io::Error::from_raw_os_error(n), 404);
        assert_eq!(st(libc::ENOSPC), 507);
        assert_eq!(st(libc::EDQUOT), 507);
        assert_eq!(st(libc::EFBIG), 413);
        assert_eq!(st(libc::ENAMETOOLONG), 414);
        assert_eq!(st(libc::ENOENT), 404);
        assert_eq!(st(libc::EROFS), 403);
        assert_eq!(st(libc::EIO), 500);
    }
}
