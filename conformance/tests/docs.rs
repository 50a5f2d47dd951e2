//! The user-facing docs (every README.md in the repository and docs/*.md)
//! against what a user can see and what the code reports:
//!
//! * no development history a user cannot follow: issue numbers, sessions,
//!   commit ids, scratch paths (`/tmp/...`, `/work/...`);
//! * README.md fits on 200 lines;
//! * every count the docs quote (cases per level and per area, response
//!   checks, mock bug modes, the verdict-matrix rows) equals what the code
//!   has today, so a new case or bug mode cannot leave a stale number behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use h1spec::case::Level;
use h1spec::mock::Bug;
use h1spec::observe::Check;
use h1spec::{catalog, target};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every README.md (outside build output and the corpus) and every file
/// under docs/, as paths relative to the root.
fn user_docs() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let name = e.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name.starts_with('.') || name == "target" || name == "corpus" {
                    continue;
                }
                walk(&path, root, out);
            } else if name == "README.md" || (rel.starts_with("docs/") && name.ends_with(".md")) {
                out.push(rel);
            }
        }
    }
    let root = repo();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// README.md's "## Reliability" section is being moved to
/// docs/reliability.md (which this test then checks like any other doc) and
/// replaced by a pointer; until then it is left out of the history check.
fn without_moving_section(rel: &str, text: &str) -> String {
    if rel != "README.md" {
        return text.to_string();
    }
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with("## ") {
            skipping = line == "## Reliability";
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// What in `line` a user cannot follow, if anything.
fn history(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    for scratch in ["/tmp/", "/work/"] {
        if lower.contains(scratch) {
            return Some(format!("a scratch path ({scratch})"));
        }
    }
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '#')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if *w == "session" || *w == "sessions" {
            return Some("the word \"session\"".into());
        }
        if (*w == "issue" || *w == "issues")
            && words.get(i + 1).is_some_and(|n| {
                n.trim_start_matches('#')
                    .chars()
                    .all(|c| c.is_ascii_digit())
            })
        {
            return Some("an issue number".into());
        }
    }
    // A commit id: a backticked run of 7 to 40 hex digits with a digit and a letter.
    for code in line.split('`').skip(1).step_by(2) {
        let hex = code.len() >= 7
            && code.len() <= 40
            && code
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
        if hex
            && code.chars().any(|c| c.is_ascii_digit())
            && code.chars().any(|c| c.is_ascii_alphabetic())
        {
            return Some(format!("a commit id (`{code}`)"));
        }
    }
    None
}

#[test]
fn the_history_check_catches_what_it_should() {
    assert!(history("as measured in session 3").is_some());
    assert!(history("a helper session ran it").is_some());
    assert!(history("(issue 17)").is_some());
    assert!(history("see issue #4").is_some());
    assert!(history("`0d0793e` → `147c90d`").is_some());
    assert!(history("runs in /tmp/fz-runs").is_some());
    assert!(history("cd /work/main").is_some());
    assert!(history("an issue with framing, 300 cases, `deadbeef` as a word").is_none());
    assert!(history("`1234567` is a number").is_none());
}

#[test]
fn user_docs_carry_no_history() {
    let docs = user_docs();
    for must in [
        "README.md",
        "parser/README.md",
        "server/README.md",
        "conformance/README.md",
    ] {
        assert!(
            docs.iter().any(|d| d == must),
            "{must} not found among {docs:?}"
        );
    }
    let mut found = Vec::new();
    for rel in &docs {
        let text = without_moving_section(rel, &read(rel));
        for (n, line) in text.lines().enumerate() {
            if let Some(what) = history(line) {
                found.push(format!("{rel}:{}: {what}: {line}", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "user docs refer to things a user cannot see (rewrite for a user, or drop):\n{}",
        found.join("\n")
    );
}

#[test]
fn readme_fits_on_200_lines() {
    let lines = read("README.md").lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines; move detail to docs/"
    );
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Must => "MUST",
        Level::Should => "SHOULD",
        Level::May => "MAY",
    }
}

/// The number just before `phrase` at each place it occurs in `text`.
fn counts_before(text: &str, phrase: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(phrase) {
        let end = from + at;
        let head = text[..end].trim_end();
        let digits: String = head
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == ',')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .filter(char::is_ascii_digit)
            .collect();
        if let Ok(n) = digits.parse() {
            out.push(n);
        }
        from = end + phrase.len();
    }
    out
}

#[test]
fn counts_in_the_docs_are_the_codes() {
    let cases = catalog::builtin().expect("built-in cases");
    let mut by_level: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_area: BTreeMap<String, usize> = BTreeMap::new();
    for c in &cases {
        *by_level.entry(level_name(c.level)).or_default() += 1;
        *by_area.entry(c.area.clone()).or_default() += 1;
    }
    let mut wrong = Vec::new();
    let mut quoted = 0;
    for rel in user_docs() {
        let text = read(&rel);
        for n in counts_before(&text, " built-in cases") {
            quoted += 1;
            if n != cases.len() {
                wrong.push(format!(
                    "{rel}: {n} built-in cases; the catalog has {}",
                    cases.len()
                ));
            }
        }
        for phrase in [" switchable bugs", " bug modes"] {
            for n in counts_before(&text, phrase) {
                quoted += 1;
                if n != Bug::ALL.len() {
                    wrong.push(format!(
                        "{rel}: {n}{phrase}; the mock has {}",
                        Bug::ALL.len()
                    ));
                }
            }
        }
        // "(185 MUST, 48 SHOULD, 30 MAY)" after a case count.
        for level in ["MUST", "SHOULD", "MAY"] {
            for n in counts_before(&text, &format!(" {level}, ")) {
                quoted += 1;
                let have = by_level.get(level).copied().unwrap_or(0);
                if n != have {
                    wrong.push(format!("{rel}: {n} {level} cases; the catalog has {have}"));
                }
            }
        }
        for n in counts_before(&text, " MAY)") {
            quoted += 1;
            let have = by_level.get("MAY").copied().unwrap_or(0);
            if n != have {
                wrong.push(format!("{rel}: {n} MAY cases; the catalog has {have}"));
            }
        }
    }
    assert!(
        quoted >= 5,
        "the docs quote fewer counts than expected ({quoted}): did the phrasing change?"
    );

    // conformance/README.md's table of areas: every area, with its count.
    let readme = read("conformance/README.md");
    let mut areas_in_table = BTreeMap::new();
    for line in readme.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() >= 4
            && cells[1].starts_with('`')
            && cells[2].chars().all(|c| c.is_ascii_digit())
            && !cells[2].is_empty()
        {
            areas_in_table.insert(
                cells[1].trim_matches('`').to_string(),
                cells[2].parse::<usize>().unwrap(),
            );
        }
    }
    if areas_in_table != by_area {
        wrong.push(format!(
            "conformance/README.md's area table {areas_in_table:?}; the catalog has {by_area:?}"
        ));
    }

    // Its table of response checks names every check, and only those.
    let listed: Vec<&str> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `response."))
        .map(|l| l.split('`').next().unwrap())
        .collect();
    let mut have: Vec<String> = Check::ALL
        .iter()
        .map(|c| c.name().trim_start_matches("response.").to_string())
        .collect();
    let mut listed: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
    have.sort();
    listed.sort();
    if listed != have {
        wrong.push(format!(
            "conformance/README.md lists the response checks {listed:?}; the code has {have:?}"
        ));
    }

    // The mock's bug names it quotes exist.
    let names: Vec<&str> = Bug::ALL.iter().map(|b| b.name()).collect();
    let para = readme
        .split("\n\n")
        .find(|p| p.contains(" switchable bugs"))
        .expect("the mock paragraph");
    for code in para.split('`').skip(1).step_by(2) {
        if code.contains('-')
            && !code.contains(' ')
            && !code.contains('.')
            && !names.contains(&code)
        {
            wrong.push(format!(
                "conformance/README.md names the bug `{code}`, which the mock does not have"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "counts in the docs differ from the code (`bash ci/docs-tables.sh` rewrites them):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_verdict_matrix_table_adds_up() {
    let cases = catalog::builtin().expect("built-in cases").len();
    let results = cases + Check::ALL.len() + target::PREFLIGHT_RULES.len();
    let doc = read("docs/conformance.md");
    let begin = doc
        .find("<!-- BEGIN verdict-matrix")
        .expect("the BEGIN marker");
    let end = doc
        .find("<!-- END verdict-matrix -->")
        .expect("the END marker");
    let mut wrong = Vec::new();
    let mut per_server: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut rows = 0;
    for line in doc[begin..end].lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | server | version | variant | passed | failed (M / S / M) | n/a | adjudicated |
        let Ok(passed) = cells[4].parse::<usize>() else {
            continue; // the header row
        };
        rows += 1;
        let failed: usize = cells[5].split_whitespace().next().unwrap().parse().unwrap();
        let na: usize = cells[6].parse().unwrap();
        let adjudicated: usize = cells[7].parse().unwrap();
        if passed + failed + na != results {
            wrong.push(format!(
                "{} {}: {passed} + {failed} + {na} results; h1spec --should gives {results} today ({cases} cases, {} response checks, {} preflight rules)",
                cells[1],
                cells[3],
                Check::ALL.len(),
                target::PREFLIGHT_RULES.len()
            ));
        }
        if failed != adjudicated {
            wrong.push(format!(
                "{} {}: {failed} failed, {adjudicated} adjudicated",
                cells[1], cells[3]
            ));
        }
        let server = cells[1]
            .split_whitespace()
            .next()
            .unwrap()
            .to_ascii_lowercase();
        per_server.entry(server).or_default().push(failed);
    }
    assert!(rows >= 2, "no rows between the verdict-matrix markers");
    for (server, failed) in &per_server {
        let file: toml::Table = read(&format!("ci/matrix/adjudication/{server}.toml"))
            .parse()
            .unwrap_or_else(|e| panic!("{server}.toml: {e}"));
        let entries = |t: &str| {
            file.get(t)
                .and_then(|v| v.as_table())
                .map_or(0, |t| t.len())
        };
        let (fail, differs) = (entries("fail"), entries("variant_differs"));
        let (most, least) = (*failed.iter().max().unwrap(), *failed.iter().min().unwrap());
        // Each [fail] entry fails in some variant, and only the
        // [variant_differs] cases may pass in one of them.
        if most != fail || least + differs < fail {
            wrong.push(format!(
                "{server}: failed {failed:?} in the table; its adjudication file has {fail} failures, {differs} that may differ by variant"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/conformance.md's verdict matrix is stale: run `bash ci/verdict-matrix.sh && bash ci/docs-tables.sh`\n{}",
        wrong.join("\n")
    );
}

/// The first ```rust block after `heading` in a markdown text.
fn rust_block_after(text: &str, heading: &str) -> Option<String> {
    let from = text.find(heading)?;
    let start = text[from..].find("```rust\n")? + from + "```rust\n".len();
    let end = text[start..].find("```")? + start;
    Some(text[start..end].to_string())
}

#[test]
fn the_library_example_in_the_readme_is_the_tested_one() {
    let readme = read("conformance/README.md");
    let shown = rust_block_after(&readme, "## As a library").expect("the README's library example");
    // h1spec::suite's module doc, whose example `cargo test --doc` runs.
    let doc: String = read("conformance/src/suite.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let start = doc.find("```\n").expect("the doctest") + 4;
    let tested = &doc[start..start + doc[start..].find("```").expect("its end")];
    assert_eq!(
        shown, tested,
        "conformance/README.md's library example differs from h1spec::suite's doctest"
    );
}
