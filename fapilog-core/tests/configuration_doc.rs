//! `docs/configuration.md` lists every setting with its type, default and variable.

use fapilog_core::config::Config;

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/configuration.md");
    std::fs::read_to_string(path).expect("docs/configuration.md")
}

#[test]
fn every_setting_has_a_row_with_type_default_and_variable() {
    let doc = doc();
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
    let mut missing = Vec::new();
    for s in Config::settings() {
        let cells = [
            format!("| `{}` |", s.path),
            format!("| {} |", s.kind),
            format!("| `{}` |", s.default),
            format!("| `{}` |", s.env),
        ];
        let found = rows
            .iter()
            .any(|row| cells.iter().all(|cell| row.contains(cell.as_str())));
        if !found {
            missing.push(format!(
                "| `{}` | {} | `{}` | `{}` | |",
                s.path, s.kind, s.default, s.env
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/configuration.md lacks (or has stale) rows for:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_doc_lists_no_setting_that_does_not_exist() {
    let known: Vec<String> = Config::settings().into_iter().map(|s| s.path).collect();
    for row in doc().lines().filter(|l| l.starts_with("| `")) {
        let path = row
            .trim_start_matches("| `")
            .split('`')
            .next()
            .unwrap_or_default();
        assert!(
            known.iter().any(|k| k == path),
            "documented but unknown: {path}"
        );
    }
}

#[test]
fn the_example_file_in_the_doc_loads() {
    let doc = doc();
    let start = doc.find("```toml\n").expect("an example file") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("closing fence");
    let config = Config::from_toml_str(&doc[start..end]).expect("the example parses");
    config.validate().expect("the example is valid");
}
