//! What h1spec knows about a target: the profile file a user may write
//! (paths to use, limits), and what probing finds it can do. Cases that need
//! a capability the target lacks are `n/a`, never failures.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Deserialize;

use crate::case::{Level, Vars};
use crate::exchange::{self, Action, Timing};
use crate::observe;

/// A target profile file (TOML); every key is optional.
///
/// ```toml
/// host = "localhost"        # Host header value
/// path = "/"                # answers 200 to GET
/// post = "/upload"          # accepts a request body with a 2xx
/// missing = "/h1spec-404"   # answers 404 (the canary path)
/// nocontent = "/empty"      # answers 204
/// capabilities = ["post"]   # taken as given, no probing
/// lacks = ["expect"]        # capabilities to treat as absent
/// timeout_ms = 2000         # connect and each write
/// wait_ms = 1000            # after the last step, for more bytes or a close
/// max_uri = 8192            # declared limits: the max-* cases test them
/// max_head = 16384
/// max_body = 1048576
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetProfile {
    /// `Host` value (default `localhost`).
    pub host: Option<String>,
    /// A path that answers 200 to GET (default `/`).
    pub path: Option<String>,
    /// A path that accepts a request body (default: `path`, if probing shows it does).
    pub post: Option<String>,
    /// A path that answers 404 (default `/h1spec-canary-404`).
    pub missing: Option<String>,
    /// A path that answers 204 (no default).
    pub nocontent: Option<String>,
    /// Capabilities to assume.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Capabilities to deny.
    #[serde(default)]
    pub lacks: Vec<String>,
    /// Per-step timeout in ms (connect, each write).
    pub timeout_ms: Option<u64>,
    /// How long to wait after a case's last step for more bytes or a close,
    /// in ms: raise it for a slow target.
    pub wait_ms: Option<u64>,
    /// The longest request-target the target accepts, in bytes (enables the
    /// `max-uri` cases: one byte more must get 414).
    pub max_uri: Option<usize>,
    /// The largest request head the target accepts, in bytes (`max-head`).
    pub max_head: Option<usize>,
    /// The largest request body the target accepts, in bytes (`max-body`).
    pub max_body: Option<u64>,
}

impl TargetProfile {
    /// Reads a profile file.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The capabilities h1spec probes for, with what each lets cases assume.
pub const CAPABILITIES: &[(&str, &str)] = &[
    ("post", "some path accepts a request body with a 2xx"),
    (
        "body",
        "the post path reads request bodies and keeps the connection (a following request is answered)",
    ),
    (
        "etag",
        "the GET path sends an ETag and answers If-None-Match with 304",
    ),
    ("nocontent", "some path answers 204"),
    (
        "keepalive",
        "two requests on one connection both get answers",
    ),
    (
        "head",
        "HEAD on the GET path is answered 2xx, as GET is",
    ),
    (
        "answers-pipelined",
        "two requests in one write get at least one answer",
    ),
];

/// The target as the runner sees it.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `host:port`.
    pub addr: String,
    /// Placeholder values.
    pub vars: Vars,
    /// What it can do.
    pub capabilities: BTreeSet<String>,
    /// How long the target keeps an idle keep-alive connection, when the
    /// preflight saw it close one within its bound: a close that comes this
    /// long after the last byte is the target's timer, never its answer.
    /// Measured while the first cases run (`None` inside: not known yet).
    pub idle_timeout: IdleTimeout,
    /// What the preflight learnt, for the top of the report: each missing
    /// capability with why, the idle timeout, how many connections it
    /// serves at once.
    pub notes: Vec<String>,
    /// What the preflight saw that breaks a rule of its own: each becomes a
    /// result (`preflight.*`), reported once, not through the cases it
    /// makes n/a.
    pub defects: Vec<Defect>,
    /// How to start the target afresh when a case stopped it (`--spawn`).
    pub restart: Option<Restart>,
}

/// Stops the target and starts it again at the same address.
#[derive(Clone)]
pub struct Restart(pub std::sync::Arc<dyn Fn() -> Result<(), String> + Send + Sync>);

impl std::fmt::Debug for Restart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Restart")
    }
}

/// A rule the preflight checks on its own, with what it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defect {
    /// The id after `preflight.`.
    pub name: &'static str,
    /// What was seen.
    pub observed: String,
}

/// The rules the preflight checks: name, level, title, section, sentence.
pub const PREFLIGHT_RULES: &[(&str, Level, &str, &str, &str)] = &[
    (
        "head",
        Level::Must,
        "HEAD is supported where GET is",
        "RFC 9110 §9.1",
        "All general-purpose servers MUST support the methods GET and HEAD.",
    ),
    (
        "answers-pipelined",
        Level::Must,
        "Two requests in one write are answered",
        "RFC 9112 §9.3.2",
        "A server MAY process a sequence of pipelined requests in parallel if they all have safe methods, but it MUST send the corresponding responses in the same order that the requests were received.",
    ),
];

/// The target's idle timeout, as the preflight measures it in the
/// background: cases that end before it is known wait for it before they
/// are judged.
#[derive(Debug, Clone)]
pub struct IdleTimeout(tokio::sync::watch::Receiver<Option<Option<Duration>>>);

impl Default for IdleTimeout {
    /// Known: none.
    fn default() -> Self {
        IdleTimeout::known(None)
    }
}

impl IdleTimeout {
    /// An idle timeout known from the start.
    pub fn known(t: Option<Duration>) -> Self {
        IdleTimeout(tokio::sync::watch::channel(Some(t)).1)
    }

    /// Measures it in the background (see [`idle_timeout`]).
    pub fn measure(target: &Target, bound: Duration) -> Self {
        let (tx, rx) = tokio::sync::watch::channel(None);
        let target = target.clone();
        tokio::spawn(async move {
            let t = idle_timeout(&target, bound).await;
            let _ = tx.send(Some(t));
        });
        IdleTimeout(rx)
    }

    /// The measured timeout, waiting for the measure if it is not done.
    pub async fn get(&self) -> Option<Duration> {
        let mut rx = self.0.clone();
        let t = match rx.wait_for(|v| v.is_some()).await {
            Ok(v) => v.flatten(),
            Err(_) => None,
        };
        t
    }
}

/// Why probing could not start.
#[derive(Debug)]
pub enum ProbeError {
    /// Nothing accepts connections there (exit 3).
    Unreachable(String),
    /// It answers HTTP, but not as the profile says (exit 2: fix the profile).
    Unusable(String),
    /// It accepts connections but does not answer a plain GET with HTTP, or
    /// answers it with a server error (exit 3, like unreachable).
    NotHttp(String),
}

async fn one(addr: &str, req: String, timing: Timing) -> Result<observe::Observation, ProbeError> {
    let sent = req.into_bytes();
    let actions = [Action::Write(sent.clone())];
    let check = |got: &[u8]| observe::complete_finals(&sent, got) >= 1;
    let t = exchange::run(addr, &actions, timing, Some(&check))
        .await
        .map_err(|e| ProbeError::Unreachable(format!("{addr}: {e}")))?;
    Ok(observe::observe(&t))
}

/// How long the target takes to answer one plain GET on a new connection
/// (connect included), if it answers: the basis for scaling `--wait` to a
/// slow target, whose answers would otherwise be judged as silence.
pub async fn latency(addr: &str, profile: &TargetProfile, step: Duration) -> Option<Duration> {
    let host = profile.host.clone().unwrap_or_else(|| "localhost".into());
    let path = profile.path.clone().unwrap_or_else(|| "/".into());
    let timing = Timing {
        step: step.max(Duration::from_secs(10)),
        idle: step.max(Duration::from_secs(10)),
    };
    let started = std::time::Instant::now();
    let o = one(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        timing,
    )
    .await
    .ok()?;
    final_status(&o)?;
    Some(started.elapsed())
}

/// The final statuses one connection playing `actions` got, waiting for
/// `want` of them at most.
async fn finals(addr: &str, actions: &[Action], want: usize, timing: Timing) -> Vec<u16> {
    let sent: Vec<u8> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Write(b) => Some(b.as_slice()),
            _ => None,
        })
        .flatten()
        .copied()
        .collect();
    let check = |got: &[u8]| observe::complete_finals(&sent, got) >= want;
    match exchange::run(addr, actions, timing, Some(&check)).await {
        Ok(t) => observe::observe(&t)
            .responses
            .iter()
            .map(|r| r.status)
            .filter(|s| *s >= 200)
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn final_status(o: &observe::Observation) -> Option<&observe::Seen> {
    o.responses.iter().find(|r| r.status >= 200)
}

/// Probes `addr` and settles paths and capabilities.
pub async fn probe(
    addr: &str,
    profile: &TargetProfile,
    step: Duration,
) -> Result<Target, ProbeError> {
    let timing = Timing { step, idle: step };
    let host = profile.host.clone().unwrap_or_else(|| "localhost".into());
    let path = profile.path.clone().unwrap_or_else(|| "/".into());
    let missing = profile
        .missing
        .clone()
        .unwrap_or_else(|| "/h1spec-canary-404".into());
    let caps: BTreeSet<String> = profile.capabilities.iter().cloned().collect();
    let probed = |c: &str| profile.capabilities.iter().any(|x| x == c);

    let etag = path_answers_2xx(addr, &host, &path, timing).await?;
    canary_answers_404(addr, &host, &missing, timing).await?;

    let post = profile.post.clone().unwrap_or_else(|| path.clone());
    let mut p = Probing {
        addr,
        timing,
        post_req: format!("POST {post} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\nhello"),
        get_req: format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        host,
        path,
        post,
        caps,
        notes: Vec::new(),
        defects: Vec::new(),
    };
    if !probed("post") {
        p.post().await?;
    }
    if !probed("body") {
        p.body().await;
    }
    if !probed("head") {
        p.head().await?;
    }
    if !probed("etag") {
        if let Some(tag) = &etag {
            p.etag(tag).await?;
        }
    }
    if let (Some(nc), false) = (&profile.nocontent, probed("nocontent")) {
        p.nocontent(nc).await?;
    }
    p.pipelining(probed("keepalive")).await;
    let mut caps = p.caps;
    take_declared(profile, &mut caps);
    Ok(Target {
        addr: addr.to_string(),
        vars: Vars {
            host: p.host,
            path: p.path,
            post: p.post,
            missing,
            nocontent: profile.nocontent.clone().unwrap_or_default(),
            etag: etag.unwrap_or_default(),
            max_uri: profile.max_uri,
            max_head: profile.max_head,
            max_body: profile.max_body,
        },
        capabilities: caps,
        idle_timeout: IdleTimeout::default(),
        notes: p.notes,
        defects: p.defects,
        restart: None,
    })
}

/// What the profile says over what probing found: a declared limit is a
/// capability (the max-* cases test it), and `lacks` removes capabilities.
fn take_declared(profile: &TargetProfile, caps: &mut BTreeSet<String>) {
    for (declared, cap) in [
        (profile.max_uri.is_some(), "max-uri"),
        (profile.max_head.is_some(), "max-head"),
        (profile.max_body.is_some(), "max-body"),
    ] {
        if declared {
            caps.insert(cap.into());
        }
    }
    for l in &profile.lacks {
        caps.remove(l);
    }
}

/// `GET path` must get a 2xx, or the target cannot be tested: its ETag,
/// if it sent one.
async fn path_answers_2xx(
    addr: &str,
    host: &str,
    path: &str,
    timing: Timing,
) -> Result<Option<String>, ProbeError> {
    let get = one(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        timing,
    )
    .await?;
    let Some(first) = final_status(&get) else {
        return Err(ProbeError::NotHttp(format!(
            "GET {path} got no HTTP response ({})",
            get.words()
        )));
    };
    if first.status >= 500 {
        return Err(ProbeError::NotHttp(format!(
            "GET {path} answered {}: the server is failing",
            first.status
        )));
    }
    if !(200..300).contains(&first.status) {
        return Err(ProbeError::Unusable(format!(
            "GET {path} answered {}, not 2xx: give a path that exists (--path or a target profile)",
            first.status
        )));
    }
    Ok(first
        .headers
        .iter()
        .find(|(n, _)| n == "etag")
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned()))
}

/// `GET missing` (the canary path) must get a 404.
async fn canary_answers_404(
    addr: &str,
    host: &str,
    missing: &str,
    timing: Timing,
) -> Result<(), ProbeError> {
    let miss = one(
        addr,
        format!("GET {missing} HTTP/1.1\r\nHost: {host}\r\n\r\n"),
        timing,
    )
    .await?;
    if final_status(&miss).map(|r| r.status) != Some(404) {
        return Err(ProbeError::Unusable(format!(
            "GET {missing} should answer 404 (the canary path), got {}",
            miss.words()
        )));
    }
    Ok(())
}

/// [`probe`]'s state once the target answers at all: the paths, and what
/// the probes found so far. Each method probes one capability the profile
/// did not declare.
struct Probing<'a> {
    /// The target's address.
    addr: &'a str,
    /// Connect, write and idle timeouts for each probe.
    timing: Timing,
    /// The Host header value.
    host: String,
    /// A path that answers 2xx to GET.
    path: String,
    /// A path that takes a body with a 2xx.
    post: String,
    /// `POST post` with a five-byte body.
    post_req: String,
    /// `GET path`.
    get_req: String,
    /// Capabilities settled so far.
    caps: BTreeSet<String>,
    /// What the probes say to the user.
    notes: Vec<String>,
    /// Preflight rules the target broke.
    defects: Vec<Defect>,
}

impl Probing<'_> {
    /// `post`: a body sent to `post` gets a 2xx.
    async fn post(&mut self) -> Result<(), ProbeError> {
        let o = one(self.addr, self.post_req.clone(), self.timing).await?;
        if final_status(&o).is_some_and(|r| (200..300).contains(&r.status)) {
            self.caps.insert("post".into());
        } else {
            self.notes.push(format!(
                "post: `POST {}` with a body got `{}`, not 2xx (give --post a path that takes a body)",
                self.post,
                o.words()
            ));
        }
        Ok(())
    }

    /// `body`: the target reads a body and keeps going, so the next
    /// request, pipelined behind it as the body cases send it, gets its
    /// answer.
    async fn body(&mut self) {
        let (addr, timing) = (self.addr, self.timing);
        let (post_req, get_req) = (&self.post_req, &self.get_req);
        let pipelined = finals(
            addr,
            &[Action::Write(format!("{post_req}{get_req}").into_bytes())],
            2,
            timing,
        )
        .await;
        if pipelined.len() == 2 && (200..300).contains(&pipelined[1]) {
            self.caps.insert("body".into());
        } else if self.caps.contains("post") {
            // Said once here, where the body cases that need it would
            // otherwise be n/a without a word.
            let sequential = finals(
                addr,
                &[
                    Action::Write(post_req.clone().into_bytes()),
                    Action::Await(timing.step),
                    Action::Write(get_req.clone().into_bytes()),
                ],
                2,
                timing,
            )
            .await;
            let why = if sequential.len() == 2 {
                "a request pipelined behind a body is not answered, though the same request sent after the answer is"
            } else {
                "a request after a body on the same connection is not answered"
            };
            let got: Vec<String> = pipelined.iter().map(u16::to_string).collect();
            let got = if got.is_empty() {
                "no answer".to_string()
            } else {
                got.join(" ")
            };
            let (post, path) = (&self.post, &self.path);
            self.notes.push(format!(
                "body: {why} (`POST {post}` then `GET {path}`: {got}); cases that need it are n/a"
            ));
        }
    }

    /// `head`: HEAD gets a 2xx where GET does; if not, the `preflight.head`
    /// defect.
    async fn head(&mut self) -> Result<(), ProbeError> {
        let (path, host) = (&self.path, &self.host);
        let o = one(
            self.addr,
            format!("HEAD {path} HTTP/1.1\r\nHost: {host}\r\n\r\n"),
            self.timing,
        )
        .await?;
        if final_status(&o).is_some_and(|r| (200..300).contains(&r.status)) {
            self.caps.insert("head".into());
        } else {
            self.notes.push(format!(
                "head: `HEAD {path}` got `{}` where GET gets 2xx (preflight.head); the HEAD cases are n/a",
                o.words()
            ));
            self.defects.push(Defect {
                name: "head",
                observed: format!("HEAD {path}: {}", o.words()),
            });
        }
        Ok(())
    }

    /// `etag`: a GET with `If-None-Match` and the path's ETag gets a 304.
    async fn etag(&mut self, tag: &str) -> Result<(), ProbeError> {
        let (path, host) = (&self.path, &self.host);
        let o = one(
            self.addr,
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nIf-None-Match: {tag}\r\n\r\n"),
            self.timing,
        )
        .await?;
        if final_status(&o).is_some_and(|r| r.status == 304) {
            self.caps.insert("etag".into());
        }
        Ok(())
    }

    /// `nocontent`: the profile's `nocontent` path answers 204.
    async fn nocontent(&mut self, nc: &str) -> Result<(), ProbeError> {
        let host = &self.host;
        let o = one(
            self.addr,
            format!("GET {nc} HTTP/1.1\r\nHost: {host}\r\n\r\n"),
            self.timing,
        )
        .await?;
        if final_status(&o).is_some_and(|r| r.status == 204) {
            self.caps.insert("nocontent".into());
        }
        Ok(())
    }

    /// Two requests in one write. Both answered: keep-alive (unless the
    /// profile declared it) and pipelining. None answered (while one alone
    /// is): the target drops input that holds more than one request, which
    /// every case that pipelines would then show as silence; said once
    /// here, and those cases are n/a.
    async fn pipelining(&mut self, keepalive_declared: bool) {
        let get_req = &self.get_req;
        let two = finals(
            self.addr,
            &[Action::Write(format!("{get_req}{get_req}").into_bytes())],
            2,
            self.timing,
        )
        .await;
        if !keepalive_declared && two.len() >= 2 {
            self.caps.insert("keepalive".into());
        }
        if two.is_empty() {
            self.defects.push(Defect {
                name: "answers-pipelined",
                observed: format!("two GET {} in one write: no answer", self.path),
            });
            self.notes.push(
                "pipelining: two requests sent in one write got no answer at all, where one alone is answered: cases that send more than one request in a write and get nothing back are n/a (preflight.answers-pipelined)"
                    .into(),
            );
        } else {
            self.caps.insert("answers-pipelined".into());
        }
    }
}

/// Opens a connection, sends `req` and reads until one complete final
/// response arrived (the stream is then idle, held open), or `None` when
/// the target did not answer within `within`.
async fn answered(addr: &str, req: &[u8], within: Duration) -> Option<crate::transport::Conn> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let work = async {
        let mut s = crate::transport::connect(addr).await.ok()?;
        s.write_all(req).await.ok()?;
        s.flush().await.ok()?;
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        while observe::complete_finals(req, &got) < 1 {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
        }
        Some(s)
    };
    tokio::time::timeout(within, work).await.ok().flatten()
}

/// A close this soon after an answer is part of answering, not an idle
/// timer (a target that closes after every response).
const NO_TIMER: Duration = Duration::from_millis(300);

/// How long the target keeps an idle connection after answering, if it
/// closes one within `bound`: measured on a connection of its own.
pub async fn idle_timeout(target: &Target, bound: Duration) -> Option<Duration> {
    use tokio::io::AsyncReadExt;
    let get = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
        target.vars.path, target.vars.host
    );
    let mut s = answered(&target.addr, get.as_bytes(), bound).await?;
    let started = std::time::Instant::now();
    let mut chunk = [0u8; 1024];
    match tokio::time::timeout(bound, s.read(&mut chunk)).await {
        // A close right after the answer is how a target that does not keep
        // connections answers, not a timer: no idle timeout then.
        Ok(Ok(0)) | Ok(Err(_)) if started.elapsed() >= NO_TIMER => Some(started.elapsed()),
        _ => None,
    }
}

/// How many connections the target answers at once, up to `want`: each
/// connection gets one answered GET and is then held idle, as a case's
/// connection may be, while the others ask (all at once: a target with room
/// for them answers them in a moment). A pool of workers that each hold an
/// idle keep-alive connection answers no one else.
pub async fn capacity(target: &Target, want: usize, within: Duration) -> usize {
    let get = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
        target.vars.path, target.vars.host
    );
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..want {
        let (addr, get) = (target.addr.clone(), get.clone());
        set.spawn(async move { answered(&addr, get.as_bytes(), within).await });
    }
    // Held until every probe is done, so that none frees a worker early.
    let mut held = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok(Some(s)) = r {
            held.push(s);
        }
    }
    held.len()
}
