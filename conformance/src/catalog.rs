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
