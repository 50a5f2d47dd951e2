//! h1spec as a library: run cases against a server from a Rust test.
//!
//! [`Suite`] is what the `h1spec` command does for one target, without the
//! command line: select cases, probe the target (the preflight), run the
//! cases, and hand back every result, response checks and preflight rules
//! included. [`Outcome::assert_no_failures`] turns failures into a test
//! failure that prints, for each, the RFC sentence, what came back and the
//! reproducer.
//!
//! ```
//! use h1spec::Suite;
//!
//! // Any HTTP/1.1 server on a local address; here h1spec's own mock.
//! let server = h1spec::mock::Mock::start(&[]).unwrap();
//! let outcome = Suite::new()
//!     .only("smuggling")            // ids, id prefixes, areas or tags
//!     .only("content-length")
//!     .run(&server.addr().to_string())
//!     .expect("the server answers HTTP");
//! outcome.assert_no_failures();
//! assert!(outcome.passed() > 20);
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use crate::runner::{self, CaseResult, Options, Profile, Verdict};
use crate::target::{self, ProbeError, TargetProfile};
use crate::{case, catalog};

/// A selection of cases and how to run them against a target.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    only: Vec<String>,
    skip: Vec<String>,
    should: bool,
    extra: Vec<case::Case>,
    profile: TargetProfile,
    options: Options,
}

impl Suite {
    /// Every built-in MUST and MAY case, the `rfc` profile, the command's
    /// default timeouts and 8 cases at once.
    pub fn new() -> Suite {
        Suite::default()
    }

    /// Runs only the cases matching `sel` (an id, id prefix, area or tag, as
    /// `--only`); call it again to add more.
    pub fn only(mut self, sel: &str) -> Suite {
        self.only.push(sel.to_string());
        self
    }

    /// Leaves out the cases matching `sel` (as `--skip`).
    pub fn skip(mut self, sel: &str) -> Suite {
        self.skip.push(sel.to_string());
        self
    }

    /// Includes the SHOULD-level cases (as `--should`).
    pub fn should(mut self, yes: bool) -> Suite {
        self.should = yes;
        self
    }

    /// Accepts only the safest outcome of each case (`--profile strict`).
    pub fn strict(mut self, yes: bool) -> Suite {
        self.options.profile = if yes { Profile::Strict } else { Profile::Rfc };
        self
    }

    /// Paths, capabilities and declared limits of the target (as
    /// `--target-profile`; [`TargetProfile::load`] reads a file).
    pub fn target_profile(mut self, profile: TargetProfile) -> Suite {
        self.profile = profile;
        self
    }

    /// Adds cases of your own (see [`catalog::load_dir`]), selected like the built-in ones.
    pub fn cases(mut self, cases: Vec<case::Case>) -> Suite {
        self.extra.extend(cases);
        self
    }

    /// Cases run at once (as `--jobs`).
    pub fn jobs(mut self, n: usize) -> Suite {
        self.options.jobs = n.max(1);
        self
    }

    /// How long to wait after a case's last step for more bytes or a close
    /// (as `--wait`; default 1 s).
    pub fn wait(mut self, wait: Duration) -> Suite {
        self.options.idle = wait;
        self
    }

    /// Runs the selected cases against `addr` (`HOST:PORT`, or
    /// `https://HOST:PORT` over TLS, trusted as
    /// [`transport::configure`](crate::transport::configure) says: by
    /// default, the built-in roots), blocking: it builds a runtime of its
    /// own. From async code, use [`Suite::run_async`].
    ///
    /// An error is a selection that matches nothing or a target that cannot
    /// be judged (unreachable, not HTTP, `GET /` not 2xx): what makes the
    /// command exit 2 or 3.
    pub fn run(&self, addr: &str) -> Result<Outcome, String> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?
            .block_on(self.run_async(addr))
    }

    /// [`Suite::run`] inside a tokio runtime you already have.
    pub async fn run_async(&self, addr: &str) -> Result<Outcome, String> {
        let mut all = catalog::builtin()?;
        all.extend(self.extra.iter().cloned());
        catalog::check_unique(&all)?;
        for sel in &self.only {
            if !all.iter().any(|c| runner::selects(sel, c)) {
                return Err(format!("no case matches {sel:?}"));
            }
        }
        let cases = runner::select(all, &self.only, &self.skip, self.should);
        let mut opts = self.options;
        if let Some(ms) = self.profile.timeout_ms {
            opts.step = Duration::from_millis(ms);
        }
        if let Some(ms) = self.profile.wait_ms {
            opts.idle = Duration::from_millis(ms);
        }
        let mut target = target::probe(addr, &self.profile, opts.step)
            .await
            .map_err(|e| match e {
                ProbeError::Unreachable(m) => format!("target unreachable: {m}"),
                ProbeError::NotHttp(m) => format!("target does not speak HTTP usably: {m}"),
                ProbeError::Unusable(m) => m,
            })?;
        let opts = runner::fit(&mut target, opts).await;
        let results = runner::run_all(&target, &cases, opts, |_, _, _| {}).await;
        Ok(Outcome {
            addr: addr.to_string(),
            notes: target.notes.clone(),
            results,
        })
    }
}

/// What a [`Suite`] run found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The target's address.
    pub addr: String,
    /// What the preflight learnt about the target (missing capabilities, its
    /// idle timeout), as the command prints on `preflight:` lines.
    pub notes: Vec<String>,
    /// One result per case, then the response checks and preflight rules.
    pub results: Vec<CaseResult>,
}

impl Outcome {
    /// The failed results.
    pub fn failures(&self) -> Vec<&CaseResult> {
        self.results
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .collect()
    }

    /// How many results passed.
    pub fn passed(&self) -> usize {
        self.count(Verdict::Pass)
    }

    /// How many results could not be judged on this target (`n/a`).
    pub fn not_applicable(&self) -> usize {
        self.count(Verdict::NotApplicable)
    }

    fn count(&self, v: Verdict) -> usize {
        self.results.iter().filter(|r| r.verdict == v).count()
    }

    /// Panics, with each failure's RFC sentence, observed outcome, reasons
    /// and reproducer, if any result failed.
    #[track_caller]
    pub fn assert_no_failures(&self) {
        let failures = self.failures();
        if failures.is_empty() {
            return;
        }
        let mut text = format!(
            "h1spec: {} of {} results failed against {}:\n",
            failures.len(),
            self.results.len(),
            self.addr
        );
        for r in failures {
            let _ = writeln!(text, "\n  FAIL {} {}  {}", r.level, r.id, r.title);
            let _ = writeln!(text, "    {}: \"{}\"", r.section, r.rfc);
            if !r.accepted.is_empty() {
                let _ = writeln!(text, "    accepted: {}", r.accepted.join("  |  "));
            }
            let _ = writeln!(text, "    observed: {}", r.observed);
            for why in &r.reasons {
                let _ = writeln!(text, "    - {why}");
            }
            if !r.reproducer.is_empty() {
                let _ = writeln!(text, "    reproduce: {}", r.reproducer);
            }
        }
        panic!("{text}");
    }
}
