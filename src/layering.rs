//! Keeps the README's layering true by reading the source: SQL only in `store/` (and the
//! sandbox's own store files), and no handler in `web/` calling a `store` function that
//! writes. Web may read through `store` (see the README's *How it fits together*).
//!
//! A plain text scan, not a parser: a store function "writes" when its body holds an
//! `INSERT`, `UPDATE`, `DELETE` or `REPLACE` statement or opens a write transaction; a
//! web file "calls" it when the text holds `<module>::<function>(` for a module it imports
//! from `crate::store` (under its own name or an alias) or `store::<module>::<function>(`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without line comments (doc comments name store functions freely).
fn code_of(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("a readable source file")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level functions of a store module and whether each writes.
fn store_writers() -> BTreeMap<String, BTreeSet<String>> {
    let mut writers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(&src().join("store"), &mut files);
    for path in files {
        let module = match path.file_stem().and_then(|s| s.to_str()) {
            Some("mod") => "store".to_owned(),
            Some(name) => name.to_owned(),
            None => continue,
        };
        let code = code_of(&path);
        let code = code.split("#[cfg(test)]").next().unwrap_or("");
        let mut current: Option<String> = None;
        let mut body = String::new();
        let mut flush = |name: Option<String>, body: &str| {
            let writes = [
                "INSERT ",
                "UPDATE ",
                "DELETE ",
                "REPLACE ",
                "BEGIN IMMEDIATE",
            ]
            .iter()
            .any(|w| body.contains(w));
            if let (Some(name), true) = (name, writes) {
                writers.entry(module.clone()).or_default().insert(name);
            }
        };
        for line in code.lines() {
            let head = ["pub async fn ", "pub fn ", "async fn ", "fn "]
                .iter()
                .find_map(|p| line.strip_prefix(p));
            if let Some(rest) = head {
                flush(current.take(), &body);
                body.clear();
                current = Some(rest.split(['(', '<']).next().unwrap_or("").to_owned());
            }
            body.push_str(line);
            body.push('\n');
        }
        flush(current, &body);
    }
    writers
}

/// The names under which a web file imports store modules: name in the file → module.
fn store_imports(code: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    let flat = code.split_whitespace().collect::<Vec<_>>().join(" ");
    for statement in flat.split(';') {
        let Some(rest) = statement.trim().strip_prefix("use crate::store") else {
            continue;
        };
        let rest = rest.replace(' ', "");
        if let Some(list) = rest.strip_prefix("::{").and_then(|r| r.strip_suffix('}')) {
            // `{self, users, shop_list::{self, Cursor}, service_keys as keys}`
            let mut depth = 0;
            let mut item = String::new();
            for c in list.chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        add_item(&item, &mut names);
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        } else if let Some(item) = rest.strip_prefix("::") {
            add_item(item, &mut names);
        }
    }
    names
}

/// One imported item: `users`, `users as u`, `users::{self as u, Row}`, `users::Row`.
fn add_item(item: &str, names: &mut BTreeMap<String, String>) {
    let (module, tail) = match item.split_once("::") {
        Some((m, t)) => (m, Some(t)),
        None => (item, None),
    };
    let (module, alias) = match module.split_once("as") {
        Some((m, a)) if tail.is_none() => (m, a),
        _ => (module, module),
    };
    if module == "self" || module.is_empty() {
        return;
    }
    match tail {
        None => {
            names.insert(alias.to_owned(), module.to_owned());
        }
        Some(tail) => {
            let inner = tail.trim_start_matches('{').trim_end_matches('}');
            for part in inner.split(',') {
                if part == "self" {
                    names.insert(module.to_owned(), module.to_owned());
                } else if let Some(alias) = part.strip_prefix("selfas") {
                    names.insert(alias.to_owned(), module.to_owned());
                }
            }
        }
    }
}

/// Whether `code` calls `path(` with `path` not preceded by an identifier character or `::`
/// of something longer (so `shops::insert(` does not match `api_shops::insert(`).
fn calls(code: &str, path: &str) -> bool {
    let needle = format!("{path}(");
    code.match_indices(&needle).any(|(at, _)| {
        !code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn web_violations(writers: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&src().join("web"), &mut files);
    let mut found = Vec::new();
    for path in files {
        let code = code_of(&path);
        let mut qualifiers: Vec<(String, String)> = store_imports(&code)
            .into_iter()
            .filter(|(name, _)| name != "store")
            .collect();
        for module in writers.keys().filter(|m| *m != "store") {
            qualifiers.push((format!("store::{module}"), module.clone()));
        }
        qualifiers.push(("store".to_owned(), "store".to_owned()));
        for (name, module) in qualifiers {
            for function in writers.get(&module).into_iter().flatten() {
                if calls(&code, &format!("{name}::{function}")) {
                    found.push(format!(
                        "{}: {name}::{function} (a store function that writes: go through a service)",
                        path.display()
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn web_writes_only_through_services() {
    let writers = store_writers();
    // The scan itself works: it knows these writers.
    assert!(
        writers["sessions"].contains("delete_for_user"),
        "{writers:?}"
    );
    assert!(writers["users"].contains("disable"), "{writers:?}");
    assert!(writers["store"].contains("begin_write"), "{writers:?}");
    assert!(!writers["shops"].contains("find_for_owner"), "{writers:?}");
    let found = web_violations(&writers);
    assert!(
        found.is_empty(),
        "web calls store writes:\n{}",
        found.join("\n")
    );
}

/// `domain`, `its` and `sandbox` depend on nothing above them (the README's layering; the
/// workspace split that would make the compiler check it was measured and not kept): each
/// may name only itself, the modules below it and the leaf `i18n` catalogue (the sandbox's
/// own messages and `Lang`).
#[test]
fn the_leaves_depend_on_nothing_above_them() {
    let allowed: [(&str, &[&str]); 3] = [
        ("domain", &["domain"]),
        ("its", &["its", "domain"]),
        ("sandbox", &["sandbox", "domain", "i18n"]),
    ];
    let mut found = Vec::new();
    for (leaf, may_use) in allowed {
        let mut files = Vec::new();
        rust_files(&src().join(leaf), &mut files);
        for path in files {
            let code = code_of(&path);
            for (at, _) in code.match_indices("crate::") {
                let module: String = code[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                // `$crate::` in a macro is the macro's own crate, i.e. this one.
                if !may_use.contains(&module.as_str()) && !code[..at].ends_with('$') {
                    found.push(format!("{}: crate::{module}", path.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "a leaf module uses a module above it:\n{}",
        found.join("\n")
    );
}

#[test]
fn sql_only_in_store() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let store = src().join("store");
    let mut found = Vec::new();
    for path in files {
        let sandbox_store = path.starts_with(src().join("sandbox"))
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains("store"));
        if path.starts_with(&store) || sandbox_store || path.ends_with("layering.rs") {
            continue;
        }
        let code = code_of(&path);
        for marker in [
            "sqlx::query",
            "sqlx::raw_sql",
            "query_as(",
            "query_scalar(",
            "begin_with(",
        ] {
            if code.contains(marker) {
                found.push(format!("{}: {marker}", path.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL outside store/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_reads_imports_and_calls_the_way_the_code_writes_them() {
    let code = "use crate::store::{self, sessions, shop_list::{self, Cursor}};\n\
                use crate::store::service_keys::{self as store_keys, Row};\n\
                use crate::store::users::UserListRow;\n\
                fn f() { store_keys::revoke(db); api_shops::insert(x); }";
    let names = store_imports(code);
    assert_eq!(names.get("sessions").map(String::as_str), Some("sessions"));
    assert_eq!(
        names.get("shop_list").map(String::as_str),
        Some("shop_list")
    );
    assert_eq!(
        names.get("store_keys").map(String::as_str),
        Some("service_keys")
    );
    assert!(!names.contains_key("users"), "{names:?}");
    assert!(calls(code, "store_keys::revoke"));
    assert!(!calls(code, "shops::insert"));
}
