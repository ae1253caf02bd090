//! The front pages keep up with the tree: README.md's folder table names every crate of the
//! workspace and every top-level module of the server; ARCHITECTURE.md's code map names every
//! top-level module of every crate, and every path it mentions exists.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the shared crate sits in the workspace folder")
        .to_path_buf()
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// The `members = [...]` of the workspace's Cargo.toml.
fn members() -> Vec<String> {
    let manifest = read("Cargo.toml");
    let line = manifest
        .lines()
        .find(|line| line.trim_start().starts_with("members"))
        .expect("the workspace Cargo.toml lists its members");
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The modules a crate root declares, but for test-only ones.
fn top_level_modules(crate_dir: &str) -> Vec<String> {
    let root_file = ["src/lib.rs", "src/main.rs"]
        .iter()
        .map(|file| format!("{crate_dir}/{file}"))
        .find(|file| root().join(file).exists())
        .unwrap_or_else(|| panic!("{crate_dir} has neither src/lib.rs nor src/main.rs"));
    let source = read(&root_file);
    let mut modules = Vec::new();
    let mut test_only = false;
    for line in source.lines().map(str::trim) {
        let declared = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("pub(crate) mod "))
            .or_else(|| line.strip_prefix("mod "))
            .and_then(|rest| rest.strip_suffix(';'));
        if let Some(name) = declared
            && !test_only
        {
            modules.push(name.to_string());
        }
        test_only = line == "#[cfg(test)]";
    }
    modules
}

/// The rows of README.md's folder table, by the text of their first cell.
fn readme_folder_rows() -> Vec<(String, String)> {
    let readme = read("README.md");
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|line| !line.starts_with("| folder |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .collect();
    assert!(
        !table.is_empty(),
        "README.md has no `| folder | what |` table"
    );
    table
        .iter()
        .filter_map(|row| {
            let mut cells = row.trim_matches('|').splitn(2, '|');
            Some((cells.next()?.to_string(), cells.next()?.to_string()))
        })
        .collect()
}

fn ticked(name: &str) -> String {
    format!("`{name}`")
}

#[test]
fn the_readme_folder_table_names_every_crate_and_server_module() {
    let rows = readme_folder_rows();
    let row_of = |folder: &str| {
        rows.iter()
            .find(|(first, _)| first.contains(&ticked(&format!("{folder}/"))))
            .map(|(_, what)| what.clone())
    };
    let missing_crates: Vec<String> = members()
        .into_iter()
        .filter(|member| row_of(member).is_none())
        .collect();
    assert!(
        missing_crates.is_empty(),
        "README.md's folder table has no row for {missing_crates:?}"
    );
    let server = row_of("server").unwrap_or_default();
    let missing_modules: Vec<String> = top_level_modules("server")
        .into_iter()
        .filter(|module| !server.contains(&ticked(module)))
        .collect();
    assert!(
        missing_modules.is_empty(),
        "README.md's `server/` row does not name the modules {missing_modules:?}"
    );
}

#[test]
fn the_architecture_code_map_names_every_top_level_module() {
    let architecture = read("ARCHITECTURE.md");
    let code_map: String = architecture
        .split("\n## ")
        .find(|section| section.starts_with("Code map"))
        .expect("ARCHITECTURE.md has a `## Code map` section")
        .to_string();
    let mut missing = Vec::new();
    for member in members() {
        if !code_map.contains(&ticked(&format!("{member}/"))) {
            missing.push(format!("{member}/"));
        }
        for module in top_level_modules(&member) {
            if !code_map.contains(&ticked(&module)) {
                missing.push(format!("{member}: {module}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map does not name {missing:?}"
    );
}

#[test]
fn every_path_architecture_mentions_exists() {
    let architecture = read("ARCHITECTURE.md");
    let missing: Vec<&str> = architecture
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| {
            !span.contains(' ')
                && !span.starts_with('/')
                && span.contains('/')
                && (span.ends_with(".rs") || span.ends_with(".md") || span.ends_with('/'))
        })
        .filter(|path| !root().join(path).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

/// The environment variables the binaries read through clap (`env = "NAME"`) in the `.rs` files
/// under `dir`, recursively.
fn clap_env_names(dir: &Path, names: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.map(|entry| entry.expect("a directory entry").path()) {
        if entry.is_dir() {
            clap_env_names(&entry, names);
            continue;
        }
        if entry.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&entry).expect("a source file");
        for (at, _) in source.match_indices("env = \"") {
            // `env = "..."`, not `secret_env = "..."` in a channels file written by a test.
            if source[..at].ends_with(|c: char| c == '_' || c.is_alphanumeric()) {
                continue;
            }
            let rest = &source[at + "env = \"".len()..];
            let name = &rest[..rest.find('"').expect("a closing quote")];
            names.push(name.to_string());
        }
    }
}

#[test]
fn the_readme_names_every_environment_variable_the_binaries_read() {
    let readme = read("README.md");
    // The configuration tables' rows: a variable named only in prose is not documented.
    let rows: String = readme
        .lines()
        .filter(|line| line.starts_with("| "))
        .collect::<Vec<_>>()
        .join("\n");
    let mut names = Vec::new();
    for dir in ["server/src", "tui/src"] {
        clap_env_names(&root().join(dir), &mut names);
    }
    assert!(names.len() > 30, "found only {names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| {
            // Every secret `X` may come from `X_FILE`, which the README says once for all.
            let documented = name.strip_suffix("_FILE").unwrap_or(name);
            !rows.contains(&format!("`{documented}`"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "README.md's configuration tables do not name {missing:?}"
    );
}
