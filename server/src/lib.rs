//! # h1serve
//!
//! An epoll HTTP/1.1 server on `libc`, built on the h1parse parser: one
//! worker thread per core, each with its own epoll instance and its own
//! `SO_REUSEPORT` listener, so nothing is shared on the hot path.
//!
//! # Layout
//!
//! * `server` — [`Server::bind`] opens the root, binds one listener per
//!   worker and spawns the workers; [`ServerHandle`] stops them.
//! * `ctx` — `Shared` (what every worker reads) and `Ctx` (one worker's caches,
//!   counters, clock): the leaf request handlers import.
//! * `worker` — the event loop: accept, readiness dispatch, the timer heap
//!   that gives `epoll_wait` its timeout, graceful shutdown.
//! * `connection` — the per-connection state machine (`State`: idle, head,
//!   body, respond, closing, linger): read, parse (resuming), feed bodies,
//!   batch, write, linger; the timers follow from the state.
//! * `route` — the one routing step: head → `Route` (417 and 413 too) and
//!   what happens to the body (read, dropped, or not wanted).
//! * `handler` — the one handler interface every route goes through:
//!   begin on the head, feed body bytes, finish, pump a running answer.
//! * `respond` — the answers that need no handler state: static files
//!   (uploaded ones too), built-ins, stats, `OPTIONS`, 405, 501.
//! * `writer` — the response writer every handler uses: status line, Date,
//!   framing, Connection, integers.
//! * `files` — traversal-proof paths, `openat2(RESOLVE_BENEATH)`, MIME types,
//!   validators, `Range`, the open-file cache.
//! * `stats`, `access_log`, `date` — per-worker counters, the buffered
//!   combined log, the cached `Date`.
//! * `dirs` — the upload and CGI folders, the CGI count, the commit threads.
//! * `upload` — `PUT`/`DELETE` under `--upload-dir`: temp file, `fsync`,
//!   `rename`, `fsync` of the folder.
//! * `blocking` — the threads that commit uploads off the event loop.
//! * `spool` — a CGI body: 8 KiB in memory, the rest in an unlinked file.
//! * `cgi` — CGI/1.1 under `--cgi-dir`: fork/exec with everything prepared
//!   before the fork, pipes and a pidfd in the worker's epoll.
//! * `preconditions` — RFC 9110 §13.2.2: If-Match, If-None-Match and the
//!   dates, for files and uploads.
//! * `site` — the built-in page served when there is no `--root`.
//! * `config` — [`Config`], the settings (the CLI's flags map onto it).
//! * `error_log` — the bounded stderr queue with a writer thread of its own.
//! * `sys` — every syscall and every `unsafe` block.
//!
//! Imports point down (tests/layout.rs checks it): `writer`, `sys`, `date`,
//! `config` and the other leaves; `files`, `upload`, `cgi`, `spool`,
//! `blocking`; `dirs`; `ctx`; `route`; `respond`; `handler`; `connection`;
//! `worker`; `server`.
//!
//! # Example
//!
//! ```no_run
//! let server = h1serve::Server::bind(h1serve::Config {
//!     listen: "127.0.0.1:0".parse().unwrap(),
//!     ..h1serve::Config::default()
//! })
//! .unwrap();
//! println!("listening on http://{}", server.local_addr());
//! server.shutdown();
//! ```
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod access_log;
mod blocking;
mod cgi;
mod config;
mod connection;
mod ctx;
mod date;
mod dirs;
mod error_log;
mod files;
mod handler;
mod preconditions;
mod respond;
mod route;
mod server;
mod site;
mod spool;
mod stats;
mod sys;
mod upload;
mod worker;
mod writer;

pub use config::{
    default_cgi_max_procs, parse_bytes, parse_duration, parse_listen, AccessLog, Config,
    DEFAULT_BODY_MIN_RATE,
};
pub use error_log::{flush as flush_error_log, line as log_line};
pub use server::{Server, ServerHandle};
pub use sys::{block_signals, wait_for_signal, Signal};
