//! The built-in cases (compiled in) and user case directories.

use std::collections::HashSet;
use std::path::Path;

use crate::case::{self, Case};

/// The built-in case files, one per RFC area, in report order.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "request-line.toml",
        include_str!("../cases/request-line.toml"),
    ),
    ("fields.toml", include_str!("../cases/fields.toml")),
    ("host.toml", include_str!("../cases/host.toml")),
    (
        "content-length.toml",
        include_str!("../cases/content-length.toml"),
    ),
    (
        "transfer-encoding.toml",
        include_str!("../cases/transfer-encoding.toml"),
    ),
    ("chunked.toml", include_str!("../cases/chunked.toml")),
    ("smuggling.toml", include_str!("../cases/smuggling.toml")),
    (
        "persistence.toml",
        include_str!("../cases/persistence.toml"),
    ),
    ("pipelining.toml", include_str!("../cases/pipelining.toml")),
    ("bodiless.toml", include_str!("../cases/bodiless.toml")),
    ("expect.toml", include_str!("../cases/expect.toml")),
    ("limits.toml", include_str!("../cases/limits.toml")),
    ("fragmented.toml", include_str!("../cases/fragmented.toml")),
    ("methods.toml", include_str!("../cases/methods.toml")),
    ("upgrade.toml", include_str!("../cases/upgrade.toml")),
    (
        "conditional.toml",
        include_str!("../cases/conditional.toml"),
    ),
];

/// Every built-in case.
pub fn builtin() -> Result<Vec<Case>, String> {
    let mut all = Vec::new();
    for (name, text) in BUILTIN {
        all.extend(case::parse_file(text, name)?);
    }
    check_unique(&all)?;
    Ok(all)
}

/// The cases of every `*.toml` file in `dir`, in file-name order.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        all.extend(case::parse_file(&text, &f.display().to_string())?);
    }
    Ok(all)
}

/// Fails on a repeated id.
pub fn check_unique(cases: &[Case]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for c in cases {
        if !seen.insert(c.id.as_str()) {
            return Err(format!("duplicate case id {}", c.id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A case's level must be the level of the sentence it cites: a MUST or
    /// SHOULD case's requirement word (RFC 2119, negations and
    /// REQUIRED / RECOMMENDED included) appears in its `rfc` text, so a case
    /// that cites "SHOULD respond with 400" is a SHOULD case, however much we
    /// would like it to be a MUST. A MAY case cites a MAY / OPTIONAL sentence,
    /// or one with no requirement word at all (a permission or a definition
    /// in prose), never a stronger one.
    #[test]
    fn every_level_appears_in_its_cited_sentence() {
        const STRONG: &[&str] = &["MUST", "REQUIRED", "SHALL", "SHOULD", "RECOMMENDED"];
        let mut wrong = Vec::new();
        for case in builtin().unwrap() {
            let has = |words: &[&str]| words.iter().any(|w| case.rfc.contains(w));
            let ok = match case.level {
                crate::case::Level::Must => has(&["MUST", "REQUIRED", "SHALL"]),
                crate::case::Level::Should => has(&["SHOULD", "RECOMMENDED"]),
                crate::case::Level::May => has(&["MAY", "OPTIONAL"]) || !has(STRONG),
            };
            if !ok {
                wrong.push(format!("{} [{:?}]: {}", case.id, case.level, case.rfc));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} cases cite a sentence without their level word:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
}
