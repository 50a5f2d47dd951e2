//! # h1serve
//!
//! An epoll HTTP/1.1 server built on h1parse. Not yet written: see the
//! server issue. This crate is an empty skeleton so the workspace builds.
