//! The shape of `conformance/src`, checked on the source so it stays true as
//! the code changes (as `server/tests/layout.rs` does for the server): no
//! function is longer than 80 lines, no import cycle among modules, and the
//! `# Layout` list in lib.rs names every top-level module.
//!
//! Modules are found the way rustc finds them: from `lib.rs` (and, for the
//! binary, `main.rs`) through every `mod name;` to `name.rs` or
//! `name/mod.rs`, so the nested folders `fuzz/` and `fuzz/oracle/` are
//! walked too. Test code is left out: `#[cfg(test)]` items (the `tests`
//! modules, test-only helpers) and `#[cfg(test)] mod name;` files.
//!
//! Cycles are looked for one folder at a time. Inside a folder, the nodes
//! are its child modules (a child folder counts as one node, with every
//! import of every file in it); the folder's own `mod.rs` (or `lib.rs`,
//! `main.rs`) is its face, which declares the children and may share types
//! with them, as lib.rs does for the crate, so it is not a node there. Its
//! imports of modules outside the folder count for the folder one level up.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path below the crate root: `["fuzz", "oracle", "judge"]`; the
/// root itself is `[]`.
type ModPath = Vec<String>;

/// One source file of a crate.
struct Module {
    /// Where it is, for messages.
    file: PathBuf,
    /// The code, with comment lines and test items blanked.
    code: String,
    /// The modules it declares with `mod name;`, outside test code.
    children: Vec<String>,
}

/// The modules of the crate rooted at `src/<root>`, by module path.
fn crate_modules(root: &str) -> BTreeMap<ModPath, Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&src, &src.join(root), Vec::new(), &mut out);
    out
}

/// Reads `file` as module `path` and every module it declares.
fn walk(src: &Path, file: &Path, path: ModPath, out: &mut BTreeMap<ModPath, Module>) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
    let code = without_tests(&without_comment_lines(&text));
    let children = declared_modules(&code);
    // A root file (lib.rs, main.rs) and a mod.rs keep their children beside
    // them; `a.rs` keeps them in `a/`.
    let dir = if path.is_empty() || file.ends_with("mod.rs") {
        file.parent().unwrap().to_path_buf()
    } else {
        file.with_extension("")
    };
    for c in &children {
        let flat = dir.join(format!("{c}.rs"));
        let child_file = if flat.exists() {
            flat
        } else {
            dir.join(c).join("mod.rs")
        };
        let mut child = path.clone();
        child.push(c.clone());
        walk(src, &child_file, child, out);
    }
    out.insert(
        path,
        Module {
            file: file.strip_prefix(src).unwrap().to_path_buf(),
            code,
            children,
        },
    );
}

/// `code` with the lines that are only a comment (`//`, `///`, `//!`)
/// blanked: a path named in prose is no import. Blanked, not removed, so
/// line numbers still point into the file.
fn without_comment_lines(code: &str) -> String {
    code.lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                "\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// `code` with every item marked `#[cfg(test)]` blanked: a `mod tests { … }`,
/// a test-only function, or a `mod name;` line.
fn without_tests(code: &str) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let mut keep = String::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "#[cfg(test)]" {
            // The item starts after any blank lines and further attributes.
            let start = (i + 1..lines.len())
                .find(|&j| {
                    let t = lines[j].trim();
                    !t.is_empty() && !t.starts_with("#[")
                })
                .unwrap_or(lines.len() - 1);
            let end = item_end(&lines, start);
            keep.push_str(&"\n".repeat(end - i + 1));
            i = end + 1;
            continue;
        }
        keep.push_str(lines[i]);
        keep.push('\n');
        i += 1;
    }
    keep
}

/// The index of the last line of the item that starts on line `start`: the
/// first line that is its own indentation followed by `}` (rustfmt's
/// layout), or its first line when that ends with `;` or closes every brace
/// it opens.
fn item_end(lines: &[&str], start: usize) -> usize {
    let first = lines[start];
    let opens = first.matches('{').count();
    if first.trim_end().ends_with(';') || (opens > 0 && opens == first.matches('}').count()) {
        return start;
    }
    let t = first.trim_start();
    let close = format!("{}}}", &first[..first.len() - t.len()]);
    (start + 1..lines.len())
        .find(|&j| lines[j].trim_end() == close)
        .unwrap_or(lines.len() - 1)
}

/// The names in `mod name;` / `pub mod name;` / `pub(crate) mod name;` lines.
fn declared_modules(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|l| {
            let t = l.trim();
            let t = t.strip_prefix("pub ").unwrap_or(t);
            let t = strip_restricted_pub(t);
            t.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(|n| n.trim().to_string())
        })
        .collect()
}

/// `t` without a leading `pub(…) `.
fn strip_restricted_pub(t: &str) -> &str {
    if let Some(rest) = t.strip_prefix("pub(") {
        if let Some(close) = rest.find(") ") {
            return &rest[close + 2..];
        }
    }
    t
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path written in `code` that starts with an identifier and goes on
/// with `::`, as segments, `{a, b::c}` groups spelled out (nested ones
/// too): `use crate::{a, b::{c, d}}` gives `crate::a`, `crate::b::c`,
/// `crate::b::d`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        let starts = is_ident(c)
            && !c.is_ascii_digit()
            && (i == 0 || !(is_ident(b[i - 1] as char) || b[i - 1] == b':'));
        if starts {
            let (found, end) = path_tree(code, i);
            out.extend(found.into_iter().filter(|p| p.len() > 1));
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The paths of the use-tree starting at byte `i` of `code`, and where it
/// ends.
fn path_tree(code: &str, mut i: usize) -> (Vec<Vec<String>>, usize) {
    let b = code.as_bytes();
    let mut segs: Vec<String> = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() && !segs.is_empty() {
            i += 1;
        }
        if i < b.len() && b[i] == b'{' && !segs.is_empty() {
            // A group: each comma-separated member is a tree of its own.
            let mut all = Vec::new();
            i += 1;
            loop {
                while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'}' {
                    break;
                }
                if !is_ident(b[i] as char) {
                    // `*` or anything else: the group's prefix only.
                    i += 1;
                    continue;
                }
                let (members, end) = path_tree(code, i);
                for m in members {
                    let mut p = segs.clone();
                    p.extend(m.into_iter().filter(|s| s != "self"));
                    all.push(p);
                }
                // Skip `as name` and the like up to the next member.
                i = end;
                while i < b.len() && b[i] != b',' && b[i] != b'}' {
                    i += 1;
                }
            }
            return (all, (i + 1).min(b.len()));
        }
        let start = i;
        while i < b.len() && is_ident(b[i] as char) {
            i += 1;
        }
        if i == start {
            return (vec![segs], i);
        }
        segs.push(code[start..i].to_string());
        if code[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![segs], i);
        }
    }
}

/// The modules (of `modules`) module `me` imports or names in a path:
/// `crate::…`, `self::…`, `super::…`, and `child::…` for a module `me`
/// declares. Each path stands for the deepest module it reaches.
fn imports(me: &ModPath, modules: &BTreeMap<ModPath, Module>) -> BTreeSet<ModPath> {
    let module = &modules[me];
    let mut deps = BTreeSet::new();
    for p in paths(&module.code) {
        let mut at: ModPath = match p[0].as_str() {
            "crate" => Vec::new(),
            "self" | "super" => me.clone(),
            child if module.children.iter().any(|c| c == child) => me.clone(),
            _ => continue,
        };
        let mut rest = &p[..];
        if rest[0] == "crate" || rest[0] == "self" {
            rest = &rest[1..];
        }
        while rest.first().is_some_and(|s| s == "super") {
            at.pop();
            rest = &rest[1..];
        }
        let mut deepest = at.clone();
        for s in rest {
            at.push(s.clone());
            if modules.contains_key(&at) {
                deepest = at.clone();
            } else {
                break;
            }
        }
        if &deepest != me {
            deps.insert(deepest);
        }
    }
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

/// The import graph among the children of `folder`: child `a` depends on
/// child `b` when any module in `a` (or below it) imports one in `b` (or
/// below it). The folder's face and imports leaving the folder are not
/// part of it.
fn folder_graph(
    folder: &ModPath,
    modules: &BTreeMap<ModPath, Module>,
) -> BTreeMap<String, BTreeSet<String>> {
    let child_of = |m: &ModPath| -> Option<String> {
        (m.len() > folder.len() && m.starts_with(folder)).then(|| m[folder.len()].clone())
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = modules[folder]
        .children
        .iter()
        .map(|c| (c.clone(), BTreeSet::new()))
        .collect();
    for m in modules.keys() {
        let Some(from) = child_of(m) else { continue };
        for d in imports(m, modules) {
            if let Some(to) = child_of(&d) {
                if to != from {
                    graph.get_mut(&from).unwrap().insert(to);
                }
            }
        }
    }
    graph
}

/// Every import cycle of a crate, one line per folder that has one.
fn cycles(modules: &BTreeMap<ModPath, Module>) -> Vec<String> {
    let mut found = Vec::new();
    for (folder, m) in modules {
        if m.children.is_empty() {
            continue;
        }
        if let Some(c) = cycle(&folder_graph(folder, modules)) {
            found.push(format!("in {}: {}", m.file.display(), c.join(" -> ")));
        }
    }
    found
}

#[test]
fn every_import_points_down() {
    let lib = crate_modules("lib.rs");
    assert!(lib.contains_key(&vec!["fuzz".to_string(), "oracle".to_string()]));
    assert!(
        imports(&vec!["case".to_string()], &lib).is_empty(),
        "the case format is a leaf"
    );
    let mut found = cycles(&lib);
    found.extend(cycles(&crate_modules("main.rs")));
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
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
fn paths_spell_out_groups_and_resolve_relative_imports() {
    let p = |s: &str| s.split("::").map(String::from).collect::<Vec<_>>();
    assert_eq!(
        paths("use crate::{a, b::{c, d as e}, f::*};\nlet x = super::g::h(y::z);"),
        vec![
            p("crate::a"),
            p("crate::b::c"),
            p("crate::b::d"),
            p("crate::f"),
            p("super::g::h"),
            p("y::z")
        ]
    );
    assert_eq!(
        paths("use super::oracle::{self, Class};")[0],
        p("super::oracle")
    );

    let m = |code: &str, children: &[&str]| Module {
        file: PathBuf::new(),
        code: code.to_string(),
        children: children.iter().map(|c| c.to_string()).collect(),
    };
    let mut modules = BTreeMap::new();
    modules.insert(p("top"), m("", &[]));
    modules.insert(p("f"), m("use g::X;\nuse crate::top::Y;", &["g"]));
    modules.insert(p("f::g"), m("use super::h::Z; std::mem::swap", &[]));
    modules.insert(p("f::h"), m("", &[]));
    let deps = |me: &str| imports(&p(me), &modules);
    assert_eq!(deps("f"), [p("f::g"), p("top")].into());
    assert_eq!(deps("f::g"), [p("f::h")].into());
}

#[test]
fn cycles_are_found_between_modules_and_between_folders() {
    let p = |s: &str| -> ModPath {
        s.split("::")
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    };
    let m = |file: &str, code: &str, children: &[&str]| Module {
        file: PathBuf::from(file),
        code: code.to_string(),
        children: children.iter().map(|c| c.to_string()).collect(),
    };
    let crate_with = |runner: &str| {
        let mut modules = BTreeMap::new();
        modules.insert(p(""), m("lib.rs", "", &["fuzz", "replay", "runner"]));
        modules.insert(
            p("replay"),
            m("replay.rs", "use crate::runner::Verdict;", &[]),
        );
        modules.insert(p("runner"), m("runner.rs", runner, &[]));
        // A folder's face and its children may use each other.
        modules.insert(
            p("fuzz"),
            m(
                "fuzz/mod.rs",
                "use out::write; use crate::replay::x;",
                &["oracle", "out"],
            ),
        );
        modules.insert(p("fuzz::out"), m("fuzz/out.rs", "use super::Finding;", &[]));
        modules.insert(p("fuzz::oracle"), m("fuzz/oracle/mod.rs", "", &["judge"]));
        modules.insert(
            p("fuzz::oracle::judge"),
            m("fuzz/oracle/judge.rs", "use super::Verdict;", &[]),
        );
        modules
    };
    assert_eq!(cycles(&crate_with("")), Vec::<String>::new());
    assert_eq!(
        cycles(&crate_with("crate::replay::judge();")),
        ["in lib.rs: replay -> runner -> replay"]
    );
    // runner -> fuzz (through a module deep inside it) -> replay -> runner.
    assert_eq!(
        cycles(&crate_with("use crate::fuzz::oracle::judge;")),
        ["in lib.rs: fuzz -> replay -> runner -> fuzz"]
    );
}

#[test]
fn test_code_and_comment_lines_are_left_out() {
    let code = "fn a() {}\n/// crate::x\n#[cfg(test)]\nmod tests {\n    fn b() {}\n}\n#[cfg(test)]\nmod recorded;\nfn c() {}\n";
    assert_eq!(
        without_tests(&without_comment_lines(code)),
        "fn a() {}\n\n\n\n\n\n\n\nfn c() {}\n"
    );
}

/// Each function longer than 80 lines in `code`, as `line: signature (n
/// lines)`: from its `fn` line to its closing brace, which rustfmt puts at
/// the `fn` line's indentation.
fn long_functions(code: &str) -> Vec<String> {
    let lines: Vec<&str> = code.lines().collect();
    let mut long = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if is_fn_line(lines[i]) {
            // A multi-line signature ends at the line that opens the body
            // (or at `;`, a declaration without one).
            let Some(body) = (i..lines.len()).find(|&j| {
                let t = lines[j].trim_end();
                t.ends_with('{') || t.ends_with(';') || t.ends_with('}')
            }) else {
                break;
            };
            if lines[body].trim_end().ends_with(';') {
                i = body + 1;
                continue;
            }
            let end = item_end(&lines, i);
            let n = end - i + 1;
            if n > 80 {
                long.push(format!("{}: {} ({n} lines)", i + 1, lines[i].trim()));
            }
            i = end;
        }
        i += 1;
    }
    long
}

/// Whether `line` starts a function: `fn`, after any of `pub`, `pub(…)`,
/// `const`, `async`, `unsafe`, `extern "C"`.
fn is_fn_line(line: &str) -> bool {
    let mut t = line.trim_start();
    t = t.strip_prefix("pub ").unwrap_or(t);
    t = strip_restricted_pub(t);
    for q in ["const ", "async ", "unsafe ", "extern \"C\" "] {
        t = t.strip_prefix(q).unwrap_or(t);
    }
    t.starts_with("fn ")
}

#[test]
fn function_lengths_are_counted_from_fn_to_closing_brace() {
    let body = "        x();\n".repeat(79);
    let long = format!("impl A {{\n    pub(crate) async fn f(\n        a: u8,\n    ) -> u8 {{\n{body}    }}\n    fn g() {{ 1 }}\n}}\n");
    let found = long_functions(&long);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("2: pub(crate) async fn f("),
        "{found:?}"
    );
    assert!(found[0].ends_with("(83 lines)"), "{found:?}");
    let short = format!("fn f() {{\n{}}}\n", "    x();\n".repeat(78));
    assert!(long_functions(&short).is_empty());
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let mut long = Vec::new();
    for modules in [crate_modules("lib.rs"), crate_modules("main.rs")] {
        for m in modules.values() {
            for f in long_functions(&m.code) {
                long.push(format!("{}:{f}", m.file.display()));
            }
        }
    }
    long.sort();
    long.dedup();
    assert!(
        long.is_empty(),
        "functions over 80 lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_layout_in_lib_rs_names_every_module() {
    let lib = crate_modules("lib.rs");
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let missing: Vec<&String> = lib[&Vec::new()]
        .children
        .iter()
        .filter(|m| !text.contains(&format!("`{m}`")))
        .collect();
    assert!(missing.is_empty(), "not in lib.rs `# Layout`: {missing:?}");
}
