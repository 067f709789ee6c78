//! The manifests under `deploy/` set only settings that `ercs` has: every
//! `ERCS_…` variable they give a value is one that `ercs serve --help` or
//! `ercs seed --help` names (their schemas are checked by `deploy/check`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Read by the log filter, not by clap.
const NOT_FLAGS: [&str; 1] = ["ERCS_LOG"];

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn manifests(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            manifests(&path, found);
        } else if path
            .extension()
            .is_some_and(|e| ["yml", "yaml", "service"].contains(&e.to_str().unwrap()))
            || path.file_name().is_some_and(|n| n == "Dockerfile")
        {
            found.push(path);
        }
    }
}

/// The `ERCS_…` names `text` sets: not those only interpolated (`${ERCS_X}`),
/// which are compose's own variables.
fn set_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(found) = text[at..].find("ERCS_") {
        let start = at + found;
        let end = start
            + text[start..]
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(text.len() - start);
        let interpolated = start >= 2 && &bytes[start - 2..start] == b"${";
        let word_start = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric());
        if !interpolated && word_start {
            names.push(text[start..end].to_owned());
        }
        at = end;
    }
    names
}

fn help(command: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_ercs"))
        .args([command, "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_setting_a_manifest_gives_is_one_ercs_has() {
    let known = format!("{}{}", help("serve"), help("seed"));
    let mut files = Vec::new();
    manifests(&deploy_dir(), &mut files);
    assert!(files.len() >= 6, "{files:?}");
    let mut unknown = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for name in set_names(&text) {
            checked += 1;
            if !NOT_FLAGS.contains(&name.as_str()) && !known.contains(&format!("[env: {name}=")) {
                unknown.push(format!("{}: {name}", file.display()));
            }
        }
    }
    assert!(checked > 20, "only {checked} settings found");
    assert!(
        unknown.is_empty(),
        "settings ercs does not have: {unknown:?}"
    );
}

#[test]
fn the_name_scan_sees_settings_and_skips_compose_interpolation() {
    assert_eq!(
        set_names("ERCS_MODE: production\n  X: ${ERCS_DB_PASSWORD:?}\nEnvironment=ERCS_LISTEN=0"),
        ["ERCS_MODE", "ERCS_LISTEN"]
    );
}

/// `text` with each compose interpolation (`${NAME:?why}`) replaced by `x`.
fn interpolated(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push('x');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_store_a_compose_file_names_is_one_ercs_accepts() {
    let mut checked = 0;
    for file in ["compose/postgres.yml", "compose/kurrentdb.yml"] {
        let text = std::fs::read_to_string(deploy_dir().join(file)).unwrap();
        for line in text
            .lines()
            .filter(|l| l.trim_start().starts_with("ERCS_STORE:"))
        {
            let value = line.split_once(':').unwrap().1.trim();
            // `&name value` anchors a value; `*name` repeats one checked already.
            let value = match value.strip_prefix('&') {
                Some(anchored) => anchored.split_once(' ').unwrap().1,
                None if value.starts_with('*') => continue,
                None => value,
            };
            let store = interpolated(value);
            store
                .parse::<ercs_server::cli::Store>()
                .unwrap_or_else(|e| panic!("{file}: ERCS_STORE {store}: {e}"));
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked}");
}
