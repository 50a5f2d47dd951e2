//! # h1spec
//!
//! HTTP/1.1 conformance runner. Not yet written: see the h1spec issue.
//! This crate is an empty skeleton so the workspace builds.
