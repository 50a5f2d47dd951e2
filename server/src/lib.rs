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
//! * `connection` — the per-connection state machine: read, parse (resuming),
//!   discard bodies, answer, batch, write, linger.
//! * `respond` — routing a request to its answer (built-ins, static files).
//! * `writer` — the response writer every handler uses: status line, Date,
//!   framing, Connection, integers.
//! * `files` — traversal-proof paths, `openat2(RESOLVE_BENEATH)`, MIME types,
//!   validators, `Range`, the open-file cache.
//! * `stats`, `access_log`, `date` — per-worker counters, the buffered
//!   combined log, the cached `Date`.
//! * `dirs` — the upload and CGI folders, the CGI count, the commit threads.
//! * `dynamic` — the routes that are not files: which requests they take,
//!   where body bytes go, `Expect: 100-continue` decided from the head.
//! * `upload` — `PUT`/`DELETE` under `--upload-dir`: temp file, `fsync`,
//!   `rename`, `fsync` of the folder.
//! * `blocking` — the threads that commit uploads off the event loop.
//! * `spool` — a CGI body: 16 KiB in memory, the rest in an unlinked file.
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
//! `blocking`; `dirs`; `ctx`; `respond`; `dynamic`; `connection`; `worker`;
//! `server`.
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
mod dynamic;
mod error_log;
mod files;
mod preconditions;
mod respond;
mod server;
mod site;
mod spool;
mod stats;
mod sys;
mod upload;
mod worker;
mod writer;

pub use config::{default_cgi_max_procs, parse_bytes, parse_duration, AccessLog, Config};
pub use server::{Server, ServerHandle};
pub use sys::{block_termination_signals, wait_for_termination};
