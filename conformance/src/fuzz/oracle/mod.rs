//! The oracles: what RFC 9112 says the bytes contain (h1parse's strict
//! reading, the reference), and what the server's answers say it read.
//!
//! A server may refuse anything (an error status, then close) and may close
//! after any response; what it may not do is answer more requests than the
//! bytes hold, answer a request that the RFC reads as body or as an
//! unframeable message, answer the canary as something else than when it
//! is sent alone, or wait for bytes that were never part of a message.
//!
//! By concern: [`reading`] (the reference and the leniencies), [`judge`]
//! (one target), [`differ`] (several targets), [`proxy`] (a front end and
//! the echo origin behind it).

use crate::observe::Check;

pub mod differ;
pub mod judge;
pub mod proxy;
pub mod reading;
#[cfg(test)]
mod recorded;

pub use differ::differ;
pub use judge::{finals, judge, Canary};
pub use proxy::forwarded;
pub use reading::{is_framing, observe, pairing, read, read_lenient, Reading, Req, Stop};

/// A finding class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// The server's process exited, or it stopped accepting connections.
    Crash,
    /// The server stopped answering a plain GET on a new connection.
    Hang,
    /// A response the validator rejects (framing, bytes after a bodiless response).
    Malformed,
    /// The server read a different number of requests than the bytes hold.
    Desync,
    /// Servers given the same bytes read different numbers of requests.
    Differential,
}

impl Class {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Class::Crash => "crash",
            Class::Hang => "hang",
            Class::Malformed => "malformed",
            Class::Desync => "desync",
            Class::Differential => "differential",
        }
    }
}

/// What an oracle found, by kind: the class and the signature follow from
/// it, never from the words said to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The server's process exited.
    Exit,
    /// The server stopped accepting connections.
    Refused,
    /// The server accepts connections but answers no plain GET.
    NoAnswer,
    /// A response the validator rejects, by the rule it breaks.
    Malformed(Check),
    /// A line without a version answered without a status line.
    Http09,
    /// A desync: the server read other messages than the bytes hold.
    Desync(Desync),
    /// Servers given the same bytes disagree.
    Differential(Disagree),
    /// What a front end forwarded is not what the client sent.
    Proxy(Forward),
}

/// How a server's reading departed from every reading RFC 9112 allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Desync {
    /// More responses after one that announced the close.
    AfterClose,
    /// A refusal of a message it cannot frame, then more answers.
    AfterError,
    /// It read on past a body it cannot frame, with a length of its own.
    ReadOn,
    /// More answers than the bytes hold requests.
    Extra,
    /// The canary, read on its own, answered otherwise than alone.
    Canary,
    /// Fewer answers, and it waits for more: it took bytes as body or head.
    Swallowed,
    /// No answer to complete requests, and a close without a word.
    Dropped,
}

/// How servers given the same bytes disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disagree {
    /// One answered fewer and waits for more, refusing nothing.
    Count,
    /// Invalid bytes: one refused, the other read on past them.
    Lenient,
}

/// What a front end forwarded that the client's bytes do not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forward {
    /// Bytes that are not an HTTP/1.1 request.
    Garbage,
    /// A request from after a message RFC 9112 cannot frame.
    ReadOn,
    /// A request no message of the client starts with.
    Smuggled,
    /// A body of another length than the client sent.
    Body,
}

impl Kind {
    /// Its class.
    pub fn class(self) -> Class {
        match self {
            Kind::Exit | Kind::Refused => Class::Crash,
            Kind::NoAnswer => Class::Hang,
            Kind::Malformed(_) | Kind::Http09 => Class::Malformed,
            Kind::Desync(_) | Kind::Proxy(_) => Class::Desync,
            Kind::Differential(_) => Class::Differential,
        }
    }

    /// Its name, as in signatures (`after-error`, `body-complete`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Exit => "exit",
            Kind::Refused => "refused",
            Kind::NoAnswer => "no-answer",
            Kind::Malformed(check) => check.name(),
            Kind::Http09 => "http09",
            Kind::Desync(d) => match d {
                Desync::AfterClose => "after-close",
                Desync::AfterError => "after-error",
                Desync::ReadOn => "read-on",
                Desync::Extra => "extra",
                Desync::Canary => "canary",
                Desync::Swallowed => "swallowed",
                Desync::Dropped => "dropped",
            },
            Kind::Differential(Disagree::Count) => "count",
            Kind::Differential(Disagree::Lenient) => "lenient",
            Kind::Proxy(p) => match p {
                Forward::Garbage => "garbage",
                Forward::ReadOn => "read-on",
                Forward::Smuggled => "smuggled",
                Forward::Body => "body",
            },
        }
    }
}

/// What an oracle found in one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What it is.
    pub kind: Kind,
    /// The class (follows from the kind).
    pub class: Class,
    /// What identifies the bug, for de-duplication: class, kind and where
    /// the reference reading stopped (e.g. `desync:extra:ObsFold`). Built
    /// from typed values only.
    pub signature: String,
    /// One sentence for people.
    pub detail: String,
    /// The server's answers could also mean it is slow: judge again on a
    /// connection we do not half-close, waiting the full time.
    pub confirm: bool,
    /// The root cause, for `--max-findings`: for a desync, the rule of
    /// RFC 9112 the server read otherwise (where the reference stopped),
    /// whatever the way it showed; else the signature.
    pub root: String,
}

impl Verdict {
    /// A verdict of `kind`; `at` is where the reference stopped (its label)
    /// or, for the differential oracle, who disagreed and where.
    pub fn new(kind: Kind, at: Option<&str>, detail: String) -> Verdict {
        let prefix = match kind {
            Kind::Proxy(_) => "proxy",
            k => k.class().name(),
        };
        let signature = match at {
            Some(at) => format!("{prefix}:{}:{at}", kind.name()),
            None => format!("{prefix}:{}", kind.name()),
        };
        let root = match (kind, at) {
            (Kind::Desync(_) | Kind::Proxy(_), Some(at)) => format!("{prefix}:{at}"),
            _ => signature.clone(),
        };
        Verdict {
            kind,
            class: kind.class(),
            signature,
            detail,
            confirm: false,
            root,
        }
    }

    /// The same, to be confirmed on the slow path.
    pub fn to_confirm(mut self, confirm: bool) -> Verdict {
        self.confirm = confirm;
        self
    }
}
