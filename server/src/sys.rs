//! The thin layer over Linux syscalls: every `unsafe` block of the crate lives
//! here. Each call goes through [`syscall!`], which turns `-1` into
//! `io::Error::last_os_error()`; every descriptor is an [`OwnedFd`], so it is
//! closed exactly once, when its owner drops it.

use std::ffi::CStr;
use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Calls a libc function and turns a `-1` result into the `errno` error.
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: the callers below pass valid descriptors and pointers to
        // live, correctly sized memory; each call site says why.
        #[allow(unused_unsafe)]
        let res = unsafe { libc::$fn($($arg),*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}

/// Takes ownership of a descriptor a syscall just returned.
fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` was just returned by a successful syscall that creates a
    // descriptor, and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

// ---------------------------------------------------------------- sockets

/// Socket address storage for the `sockaddr` calls.
fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: `sockaddr_storage` is plain old data; all-zero is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: `sockaddr_storage` is larger than and aligned for `sockaddr_in`.
            unsafe { std::ptr::write(std::ptr::addr_of_mut!(storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: `sockaddr_storage` is larger than and aligned for `sockaddr_in6`.
            unsafe { std::ptr::write(std::ptr::addr_of_mut!(storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// Reads a socket address the kernel filled in.
fn from_sockaddr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a `sockaddr_in`.
            let sin: libc::sockaddr_in =
                unsafe { std::ptr::read(std::ptr::addr_of!(*storage).cast()) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a `sockaddr_in6`.
            let sin6: libc::sockaddr_in6 =
                unsafe { std::ptr::read(std::ptr::addr_of!(*storage).cast()) };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

fn setsockopt_int(fd: BorrowedFd<'_>, level: i32, name: i32, value: i32) -> io::Result<()> {
    let ptr = std::ptr::addr_of!(value).cast::<libc::c_void>();
    // `ptr` points at a live i32 and the length says so.
    syscall!(setsockopt(
        fd.as_raw_fd(),
        level,
        name,
        ptr,
        size_of::<i32>() as libc::socklen_t
    ))?;
    Ok(())
}

/// A non-blocking listening TCP socket with `SO_REUSEADDR` and
/// `SO_REUSEPORT`, so every worker can bind its own on the same address and
/// the kernel spreads connections across them.
pub(crate) fn listener(addr: &SocketAddr, backlog: i32) -> io::Result<OwnedFd> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    let fd = owned(syscall!(socket(
        domain,
        libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        0
    ))?);
    setsockopt_int(fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    setsockopt_int(fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    let (storage, len) = sockaddr(addr);
    let ptr = std::ptr::addr_of!(storage).cast::<libc::sockaddr>();
    // `ptr`/`len` describe the initialised address above.
    syscall!(bind(fd.as_raw_fd(), ptr, len))?;
    syscall!(listen(fd.as_raw_fd(), backlog))?;
    Ok(fd)
}

/// The address a socket is bound to (the port, when bound to port 0).
pub(crate) fn local_addr(fd: BorrowedFd<'_>) -> io::Result<SocketAddr> {
    // SAFETY: plain old data; all-zero is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let ptr = std::ptr::addr_of_mut!(storage).cast::<libc::sockaddr>();
    // `ptr`/`len` describe writable storage of the stated size.
    syscall!(getsockname(fd.as_raw_fd(), ptr, &mut len))?;
    from_sockaddr(&storage).ok_or_else(|| io::Error::other("unknown address family"))
}

/// Accepts one connection, non-blocking and close-on-exec from the start,
/// with `TCP_NODELAY` set (responses are written whole, so Nagle only adds
/// latency).
pub(crate) fn accept(listener: BorrowedFd<'_>) -> io::Result<(OwnedFd, Option<SocketAddr>)> {
    // SAFETY: plain old data; all-zero is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let ptr = std::ptr::addr_of_mut!(storage).cast::<libc::sockaddr>();
    // `ptr`/`len` describe writable storage of the stated size.
    let fd = owned(syscall!(accept4(
        listener.as_raw_fd(),
        ptr,
        &mut len,
        libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC
    ))?);
    // Best effort: a peer that already reset makes this fail, and the read
    // that follows will report it properly.
    let _ = setsockopt_int(fd.as_fd(), libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    Ok((fd, from_sockaddr(&storage)))
}

/// `read(2)` into `buf`.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // `buf` is valid for writes of `buf.len()` bytes.
    let n = syscall!(read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()))?;
    Ok(n as usize)
}

/// `send(2)` with `MSG_NOSIGNAL`, plus `MSG_MORE` when a file body follows
/// (so the head and the first file bytes share a segment).
pub(crate) fn send(fd: BorrowedFd<'_>, buf: &[u8], more: bool) -> io::Result<usize> {
    let flags = libc::MSG_NOSIGNAL | if more { libc::MSG_MORE } else { 0 };
    // `buf` is valid for reads of `buf.len()` bytes.
    let n = syscall!(send(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), flags))?;
    Ok(n as usize)
}

/// `write(2)` of all of `buf` to a blocking descriptor (the access log).
pub(crate) fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // `buf` is valid for reads of `buf.len()` bytes.
        match syscall!(write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len())) {
            Ok(n) => buf = &buf[n as usize..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `sendfile(2)` from `file` at `*offset`, advancing it.
pub(crate) fn sendfile(
    sock: BorrowedFd<'_>,
    file: BorrowedFd<'_>,
    offset: &mut u64,
    count: usize,
) -> io::Result<usize> {
    let mut off = *offset as libc::off_t;
    // `off` is a live off_t the kernel updates.
    let n = syscall!(sendfile(
        sock.as_raw_fd(),
        file.as_raw_fd(),
        &mut off,
        count
    ))?;
    *offset = off as u64;
    Ok(n as usize)
}

/// `pread(2)` into `buf` at `offset`.
pub(crate) fn pread(fd: BorrowedFd<'_>, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    // `buf` is valid for writes of `buf.len()` bytes.
    let n = syscall!(pread(
        fd.as_raw_fd(),
        buf.as_mut_ptr().cast(),
        buf.len(),
        offset as libc::off_t
    ))?;
    Ok(n as usize)
}

/// `shutdown(fd, SHUT_WR)`: sends FIN, keeps reading (lingering close).
pub(crate) fn shutdown_write(fd: BorrowedFd<'_>) -> io::Result<()> {
    syscall!(shutdown(fd.as_raw_fd(), libc::SHUT_WR))?;
    Ok(())
}

// ------------------------------------------------------------------ epoll

/// An epoll instance.
#[derive(Debug)]
pub(crate) struct Epoll {
    fd: OwnedFd,
}

/// Interest flags used by the server.
pub(crate) const EPOLLIN: u32 = libc::EPOLLIN as u32;
/// Writable.
pub(crate) const EPOLLOUT: u32 = libc::EPOLLOUT as u32;
/// Peer closed its writing half.
pub(crate) const EPOLLRDHUP: u32 = libc::EPOLLRDHUP as u32;
/// Hang-up.
pub(crate) const EPOLLHUP: u32 = libc::EPOLLHUP as u32;
/// Error.
pub(crate) const EPOLLERR: u32 = libc::EPOLLERR as u32;
/// Edge-triggered.
pub(crate) const EPOLLET: u32 = libc::EPOLLET as u32;

/// One readiness event.
pub(crate) type Event = libc::epoll_event;

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        Ok(Epoll {
            fd: owned(syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?),
        })
    }

    /// Registers `fd` with `events`, tagged with `token`.
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // `ev` is a live epoll_event.
        syscall!(epoll_ctl(
            self.fd.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            fd.as_raw_fd(),
            &mut ev
        ))?;
        Ok(())
    }

    /// Removes `fd` (closing it would too, unless it is shared).
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // `ev` is a live epoll_event (ignored by DEL on new kernels).
        syscall!(epoll_ctl(
            self.fd.as_raw_fd(),
            libc::EPOLL_CTL_DEL,
            fd.as_raw_fd(),
            &mut ev
        ))?;
        Ok(())
    }

    /// Waits up to `timeout_ms` (-1: forever) and fills `events`.
    pub(crate) fn wait(&self, events: &mut Vec<Event>, timeout_ms: i32) -> io::Result<()> {
        events.clear();
        let cap = events.capacity().min(i32::MAX as usize) as i32;
        // `events` has room for `cap` entries; the kernel writes at most that many.
        match syscall!(epoll_wait(
            self.fd.as_raw_fd(),
            events.as_mut_ptr(),
            cap,
            timeout_ms
        )) {
            Ok(n) => {
                // SAFETY: the kernel initialised the first `n` entries.
                unsafe { events.set_len(n as usize) };
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Reads the `u64` token out of an event (the field is packed).
pub(crate) fn event_token(ev: &Event) -> u64 {
    ev.u64
}

/// Reads the flags out of an event.
pub(crate) fn event_flags(ev: &Event) -> u32 {
    ev.events
}

/// A path as the C string a syscall takes.
pub(crate) fn cstring(path: &std::path::Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
}

/// An eventfd: the shutdown bell every worker's epoll listens to.
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    Ok(owned(syscall!(eventfd(
        0,
        libc::EFD_NONBLOCK | libc::EFD_CLOEXEC
    ))?))
}

/// Rings an eventfd.
pub(crate) fn eventfd_ring(fd: BorrowedFd<'_>) -> io::Result<()> {
    let one: u64 = 1;
    // `one` is 8 live bytes, as eventfd requires.
    syscall!(write(
        fd.as_raw_fd(),
        std::ptr::addr_of!(one).cast(),
        size_of::<u64>()
    ))?;
    Ok(())
}

// ------------------------------------------------------------------ files

/// What the server needs from `fstat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStat {
    pub(crate) size: u64,
    pub(crate) mtime: i64,
    pub(crate) mtime_nsec: i64,
    pub(crate) is_dir: bool,
    pub(crate) is_file: bool,
    pub(crate) ino: u64,
    pub(crate) dev: u64,
    /// Names the file has; 0 once it was unlinked.
    pub(crate) nlink: u64,
}

/// `fstat(2)`.
pub(crate) fn fstat(fd: BorrowedFd<'_>) -> io::Result<FileStat> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // `st` is writable storage for one `stat`.
    syscall!(fstat(fd.as_raw_fd(), st.as_mut_ptr()))?;
    // SAFETY: fstat succeeded, so it initialised `st`.
    let st = unsafe { st.assume_init() };
    Ok(file_stat(&st))
}

fn file_stat(st: &libc::stat) -> FileStat {
    let fmt = st.st_mode & libc::S_IFMT;
    FileStat {
        size: st.st_size as u64,
        mtime: st.st_mtime,
        mtime_nsec: st.st_mtime_nsec,
        is_dir: fmt == libc::S_IFDIR,
        is_file: fmt == libc::S_IFREG,
        ino: st.st_ino,
        dev: st.st_dev,
        nlink: st.st_nlink,
    }
}

/// Opens a directory (the document root).
pub(crate) fn open_dir(path: &CStr) -> io::Result<OwnedFd> {
    Ok(owned(syscall!(open(
        path.as_ptr(),
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC
    ))?))
}

/// Opens a file for appending (the access log).
pub(crate) fn open_append(path: &CStr) -> io::Result<OwnedFd> {
    Ok(owned(syscall!(open(
        path.as_ptr(),
        libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC,
        0o644 as libc::c_uint
    ))?))
}

/// `struct open_how` of openat2(2); libc's is `non_exhaustive`.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `openat2(dir, path, O_RDONLY, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`:
/// the kernel refuses any resolution that leaves `dir` (`..` above it, an
/// absolute symlink, a symlink pointing out) with `EXDEV`. `ENOSYS` on
/// kernels before 5.6.
pub(crate) fn openat2_beneath(dir: BorrowedFd<'_>, path: &CStr) -> io::Result<OwnedFd> {
    let how = OpenHow {
        flags: (libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK) as u64,
        mode: 0,
        resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS,
    };
    // `path` is NUL-terminated and `how` is a live open_how of the size passed.
    let fd = syscall!(syscall(
        libc::SYS_openat2,
        dir.as_raw_fd(),
        path.as_ptr(),
        std::ptr::addr_of!(how),
        size_of::<OpenHow>()
    ))?;
    Ok(owned(fd as RawFd))
}

/// `openat(dir, name, O_NOFOLLOW)` of one path component: the portable
/// fallback walks the path one component at a time and refuses every symlink.
pub(crate) fn openat_nofollow(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    Ok(owned(syscall!(openat(
        dir.as_raw_fd(),
        name.as_ptr(),
        libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK
    ))?))
}

// ---------------------------------------------------------------- signals

/// Ignores SIGPIPE process-wide: a peer that goes away mid-write must give
/// `EPIPE`, not kill the server (`send` also passes `MSG_NOSIGNAL`, but
/// `sendfile` has no such flag).
pub(crate) fn ignore_sigpipe() -> io::Result<()> {
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    let prev = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    if prev == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A signal [`wait_for_signal`] took, by what the server does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM, SIGINT or SIGQUIT: stop gracefully.
    Stop(i32),
    /// SIGUSR1 or SIGHUP: reopen the access and error logs.
    ReopenLogs(i32),
}

/// The signals h1serve takes synchronously: TERM, INT, QUIT (stop), USR1
/// and HUP (reopen the logs), as nginx reads them. Left to their default
/// action, HUP and USR1 killed the server mid-response.
const SIGNALS: [libc::c_int; 5] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGHUP,
];

/// Blocks the signals of [`Signal`] in the calling thread (and the threads
/// it spawns afterwards), so [`wait_for_signal`] can take them
/// synchronously.
pub fn block_signals() -> io::Result<()> {
    let set = signal_set();
    // `set` is an initialised sigset; the old mask is not wanted.
    let rc = unsafe_sigmask(&set);
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

fn signal_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set; sigaddset takes valid signals.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        for sig in SIGNALS {
            libc::sigaddset(set.as_mut_ptr(), sig);
        }
        set.assume_init()
    }
}

fn unsafe_sigmask(set: &libc::sigset_t) -> i32 {
    // SAFETY: `set` is initialised; a null old-set pointer is allowed.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, set, std::ptr::null_mut()) }
}

/// Waits for one of the signals [`block_signals`] blocked.
pub fn wait_for_signal() -> io::Result<Signal> {
    let set = signal_set();
    let mut sig: libc::c_int = 0;
    // SAFETY: `set` is initialised and `sig` is a live int.
    let rc = unsafe { libc::sigwait(&set, &mut sig) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(match sig {
        libc::SIGUSR1 | libc::SIGHUP => Signal::ReopenLogs(sig),
        _ => Signal::Stop(sig),
    })
}

/// Makes `to` (a descriptor number in use) refer to what `from` refers to,
/// atomically (`dup3`): every thread writing to `to` goes on writing, to
/// the new file. How logs are reopened without telling the workers.
pub(crate) fn replace_fd(from: BorrowedFd<'_>, to: RawFd) -> io::Result<()> {
    // The standard descriptors stay inheritable; the others close on exec.
    let flags = if to <= 2 { 0 } else { libc::O_CLOEXEC };
    // Both are open descriptors (`to` is owned elsewhere and stays open).
    syscall!(dup3(from.as_raw_fd(), to, flags))?;
    Ok(())
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit: each connection is a descriptor.
pub(crate) fn raise_nofile_limit() {
    let mut lim = MaybeUninit::<libc::rlimit>::uninit();
    // SAFETY: `lim` is writable storage for one rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, lim.as_mut_ptr()) } != 0 {
        return;
    }
    // SAFETY: getrlimit succeeded and initialised `lim`.
    let mut lim = unsafe { lim.assume_init() };
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid rlimit; raising the soft limit up to the
        // hard limit needs no privilege.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}

// ------------------------------------------------- uploads and CGI (issue 5)

impl Epoll {
    /// A second descriptor for the same epoll instance (`F_DUPFD_CLOEXEC`),
    /// so request handling can register CGI pipes in its worker's epoll.
    pub(crate) fn try_clone(&self) -> io::Result<Epoll> {
        Ok(Epoll {
            fd: owned(syscall!(fcntl(
                self.fd.as_raw_fd(),
                libc::F_DUPFD_CLOEXEC,
                3
            ))?),
        })
    }
}

/// Creates `name` in `dir` for writing: must not exist (`O_EXCL`), is not
/// inherited by CGI children (`O_CLOEXEC`), and a symlink is never followed.
pub(crate) fn create_excl(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    Ok(owned(syscall!(openat(
        dir.as_raw_fd(),
        name.as_ptr(),
        libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        0o644 as libc::c_uint
    ))?))
}

/// `flock(LOCK_EX | LOCK_NB)`: `Ok(true)` when this descriptor now holds the
/// lock, `Ok(false)` when another open file description holds it. The lock
/// goes with the last descriptor of the file description (and with a killed
/// process), which is what marks an upload's temporary file as in use.
pub(crate) fn try_lock_exclusive(fd: BorrowedFd<'_>) -> io::Result<bool> {
    match syscall!(flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB)) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `flock(LOCK_EX)`, waiting for it (on a commit thread, never a worker).
pub(crate) fn lock_exclusive(fd: BorrowedFd<'_>) -> io::Result<()> {
    loop {
        match syscall!(flock(fd.as_raw_fd(), libc::LOCK_EX)) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other.map(drop),
        }
    }
}

/// `flock(LOCK_UN)`.
pub(crate) fn unlock(fd: BorrowedFd<'_>) -> io::Result<()> {
    syscall!(flock(fd.as_raw_fd(), libc::LOCK_UN))?;
    Ok(())
}

/// Fails with `AddrInUse` when another socket already listens on `addr`.
/// Every worker binds with `SO_REUSEPORT`, which would otherwise let a second
/// server (same user) bind the same port silently and split the connections
/// with the first; a probe bound without it collides with any listener.
pub(crate) fn check_port_free(addr: &SocketAddr) -> io::Result<()> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    let fd = owned(syscall!(socket(
        domain,
        libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
        0
    ))?);
    // SO_REUSEADDR only: a port in TIME_WAIT is free, one with a listener is not.
    setsockopt_int(fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    let (storage, len) = sockaddr(addr);
    let ptr = std::ptr::addr_of!(storage).cast::<libc::sockaddr>();
    // `ptr`/`len` describe the initialised address above.
    syscall!(bind(fd.as_raw_fd(), ptr, len)).map_err(|e| {
        if e.raw_os_error() == Some(libc::EADDRINUSE) {
            io::Error::new(
                io::ErrorKind::AddrInUse,
                format!(
                    "{addr} is already in use by another process (is another h1serve running?)"
                ),
            )
        } else {
            e
        }
    })?;
    Ok(())
}

/// `fsync(2)`: file data (or a folder's entries) reach stable storage.
pub(crate) fn fsync(fd: BorrowedFd<'_>) -> io::Result<()> {
    syscall!(fsync(fd.as_raw_fd()))?;
    Ok(())
}

/// `renameat(2)` within one folder: atomically replaces `to` (a file or a
/// symlink itself, never what a symlink points to).
pub(crate) fn rename_in(dir: BorrowedFd<'_>, from: &CStr, to: &CStr) -> io::Result<()> {
    syscall!(renameat(
        dir.as_raw_fd(),
        from.as_ptr(),
        dir.as_raw_fd(),
        to.as_ptr()
    ))?;
    Ok(())
}

/// Moves `from` to `to` within one folder only if `to` does not exist
/// (`EEXIST` if it does): `renameat2(RENAME_NOREPLACE)`, or where the file
/// system lacks it (`EINVAL`), `linkat` (which never replaces) and `unlinkat`.
pub(crate) fn rename_noreplace(dir: BorrowedFd<'_>, from: &CStr, to: &CStr) -> io::Result<()> {
    // Both names are NUL-terminated; the flag is a plain integer.
    let r = syscall!(syscall(
        libc::SYS_renameat2,
        dir.as_raw_fd(),
        from.as_ptr(),
        dir.as_raw_fd(),
        to.as_ptr(),
        libc::RENAME_NOREPLACE
    ));
    match r {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
            // Both names are NUL-terminated.
            syscall!(linkat(
                dir.as_raw_fd(),
                from.as_ptr(),
                dir.as_raw_fd(),
                to.as_ptr(),
                0
            ))?;
            unlink_in(dir, from)
        }
        other => other.map(drop),
    }
}

/// `unlinkat(dir, name, 0)`: removes a file (not a folder).
pub(crate) fn unlink_in(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    syscall!(unlinkat(dir.as_raw_fd(), name.as_ptr(), 0))?;
    Ok(())
}

/// `fstatat(2)` of `name` in `dir`, not following a final symlink; `None`
/// when there is no such entry.
pub(crate) fn stat_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Option<FileStat>> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // `name` is NUL-terminated and `st` is writable storage for one `stat`.
    match syscall!(fstatat(
        dir.as_raw_fd(),
        name.as_ptr(),
        st.as_mut_ptr(),
        libc::AT_SYMLINK_NOFOLLOW
    )) {
        Ok(_) => {
            // SAFETY: fstatat succeeded, so it initialised `st`.
            let st = unsafe { st.assume_init() };
            Ok(Some(file_stat(&st)))
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether `rel` beneath `dir` is executable by us (`faccessat(X_OK)`).
pub(crate) fn executable(dir: BorrowedFd<'_>, rel: &CStr) -> bool {
    // `rel` is NUL-terminated.
    syscall!(faccessat(dir.as_raw_fd(), rel.as_ptr(), libc::X_OK, 0)).is_ok()
}

/// One `write(2)`; on a non-blocking pipe it may be short or `WouldBlock`.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // `buf` is valid for reads of `buf.len()` bytes.
    let n = syscall!(write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()))?;
    Ok(n as usize)
}

/// A pipe, both ends close-on-exec and blocking: `(read end, write end)`.
/// The server sets its own end non-blocking with [`set_nonblocking`]; the
/// child's end stays blocking, as programs expect of stdin and stdout.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // `fds` has room for the two descriptors pipe2 writes.
    syscall!(pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC))?;
    Ok((owned(fds[0]), owned(fds[1])))
}

/// Sets `O_NONBLOCK` on a descriptor.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let flags = syscall!(fcntl(fd.as_raw_fd(), libc::F_GETFL))?;
    syscall!(fcntl(
        fd.as_raw_fd(),
        libc::F_SETFL,
        flags | libc::O_NONBLOCK
    ))?;
    Ok(())
}

/// Everything a child process needs, prepared before `fork` so the child
/// only makes async-signal-safe calls (it is a copy of a multi-threaded
/// process: another thread may have held the allocator's lock).
pub(crate) struct Spawn<'a> {
    /// The program (an absolute path).
    pub(crate) path: &'a CStr,
    /// NULL-terminated `argv`, pointing into live `CString`s.
    pub(crate) argv: &'a [*const libc::c_char],
    /// NULL-terminated `envp`, pointing into live `CString`s.
    pub(crate) envp: &'a [*const libc::c_char],
    /// Working folder of the child.
    pub(crate) cwd: &'a CStr,
    pub(crate) stdin: BorrowedFd<'a>,
    pub(crate) stdout: BorrowedFd<'a>,
    pub(crate) stderr: BorrowedFd<'a>,
}

/// `fork` + `execve`. In the child: its own process group (so a timeout
/// kills whatever the script started too), an empty signal mask and default
/// `SIGPIPE` (the server blocks SIGTERM/SIGINT and ignores SIGPIPE, and
/// both would survive `execve`), the three pipes on 0/1/2, `chdir`,
/// `execve`, and `_exit(127)` if anything fails. Returns the child's pid.
pub(crate) fn spawn(s: &Spawn<'_>) -> io::Result<libc::pid_t> {
    let fds = [
        s.stdin.as_raw_fd(),
        s.stdout.as_raw_fd(),
        s.stderr.as_raw_fd(),
    ];
    if fds.iter().any(|&fd| fd <= 2) {
        // dup2 onto itself would leave FD_CLOEXEC set; never the case while
        // the server's own 0/1/2 are open.
        return Err(io::Error::other("pipe landed on a standard descriptor"));
    }
    if s.argv.last() != Some(&std::ptr::null()) || s.envp.last() != Some(&std::ptr::null()) {
        return Err(io::Error::other("argv and envp must end in NULL"));
    }
    let mut empty = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set.
    let empty = unsafe {
        libc::sigemptyset(empty.as_mut_ptr());
        empty.assume_init()
    };
    // SAFETY: all-zero is a valid sigaction; the handler is set below.
    let mut dfl: libc::sigaction = unsafe { std::mem::zeroed() };
    dfl.sa_sigaction = libc::SIG_DFL;
    // SAFETY: fork has no preconditions; the child below calls only
    // async-signal-safe functions (setpgid, sigprocmask, sigaction, dup2,
    // chdir, execve, _exit) on memory prepared before the fork, and never
    // returns.
    let pid = syscall!(fork())?;
    if pid == 0 {
        // SAFETY: see above; every pointer refers to memory the parent
        // prepared and keeps alive across the fork (the child has a copy).
        unsafe {
            libc::setpgid(0, 0);
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            libc::sigaction(libc::SIGPIPE, &dfl, std::ptr::null_mut());
            if libc::dup2(fds[0], 0) == -1
                || libc::dup2(fds[1], 1) == -1
                || libc::dup2(fds[2], 2) == -1
                || libc::chdir(s.cwd.as_ptr()) == -1
            {
                libc::_exit(127);
            }
            libc::execve(s.path.as_ptr(), s.argv.as_ptr(), s.envp.as_ptr());
            libc::_exit(127);
        }
    }
    Ok(pid)
}

/// `pidfd_open(2)`: a descriptor that becomes readable when `pid` exits, so
/// the worker's epoll learns of it (no SIGCHLD handler). `ENOSYS` before 5.3.
pub(crate) fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // pidfd_open takes a pid and flags; the result is a new descriptor
    // (close-on-exec by default).
    let fd = syscall!(syscall(libc::SYS_pidfd_open, pid, 0))?;
    Ok(owned(fd as RawFd))
}

/// `waitpid(pid, WNOHANG)`: `Some(status)` once the child is reaped.
pub(crate) fn try_reap(pid: libc::pid_t) -> io::Result<Option<i32>> {
    let mut status = 0;
    // `status` is a live int.
    match syscall!(waitpid(pid, &mut status, libc::WNOHANG))? {
        0 => Ok(None),
        _ => Ok(Some(status)),
    }
}

/// `SIGKILL` to the child's process group (what the script started) and to
/// the child: a child we are giving up on (timeout, client gone). It is
/// not reaped here: dying can take long (a large address space to tear
/// down, an uninterruptible sleep).
pub(crate) fn kill_group(pid: libc::pid_t) {
    // Our own unreaped child: its pid (and so its group id, set by
    // [`spawn`]) cannot have been reused.
    let _ = syscall!(kill(-pid, libc::SIGKILL));
    let _ = syscall!(kill(pid, libc::SIGKILL));
}

/// A blocking `waitpid`: only where nothing else waits (a kernel without
/// pidfds, a worker that is shutting down).
pub(crate) fn wait_blocking(pid: libc::pid_t) {
    let mut status = 0;
    loop {
        // `status` is a live int.
        match syscall!(waitpid(pid, &mut status, 0)) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            _ => return,
        }
    }
}

/// Hands memory the allocator holds but no longer uses back to the system
/// (`malloc_trim(0)`, glibc); elsewhere a no-op. Called after a wave of
/// connections is over, so RSS falls back instead of staying at the peak.
pub(crate) fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes a plain integer and only walks the
    // allocator's own free lists; no memory of ours is touched.
    unsafe {
        libc::malloc_trim(0);
    }
}
