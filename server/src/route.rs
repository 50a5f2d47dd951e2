//! The one routing step: a complete request head becomes the [`Route`]
//! that answers it, before any body byte is read. Everything the head
//! alone decides is decided here: 417 for an expectation this server
//! cannot meet, 413 for a `Content-Length` over `--max-body`, which route
//! takes the request, and so what happens to its body ([`BodyUse`]), which
//! is what makes `Expect: 100-continue` right (RFC 9110 §10.1.1).
//!
//! Order: CGI (`/cgi-bin/` under `--cgi-dir`), then the upload folder
//! (`--upload-dir`: `PUT`, `DELETE`, and `GET`/`HEAD` of a file that is
//! there), then the static routes (built-ins, `--root`, the default page).
//! `/stats` and `/metrics` win over the upload folder for every method.

use std::os::fd::AsFd;

use h1parse::{BodyKind, Expect, Request, Span, TargetForm};

use crate::cgi::{self, Script};
use crate::ctx::Ctx;
use crate::files::{self, OpenFile};
use crate::upload;

/// `Allow` of the static routes (RFC 9110 §10.2.1).
pub(crate) const ALLOW: &[u8] = b"Allow: GET, HEAD, OPTIONS\r\n";
/// `Allow` under `--upload-dir`.
pub(crate) const ALLOW_UPLOAD: &[u8] = b"Allow: GET, HEAD, PUT, DELETE, OPTIONS\r\n";

/// Where a request goes.
#[derive(Debug)]
pub(crate) enum Route {
    /// Refused from the head, and the connection closes after the answer:
    /// 417 (RFC 9110 §10.1.1) or 413 (a `Content-Length` over
    /// `--max-body` on a route that would read the body).
    Refuse(u16),
    /// `OPTIONS` (or `OPTIONS *`, RFC 9112 §3.2.4): 200 with `Allow`.
    Options,
    /// `/stats` (JSON) or `/metrics` (Prometheus text).
    Stats(Path),
    /// The built-in page (no `--root`).
    Builtin(Path),
    /// A file under `--root`.
    Static(Path),
    /// `PUT` under `--upload-dir`.
    Put,
    /// `DELETE` under `--upload-dir`.
    Delete,
    /// `GET`/`HEAD` of a file under `--upload-dir`, already open.
    Uploaded(Box<OpenFile>),
    /// A script under `/cgi-bin/`.
    Cgi(Box<Script>),
    /// A status the lookup decided (a script that cannot run: 403, 404, …).
    Status(u16),
    /// 405 with this `Allow` line (RFC 9110 §15.5.6).
    MethodNotAllowed(&'static [u8]),
    /// 501: `CONNECT` (this is no proxy, RFC 9110 §9.3.6) or a method this
    /// server does not know (RFC 9110 §9.1).
    NotImplemented,
}

/// What a route does with the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyUse {
    /// Its handler takes the body (`PUT`, CGI): `100 Continue` is sent.
    Read,
    /// Read and dropped, then answered; the connection stays open.
    Discard,
    /// Answered from the head alone; if a body follows, the connection
    /// closes after the answer so its bytes are never taken for a request.
    Ignore,
}

impl Route {
    /// What happens to the body of a request on this route.
    pub(crate) fn body_use(&self) -> BodyUse {
        match self {
            Route::Put | Route::Cgi(_) => BodyUse::Read,
            Route::Refuse(_) | Route::Delete | Route::Uploaded(_) | Route::Status(_) => {
                BodyUse::Ignore
            }
            Route::Options
            | Route::Stats(_)
            | Route::Builtin(_)
            | Route::Static(_)
            | Route::MethodNotAllowed(_)
            | Route::NotImplemented => BodyUse::Discard,
        }
    }
}

/// Whether the request has body bytes to read (chunked, or a non-zero
/// Content-Length).
pub(crate) fn has_body(req: &Request) -> bool {
    !matches!(req.body, BodyKind::None | BodyKind::Length(0))
}

/// The path of the target: origin-form up to `?`; for absolute-form the
/// part after the authority (RFC 9112 §3.2.2), `/` when empty.
pub(crate) fn target_path(target: &[u8], form: TargetForm) -> &[u8] {
    let (start, end) = path_within(target, form);
    if start == end {
        return b"/";
    }
    &target[start..end]
}

/// [`target_path`] as offsets into `target`; empty for the `/` an
/// absolute-form target without a path stands for.
fn path_within(target: &[u8], form: TargetForm) -> (usize, usize) {
    let start = match form {
        TargetForm::Absolute => {
            let after_scheme = target
                .windows(3)
                .position(|w| w == b"://")
                .map_or(0, |i| i + 3);
            match target[after_scheme..]
                .iter()
                .position(|&b| b == b'/' || b == b'?')
            {
                Some(i) if target[after_scheme + i] == b'/' => after_scheme + i,
                _ => return (0, 0),
            }
        }
        _ => 0,
    };
    let end = target[start..]
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .map_or(target.len(), |i| start + i);
    (start, end)
}

/// Where the target's path is in the head, found once by routing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path(Span);

impl Path {
    fn of(req: &Request, head: &[u8]) -> Path {
        let (start, end) = path_within(req.target.get(head), req.target_form);
        let at = req.target.start;
        Path(Span {
            start: at + start as u32,
            end: at + end as u32,
        })
    }

    /// The path's bytes in `head` (the bytes routing saw).
    pub(crate) fn get<'h>(&self, head: &'h [u8]) -> &'h [u8] {
        if self.0.start == self.0.end {
            return b"/";
        }
        self.0.get(head)
    }
}

/// Routes a complete head (`head` is its bytes).
pub(crate) fn route(req: &Request, head: &[u8], ctx: &mut Ctx) -> Route {
    if req.expect == Expect::Other {
        // RFC 9110 §10.1.1: an expectation we cannot meet, body or not.
        return Route::Refuse(417);
    }
    let route = if ctx.shared.dynamic.enabled() {
        dynamic(req, head, ctx).unwrap_or_else(|| fixed(req, head, ctx))
    } else {
        fixed(req, head, ctx)
    };
    let too_large = matches!(req.body, BodyKind::Length(n) if n > ctx.shared.config.max_body);
    if too_large && route.body_use() != BodyUse::Ignore {
        // Checked before reading: the client may not even send it.
        return Route::Refuse(413);
    }
    route
}

/// The built-in and static routes.
fn fixed(req: &Request, head: &[u8], ctx: &Ctx) -> Route {
    match (req.target_form, req.method.get(head)) {
        (TargetForm::Authority, _) => return Route::NotImplemented,
        (TargetForm::Asterisk, _) | (_, b"OPTIONS") => return Route::Options,
        (_, b"GET" | b"HEAD") => {}
        (_, b"POST" | b"PUT" | b"DELETE" | b"PATCH" | b"TRACE") => {
            return Route::MethodNotAllowed(ALLOW);
        }
        _ => return Route::NotImplemented,
    }
    let at = Path::of(req, head);
    let path = at.get(head);
    if path == b"/stats" || path == b"/metrics" {
        Route::Stats(at)
    } else if ctx.shared.root.is_none() {
        Route::Builtin(at)
    } else {
        Route::Static(at)
    }
}

/// The CGI and upload routes; `None` when neither takes the request.
fn dynamic(req: &Request, head: &[u8], ctx: &mut Ctx) -> Option<Route> {
    let mut rel = std::mem::take(&mut ctx.path);
    let dirs = &ctx.shared.dynamic;
    let fallback = ctx.shared.config.resolve_fallback;
    let path = target_path(req.target.get(head), req.target_form);
    let normalized = files::normalize(path, &mut rel).is_ok();
    rel.pop();
    let route = (|| {
        if let Some(cgi_dir) = &dirs.cgi {
            if normalized && (rel == cgi::MOUNT || rel.starts_with(b"cgi-bin/")) {
                return Some(match cgi::resolve(cgi_dir, &rel, fallback) {
                    Ok(script) => Route::Cgi(Box::new(script)),
                    Err(status) => Route::Status(status),
                });
            }
        }
        let root = dirs.upload.as_ref()?;
        // Built-in routes win over the upload folder, for every method: a
        // PUT must not replace what GET /stats answers.
        if normalized && matches!(&rel[..], b"stats" | b"metrics") {
            return None;
        }
        match req.method.get(head) {
            b"PUT" => Some(Route::Put),
            b"DELETE" => Some(Route::Delete),
            b"GET" | b"HEAD" => {
                let (fd, st) = upload::open_for_get(root.as_fd(), path, fallback)?;
                Some(Route::Uploaded(Box::new(OpenFile::uncached(fd, st))))
            }
            b"POST" | b"PATCH" => Some(Route::MethodNotAllowed(ALLOW_UPLOAD)),
            _ => None,
        }
    })();
    ctx.path = rel;
    route
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::path::{Path as FsPath, PathBuf};

    use h1parse::{Header, RequestParser, Status};

    use crate::config::Config;

    fn ctx(config: Config) -> Ctx {
        Ctx::for_tests(config)
    }

    /// The route of a request head, by name, and what it does with a body.
    fn routed(ctx: &mut Ctx, head: &str) -> (String, BodyUse) {
        let head = head.replace('\n', "\r\n");
        let mut headers = [Header::EMPTY; 16];
        let req = match RequestParser::new().parse(head.as_bytes(), &mut headers) {
            Ok(Status::Complete(req)) => req,
            other => panic!("{head:?}: {other:?}"),
        };
        let r = route(&req, head.as_bytes(), ctx);
        let name = match &r {
            Route::Refuse(s) => format!("refuse {s}"),
            Route::Options => "options".into(),
            Route::Stats(p) => format!("stats {}", String::from_utf8_lossy(p.get(head.as_bytes()))),
            Route::Builtin(_) => "builtin".into(),
            Route::Static(p) => {
                format!("static {}", String::from_utf8_lossy(p.get(head.as_bytes())))
            }
            Route::Put => "put".into(),
            Route::Delete => "delete".into(),
            Route::Uploaded(_) => "uploaded".into(),
            Route::Cgi(_) => "cgi".into(),
            Route::Status(s) => format!("status {s}"),
            Route::MethodNotAllowed(a) if *a == ALLOW => "405 static".into(),
            Route::MethodNotAllowed(_) => "405 upload".into(),
            Route::NotImplemented => "501".into(),
        };
        (name, r.body_use())
    }

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("h1serve-route-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn check(ctx: &mut Ctx, table: &[(&str, &str, BodyUse)]) {
        let got: Vec<_> = table.iter().map(|(h, _, _)| routed(ctx, h)).collect();
        let want: Vec<_> = table.iter().map(|(_, r, u)| (r.to_string(), *u)).collect();
        assert_eq!(got, want);
    }

    // Issue 13: every decision the head alone makes is made in one place.
    // The table is the routing rules a reader can check at a glance.
    #[test]
    fn static_routes() {
        use BodyUse::*;
        let root = temp_dir("static");
        let mut ctx = ctx(Config {
            root: Some(root.clone()),
            max_body: 100,
            ..Config::default()
        });
        check(
            &mut ctx,
            &[
                ("GET /a/b?x=1 HTTP/1.1\nHost: t\n\n", "static /a/b", Discard),
                ("GET http://t/c HTTP/1.1\nHost: t\n\n", "static /c", Discard),
                ("GET http://t?q HTTP/1.1\nHost: t\n\n", "static /", Discard),
                ("HEAD /stats HTTP/1.1\nHost: t\n\n", "stats /stats", Discard),
                (
                    "GET /metrics HTTP/1.1\nHost: t\n\n",
                    "stats /metrics",
                    Discard,
                ),
                ("OPTIONS * HTTP/1.1\nHost: t\n\n", "options", Discard),
                ("OPTIONS /a HTTP/1.1\nHost: t\n\n", "options", Discard),
                ("CONNECT t:80 HTTP/1.1\nHost: t:80\n\n", "501", Discard),
                ("BREW /pot HTTP/1.1\nHost: t\n\n", "501", Discard),
                (
                    "POST /a HTTP/1.1\nHost: t\nContent-Length: 100\n\n",
                    "405 static",
                    Discard,
                ),
                (
                    "PUT /a HTTP/1.1\nHost: t\nContent-Length: 101\n\n",
                    "refuse 413",
                    Ignore,
                ),
                (
                    "GET /a HTTP/1.1\nHost: t\nExpect: 200-ok\n\n",
                    "refuse 417",
                    Ignore,
                ),
                (
                    "POST /a HTTP/1.1\nHost: t\nExpect: 100-continue\nContent-Length: 1\n\n",
                    "405 static",
                    Discard,
                ),
            ],
        );
        drop(ctx);
        let mut ctx = self::ctx(Config::default());
        check(
            &mut ctx,
            &[("GET / HTTP/1.1\nHost: t\n\n", "builtin", Discard)],
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn upload_and_cgi_routes() {
        use BodyUse::*;
        let root = temp_dir("root");
        let up = temp_dir("up");
        let cgi = temp_dir("cgi");
        std::fs::write(up.join("there.txt"), b"x").unwrap();
        write_script(&cgi.join("run.sh"));
        let mut ctx = ctx(Config {
            root: Some(root.clone()),
            upload_dir: Some(up.clone()),
            cgi_dir: Some(cgi.clone()),
            max_body: 100,
            ..Config::default()
        });
        check(
            &mut ctx,
            &[
                (
                    "PUT /new.txt HTTP/1.1\nHost: t\nContent-Length: 5\n\n",
                    "put",
                    Read,
                ),
                (
                    "PUT /new.txt HTTP/1.1\nHost: t\nContent-Length: 101\n\n",
                    "refuse 413",
                    Ignore,
                ),
                ("DELETE /there.txt HTTP/1.1\nHost: t\n\n", "delete", Ignore),
                // A body nobody reads is not a reason for 413.
                (
                    "DELETE /there.txt HTTP/1.1\nHost: t\nContent-Length: 101\n\n",
                    "delete",
                    Ignore,
                ),
                ("GET /there.txt HTTP/1.1\nHost: t\n\n", "uploaded", Ignore),
                (
                    "GET /elsewhere.txt HTTP/1.1\nHost: t\n\n",
                    "static /elsewhere.txt",
                    Discard,
                ),
                (
                    "POST /there.txt HTTP/1.1\nHost: t\nContent-Length: 3\n\n",
                    "405 upload",
                    Discard,
                ),
                (
                    "TRACE /there.txt HTTP/1.1\nHost: t\n\n",
                    "405 static",
                    Discard,
                ),
                // Built-ins win over the folder, for every method.
                (
                    "PUT /stats HTTP/1.1\nHost: t\nContent-Length: 1\n\n",
                    "405 static",
                    Discard,
                ),
                ("GET /stats HTTP/1.1\nHost: t\n\n", "stats /stats", Discard),
                (
                    "POST /cgi-bin/run.sh/x?y HTTP/1.1\nHost: t\nContent-Length: 3\n\n",
                    "cgi",
                    Read,
                ),
                (
                    "POST /cgi-bin/run.sh HTTP/1.1\nHost: t\nContent-Length: 101\n\n",
                    "refuse 413",
                    Ignore,
                ),
                (
                    "GET /cgi-bin/missing.sh HTTP/1.1\nHost: t\n\n",
                    "status 404",
                    Ignore,
                ),
                ("GET /cgi-bin/ HTTP/1.1\nHost: t\n\n", "status 403", Ignore),
                (
                    "PUT /x HTTP/1.1\nHost: t\nExpect: 200-ok\nContent-Length: 1\n\n",
                    "refuse 417",
                    Ignore,
                ),
            ],
        );
        drop(ctx);
        for d in [root, up, cgi] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    fn write_script(path: &FsPath) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, b"#!/bin/sh\necho\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn paths() {
        assert_eq!(target_path(b"/a/b?x=1", TargetForm::Origin), b"/a/b");
        assert_eq!(
            target_path(b"http://h:80/a/b?x", TargetForm::Absolute),
            b"/a/b"
        );
        assert_eq!(target_path(b"http://h", TargetForm::Absolute), b"/");
        assert_eq!(target_path(b"http://h?q", TargetForm::Absolute), b"/");
    }
}
