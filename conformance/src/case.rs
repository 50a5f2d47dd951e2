//! The case format: what a case file says, and the outcome language its
//! `accept` lists are written in.
//!
//! A case file (TOML) names its area and holds `[[case]]` tables:
//!
//! ```toml
//! area = "content-length"
//!
//! [[case]]
//! id = "non-numeric"                 # full id: content-length.non-numeric
//! title = "Content-Length with a letter is rejected"
//! section = "RFC 9112 §6.3"
//! rfc = "If a message is received without Transfer-Encoding and with an invalid Content-Length ..."
//! level = "MUST"                     # MUST | SHOULD | MAY
//! tags = ["smuggling"]
//! needs = ["post"]                   # capabilities; without them the case is n/a
//! send = 'POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1x\r\n\r\n'
//! accept = ["400 close"]             # outcomes every profile accepts
//! lenient = ["close"]                # outcomes only the `rfc` profile accepts
//! ```
//!
//! Instead of `send`, `steps` lists actions in order: `{ send = '...' }`,
//! `{ fragments = ['..', '..'], pause_ms = 50 }`, `{ pause_ms = 100 }`,
//! `{ silence_ms = 300 }` (nothing may arrive meanwhile),
//! `{ await_ms = 1000 }` (something must arrive within that time) and
//! `{ shutdown = true }` (half-close: send FIN).
//!
//! # Outcomes
//!
//! An outcome is the list of responses the server sends, in order, then what
//! the connection does: `"400 close"`, `"200 200 open"`, `"100 200 any"`,
//! `"close"` (no response, closed), `"silence"` (no response, still open).
//! A status is `200`, a class `4xx`, a negation `!404` or `!400,404` (any
//! final status but these), `*` for any final status,
//! or alternatives joined by `|`: `"400|414 close"`. The last word is `close`,
//! `open` or `any`; without one, `any`. A table form adds per-response checks:
//! `{ responses = [{ status = "200", has = ["content-length"], lacks = ["transfer-encoding"], body = 0 }], then = "open" }`.
//!
//! # Bytes
//!
//! Send strings take `\r \n \t \0 \\ \xHH` escapes (write them in TOML
//! literal strings, `'...'`), and placeholders filled from the target
//! profile: `{host}`, `{path}` (answers 200 to GET), `{post}` (accepts a
//! request body), `{missing}` (answers 404: the canary), `{nocontent}` (answers
//! 204), `{etag}` (the entity tag of `{path}`), `{weak_etag}` (that tag
//! as a weak one), `{rep:N:TEXT}` (TEXT
//! repeated N times), `{get}` (a plain `GET {path}` request), `{canary}` (a
//! `GET {missing}` request: the hidden request of desync checks, answered
//! 404 only if the server sees it as a request), `{canary_len}`,
//! `{canary_len+N}` and `{canary_len_hex}` (its length, plus N, in hex);
//! from limits the target profile declares: `{uri_at}` and `{uri_over}`
//! (query text making `{path}?TEXT` exactly the longest target, or one
//! byte longer), `{head_over}` (a field value longer than the largest head)
//! and `{body_over}` (one more than the largest body).
//! `{{` is a literal `{`.

use std::fmt;

use serde::Deserialize;

/// How strongly the RFC states the rule a case tests.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
pub enum Level {
    /// An absolute requirement.
    #[serde(rename = "MUST")]
    Must,
    /// A recommendation; cases run only with `--should`.
    #[serde(rename = "SHOULD")]
    Should,
    /// A permission: the case checks that what the server chose is coherent.
    #[serde(rename = "MAY")]
    May,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        })
    }
}

/// One action of a case's script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Write these bytes (a template: placeholders are filled per target).
    Send(String),
    /// Write each piece, pausing between them.
    Fragments {
        /// The pieces, in order.
        pieces: Vec<String>,
        /// Pause after each piece but the last.
        pause_ms: u64,
    },
    /// Wait.
    Pause(u64),
    /// Wait; the server must send nothing and keep the connection open meanwhile.
    Silence(u64),
    /// Wait up to this long for the server to send something (an interim or
    /// final response) before going on; nothing arriving is a failure.
    Await(u64),
    /// Half-close: shut down our sending side.
    Shutdown,
}

/// What the connection does after the responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// The server closes (FIN or reset).
    Close,
    /// The connection stays open for the wait.
    Open,
    /// Either.
    Any,
}

/// A pattern for one status code. `!NNN` (or `!NNN,MMM`: none of these)
/// and `*` match final (non-1xx) statuses only, so an unexpected `100`
/// never slips through them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPattern {
    alternatives: Vec<StatusAlt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum StatusAlt {
    Exact(u16),
    Class(u16),
    Not(Vec<u16>),
    Any,
}

impl StatusPattern {
    /// Parses `200`, `4xx`, `!404`, `*` or `a|b|c`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let alternatives = s
            .split('|')
            .map(|alt| {
                let bad = || format!("bad status pattern {alt:?} in {s:?}");
                if alt == "*" {
                    Ok(StatusAlt::Any)
                } else if let Some(rest) = alt.strip_prefix('!') {
                    rest.split(',')
                        .map(|n| n.parse::<u16>())
                        .collect::<Result<Vec<_>, _>>()
                        .map(StatusAlt::Not)
                        .map_err(|_| bad())
                } else if alt.len() == 3 && alt.ends_with("xx") {
                    let d = alt.as_bytes()[0];
                    if (b'1'..=b'5').contains(&d) {
                        Ok(StatusAlt::Class(u16::from(d - b'0')))
                    } else {
                        Err(bad())
                    }
                } else {
                    match alt.parse::<u16>() {
                        Ok(n) if (100..=599).contains(&n) => Ok(StatusAlt::Exact(n)),
                        _ => Err(bad()),
                    }
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StatusPattern { alternatives })
    }

    /// Whether `status` matches.
    pub fn matches(&self, status: u16) -> bool {
        self.alternatives.iter().any(|a| match a {
            StatusAlt::Exact(n) => status == *n,
            StatusAlt::Class(c) => status / 100 == *c,
            StatusAlt::Not(ns) => status >= 200 && !ns.contains(&status),
            StatusAlt::Any => status >= 200,
        })
    }
}

impl fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            match a {
                StatusAlt::Exact(n) => write!(f, "{n}")?,
                StatusAlt::Class(c) => write!(f, "{c}xx")?,
                StatusAlt::Not(ns) => {
                    let ns: Vec<String> = ns.iter().map(|n| n.to_string()).collect();
                    write!(f, "!{}", ns.join(","))?
                }
                StatusAlt::Any => f.write_str("*")?,
            }
        }
        Ok(())
    }
}

/// What one expected response must look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSpec {
    /// Its status.
    pub status: StatusPattern,
    /// Fields that must be present (lower case).
    pub has: Vec<String>,
    /// Fields that must be absent (lower case).
    pub lacks: Vec<String>,
    /// Exact body length, if checked.
    pub body: Option<u64>,
    /// If the response has Content-Length, it must equal the body length of
    /// the response at this index of the outcome (e.g. HEAD against GET,
    /// RFC 9110 §9.3.2, §8.6); no Content-Length is fine.
    pub content_length_of: Option<usize>,
}

/// One acceptable outcome of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The responses, in order (interim 1xx ones included).
    pub responses: Vec<ResponseSpec>,
    /// The connection afterwards.
    pub then: After,
}

impl Outcome {
    /// Parses the word form, e.g. `"400|414 close"`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut words: Vec<&str> = s.split_whitespace().collect();
        let then = match words.last().copied() {
            Some("close") => After::Close,
            Some("open") => After::Open,
            Some("any") => After::Any,
            Some("silence") => {
                if words.len() != 1 {
                    return Err(format!("`silence` stands alone, in {s:?}"));
                }
                return Ok(Outcome {
                    responses: Vec::new(),
                    then: After::Open,
                });
            }
            _ => {
                words.push("any");
                After::Any
            }
        };
        words.pop();
        let responses = words
            .iter()
            .map(|w| {
                Ok(ResponseSpec {
                    status: StatusPattern::parse(w)?,
                    has: Vec::new(),
                    lacks: Vec::new(),
                    body: None,
                    content_length_of: None,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Outcome { responses, then })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.responses.is_empty() && self.then == After::Open {
            return f.write_str("silence");
        }
        for r in &self.responses {
            write!(f, "{}", r.status)?;
            for h in &r.has {
                write!(f, "[+{h}]")?;
            }
            for h in &r.lacks {
                write!(f, "[-{h}]")?;
            }
            if let Some(n) = r.body {
                write!(f, "[body={n}]")?;
            }
            f.write_str(" ")?;
        }
        f.write_str(match self.then {
            After::Close => "close",
            After::Open => "open",
            After::Any => "any",
        })
    }
}

/// A case, ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    /// `area.name`.
    pub id: String,
    /// The area (file) it comes from.
    pub area: String,
    /// One line saying what it checks.
    pub title: String,
    /// `RFC 9112 §6.3` and the like.
    pub section: String,
    /// The RFC sentence it tests.
    pub rfc: String,
    /// MUST, SHOULD or MAY.
    pub level: Level,
    /// Free-form tags (`smuggling`, `slow`, ...), selectable with `--only`/`--skip`.
    pub tags: Vec<String>,
    /// Capabilities the target must have, or the case is n/a.
    pub needs: Vec<String>,
    /// The script.
    pub steps: Vec<Step>,
    /// Outcomes every profile accepts.
    pub accept: Vec<Outcome>,
    /// Outcomes only the `rfc` profile accepts.
    pub lenient: Vec<Outcome>,
    /// How long to wait after the last step for more bytes or a close.
    pub wait_ms: Option<u64>,
    /// Replay mode: split the request at every offset and byte by byte.
    pub replay: bool,
}

impl Case {
    /// Whether any of its send templates holds `placeholder` (`"{post}"`).
    pub fn uses(&self, placeholder: &str) -> bool {
        self.steps.iter().any(|s| match s {
            Step::Send(t) => t.contains(placeholder),
            Step::Fragments { pieces, .. } => pieces.iter().any(|p| p.contains(placeholder)),
            _ => false,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    area: String,
    #[serde(rename = "case", default)]
    cases: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: String,
    title: String,
    section: String,
    rfc: String,
    level: Level,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    needs: Vec<String>,
    send: Option<String>,
    #[serde(default)]
    steps: Vec<RawStep>,
    #[serde(default)]
    accept: Vec<RawOutcome>,
    #[serde(default)]
    lenient: Vec<RawOutcome>,
    wait_ms: Option<u64>,
    #[serde(default)]
    replay: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    send: Option<String>,
    fragments: Option<Vec<String>>,
    pause_ms: Option<u64>,
    silence_ms: Option<u64>,
    await_ms: Option<u64>,
    #[serde(default)]
    shutdown: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawOutcome {
    Words(String),
    Table {
        responses: Vec<RawResponse>,
        #[serde(default)]
        then: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponse {
    status: String,
    #[serde(default)]
    has: Vec<String>,
    #[serde(default)]
    lacks: Vec<String>,
    body: Option<u64>,
    content_length_of: Option<usize>,
}

fn outcome(raw: RawOutcome) -> Result<Outcome, String> {
    match raw {
        RawOutcome::Words(s) => Outcome::parse(&s),
        RawOutcome::Table { responses, then } => {
            let then = match then.as_deref() {
                None | Some("any") => After::Any,
                Some("close") => After::Close,
                Some("open") => After::Open,
                Some(other) => return Err(format!("bad `then` {other:?}")),
            };
            let count = responses.len();
            let responses = responses
                .into_iter()
                .map(|r| {
                    if r.content_length_of.is_some_and(|i| i >= count) {
                        return Err(format!(
                            "content_length_of = {} names no response of this outcome",
                            r.content_length_of.unwrap_or(0)
                        ));
                    }
                    Ok(ResponseSpec {
                        status: StatusPattern::parse(&r.status)?,
                        has: r.has.iter().map(|h| h.to_ascii_lowercase()).collect(),
                        lacks: r.lacks.iter().map(|h| h.to_ascii_lowercase()).collect(),
                        body: r.body,
                        content_length_of: r.content_length_of,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Outcome { responses, then })
        }
    }
}

fn step(raw: RawStep) -> Result<Step, String> {
    let kinds = [
        raw.send.is_some(),
        raw.fragments.is_some(),
        raw.silence_ms.is_some(),
        raw.await_ms.is_some(),
        raw.shutdown,
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if kinds > 1 {
        return Err(
            "a step does one thing: send, fragments, silence_ms, await_ms or shutdown".into(),
        );
    }
    Ok(if let Some(s) = raw.send {
        Step::Send(s)
    } else if let Some(pieces) = raw.fragments {
        Step::Fragments {
            pieces,
            pause_ms: raw.pause_ms.unwrap_or(50),
        }
    } else if let Some(ms) = raw.silence_ms {
        Step::Silence(ms)
    } else if let Some(ms) = raw.await_ms {
        Step::Await(ms)
    } else if raw.shutdown {
        Step::Shutdown
    } else if let Some(ms) = raw.pause_ms {
        Step::Pause(ms)
    } else {
        return Err("empty step".into());
    })
}

/// Parses one case file; `origin` names it in errors.
pub fn parse_file(text: &str, origin: &str) -> Result<Vec<Case>, String> {
    let file: RawFile = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
    let area = file.area;
    file.cases
        .into_iter()
        .map(|raw| {
            let id = format!("{area}.{}", raw.id);
            let err = |e: String| format!("{origin}: case {id}: {e}");
            let mut steps = Vec::new();
            if let Some(s) = raw.send {
                steps.push(Step::Send(s));
            }
            for s in raw.steps {
                steps.push(step(s).map_err(err)?);
            }
            if steps.is_empty() {
                return Err(err("no `send` and no `steps`".into()));
            }
            let accept = raw
                .accept
                .into_iter()
                .map(outcome)
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            let lenient = raw
                .lenient
                .into_iter()
                .map(outcome)
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            if accept.is_empty() && !raw.replay {
                return Err(err("no `accept` outcome".into()));
            }
            for s in &steps {
                let texts: Vec<&String> = match s {
                    Step::Send(t) => vec![t],
                    Step::Fragments { pieces, .. } => pieces.iter().collect(),
                    _ => vec![],
                };
                for t in texts {
                    check_template(t).map_err(err)?;
                }
            }
            Ok(Case {
                id,
                area: area.clone(),
                title: raw.title,
                section: raw.section,
                rfc: raw.rfc,
                level: raw.level,
                tags: raw.tags,
                needs: raw.needs,
                steps,
                accept,
                lenient,
                wait_ms: raw.wait_ms,
                replay: raw.replay,
            })
        })
        .collect()
}

/// Values for the placeholders of send templates.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// `{host}`.
    pub host: String,
    /// `{path}`.
    pub path: String,
    /// `{post}`.
    pub post: String,
    /// `{missing}`.
    pub missing: String,
    /// `{nocontent}`.
    pub nocontent: String,
    /// `{etag}`.
    pub etag: String,
    /// The target's declared longest request-target (`{uri_at}`, `{uri_over}`).
    pub max_uri: Option<usize>,
    /// The target's declared largest head (`{head_over}`).
    pub max_head: Option<usize>,
    /// The target's declared largest body (`{body_over}`).
    pub max_body: Option<u64>,
}

impl Vars {
    /// Query text that makes `{path}?TEXT` exactly `len` bytes long.
    fn query_for(&self, len: usize) -> String {
        "a".repeat(len.saturating_sub(self.path.len() + 1))
    }
}

fn check_template(t: &str) -> Result<(), String> {
    expand(t, &Vars::default()).map(|_| ())
}

fn self_or_empty(limit: Option<usize>, f: impl Fn(usize) -> String) -> String {
    limit.map(f).unwrap_or_default()
}

/// The index of the `}` matching the `{` at `open` (placeholders nest in `{rep:..}`).
fn closing_brace(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Fills placeholders and decodes escapes: the bytes to put on the wire.
pub fn expand(t: &str, vars: &Vars) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(t.len());
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                let e = *b.get(i + 1).ok_or("trailing backslash")?;
                i += 2;
                i += escape(t, i, e, &mut out)?;
            }
            b'{' if b.get(i + 1) == Some(&b'{') => {
                out.push(b'{');
                i += 2;
            }
            b'{' => {
                let end = closing_brace(b, i).ok_or("unclosed {")?;
                let name = &t[i + 1..end];
                i = end + 1;
                placeholder(name, vars, &mut out)?;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Decodes escape `\e` into `out`; the argument of `\x` is at `t[i..]`.
/// Returns how many argument bytes it took.
fn escape(t: &str, i: usize, e: u8, out: &mut Vec<u8>) -> Result<usize, String> {
    match e {
        b'r' => out.push(b'\r'),
        b'n' => out.push(b'\n'),
        b't' => out.push(b'\t'),
        b'0' => out.push(0),
        b'\\' => out.push(b'\\'),
        b'x' => {
            let hex = t.get(i..i + 2).ok_or("short \\x escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad \\x escape")?);
            return Ok(2);
        }
        other => return Err(format!("unknown escape \\{}", other as char)),
    }
    Ok(0)
}

/// Puts the value of placeholder `{name}` into `out`.
fn placeholder(name: &str, vars: &Vars, out: &mut Vec<u8>) -> Result<(), String> {
    if let Some(rep) = name.strip_prefix("rep:") {
        let (n, text) = rep.split_once(':').ok_or("{rep:N:TEXT}")?;
        let n: usize = n.parse().map_err(|_| "bad count in {rep:N:TEXT}")?;
        let piece = expand(text, vars)?;
        for _ in 0..n {
            out.extend_from_slice(&piece);
        }
        return Ok(());
    }
    let canary = || {
        format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n",
            vars.missing, vars.host
        )
    };
    if let Some(extra) = name.strip_prefix("canary_len") {
        out.extend_from_slice(canary_len(name, extra, canary().len())?.as_bytes());
        return Ok(());
    }
    if name == "canary" {
        out.extend_from_slice(canary().as_bytes());
        return Ok(());
    }
    if let Some(text) = declared_limit(name, vars) {
        out.extend_from_slice(text.as_bytes());
        return Ok(());
    }
    if name == "get" {
        let get = format!("GET {} HTTP/1.1\r\nHost: {}\r\n\r\n", vars.path, vars.host);
        out.extend_from_slice(get.as_bytes());
        return Ok(());
    }
    if name == "weak_etag" {
        // W/ and the opaque tag, whether the target's tag is
        // strong or already weak (Apache's is weak for a file
        // changed within the second).
        let tag = vars.etag.strip_prefix("W/").unwrap_or(&vars.etag);
        out.extend_from_slice(format!("W/{tag}").as_bytes());
        return Ok(());
    }
    let v = match name {
        "host" => &vars.host,
        "path" => &vars.path,
        "post" => &vars.post,
        "missing" => &vars.missing,
        "nocontent" => &vars.nocontent,
        "etag" => &vars.etag,
        other => return Err(format!("unknown placeholder {{{other}}}")),
    };
    out.extend_from_slice(v.as_bytes());
    Ok(())
}

/// `{canary_len}`, `{canary_len+N}` and `{canary_len_hex}` (`extra` is what
/// follows `canary_len`): the canary request's length, plus N, or in hex.
fn canary_len(name: &str, extra: &str, len: usize) -> Result<String, String> {
    let extra: usize = match extra.strip_prefix('+') {
        Some(n) => n.parse().map_err(|_| format!("bad {{{name}}}"))?,
        None if extra.is_empty() => 0,
        None if extra == "_hex" => return Ok(format!("{len:x}")),
        None => return Err(format!("unknown placeholder {{{name}}}")),
    };
    Ok((len + extra).to_string())
}

/// The placeholders of declared limits (`uri_at`, `uri_over`, `head_over`,
/// `body_over`): empty when the profile declares none (such cases need the
/// max-* capability, so they are n/a then). `None` for any other name.
fn declared_limit(name: &str, vars: &Vars) -> Option<String> {
    match name {
        "uri_at" => Some(self_or_empty(vars.max_uri, |n| vars.query_for(n))),
        "uri_over" => Some(self_or_empty(vars.max_uri, |n| vars.query_for(n + 1))),
        "head_over" => Some(self_or_empty(vars.max_head, |n| "a".repeat(n))),
        "body_over" => Some(
            vars.max_body
                .map(|n| (u128::from(n) + 1).to_string())
                .unwrap_or_default(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn outcome_words() {
        let o = Outcome::parse("400|414 close").unwrap();
        assert_eq!(o.then, After::Close);
        assert!(o.responses[0].status.matches(414));
        assert!(!o.responses[0].status.matches(404));
        assert_eq!(o.to_string(), "400|414 close");
        assert_eq!(Outcome::parse("silence").unwrap().to_string(), "silence");
        assert_eq!(
            Outcome::parse("!404 2xx").unwrap().to_string(),
            "!404 2xx any"
        );
        assert!(Outcome::parse("99 close").is_err());
    }

    #[test]
    fn expand_escapes_and_placeholders() {
        let vars = Vars {
            host: "h".into(),
            path: "/p".into(),
            ..Vars::default()
        };
        assert_eq!(
            expand(r"GET {path} HTTP/1.1\r\nHost: {host}\x00{rep:3:a}{{", &vars).unwrap(),
            b"GET /p HTTP/1.1\r\nHost: h\0aaa{".to_vec()
        );
        assert!(expand("{nope}", &vars).is_err());
    }
}
