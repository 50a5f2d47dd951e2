//! The shape of `server/src` (issue 13), checked on the source so it
//! stays true as the code changes: every `crate::` import points down (no
//! cycle among modules), no function is longer than 80 lines, and the
//! `# Layout` list in lib.rs names every module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn sources() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "rs") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            // Unit tests may use anything.
            let code = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            out.insert(name, code);
        }
    }
    out
}

/// Modules named after `crate::` (paths and `use crate::{a, b}` groups).
fn imports(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let word: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                deps.insert(word);
            }
        } else {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            deps.insert(word);
        }
    }
    deps.retain(|d| modules.contains(d));
    deps
}

/// A cycle in `graph`, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let at = path.iter().position(|p| p == n).unwrap();
                let mut c = path[at..].to_vec();
                c.push(n.to_string());
                return Some(c);
            }
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for d in &graph[n] {
            if let Some(c) = visit(d, graph, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn every_import_points_down() {
    let src = sources();
    let modules: BTreeSet<String> = src.keys().cloned().collect();
    let graph: BTreeMap<String, BTreeSet<String>> = src
        .iter()
        .map(|(m, code)| {
            let mut deps = imports(code, &modules);
            deps.remove(m);
            (m.clone(), deps)
        })
        .collect();
    assert!(graph["writer"].is_empty(), "the response writer is a leaf");
    if let Some(c) = cycle(&graph) {
        panic!("import cycle among server modules: {}", c.join(" -> "));
    }
}

#[test]
fn cycle_finder_finds_cycles() {
    let g = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert!(cycle(&g(&[("a", "b"), ("b", "c")])).is_none());
    assert_eq!(
        cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")]))
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let mut long = Vec::new();
    for (m, code) in sources() {
        let lines: Vec<&str> = code.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let l = lines[i];
            let t = l.trim_start();
            let indent = &l[..l.len() - t.len()];
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "const fn ",
                "pub(crate) const fn ",
            ]
            .iter()
            .any(|p| t.starts_with(p))
                && !t.ends_with(';');
            if is_fn {
                let close = format!("{indent}}}");
                let end = (i + 1..lines.len())
                    .find(|&j| lines[j] == close)
                    .unwrap_or(lines.len() - 1);
                let n = end - i + 1;
                if n > 80 {
                    long.push(format!("{m}.rs:{} {} ({n} lines)", i + 1, t));
                }
                i = end;
            }
            i += 1;
        }
    }
    assert!(
        long.is_empty(),
        "functions over 80 lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_layout_in_lib_rs_names_every_module() {
    let src = sources();
    let lib = &src["lib"];
    let missing: Vec<&String> = src
        .keys()
        .filter(|m| !["lib", "main"].contains(&m.as_str()))
        .filter(|m| !lib.contains(&format!("`{m}`")))
        .collect();
    assert!(missing.is_empty(), "not in lib.rs `# Layout`: {missing:?}");
}

#[test]
fn the_readme_flag_table_names_every_flag_of_the_help() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_h1serve"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let flags: Vec<&str> = help
        .split_whitespace()
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-'))
        .filter(|w| !["--help", "--version"].contains(w))
        .collect();
    assert!(flags.len() > 20, "{flags:?}");
    let missing: Vec<&&str> = flags
        .iter()
        .filter(|f| !readme.contains(&format!("`{f}")))
        .collect();
    assert!(
        missing.is_empty(),
        "flags missing from server/README.md: {missing:?}"
    );
}
