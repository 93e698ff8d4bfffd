//! The README's main command, `cargo run --release --example demo`: the very
//! same code, run in a child process. It exits 0; its stdout holds the JSON
//! log lines, then a summary whose figures agree with those lines.

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;
mod support;

use std::time::Duration;

use support::child;

const NAME: &str = "the_demo_drives_itself_and_its_summary_matches_its_logs";

/// The number after `key` (and spaces) in `line`.
fn figure(line: &str, key: &str) -> u64 {
    let at = line
        .find(key)
        .unwrap_or_else(|| panic!("{key} in {line:?}"));
    line[at + key.len()..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("{key} in {line:?}"))
}

/// The number just before `unit` in `line` ("2 5xx").
fn figure_before(line: &str, unit: &str) -> u64 {
    let head = &line[..line
        .find(unit)
        .unwrap_or_else(|| panic!("{unit} in {line:?}"))];
    let start = head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    head[start..]
        .parse()
        .unwrap_or_else(|_| panic!("{unit} in {line:?}"))
}

fn summary_line<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{stdout}"))
}

#[test]
fn the_demo_drives_itself_and_its_summary_matches_its_logs() {
    if child::is_child(NAME) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        if let Err(e) = runtime.block_on(demo::run_demo()) {
            eprintln!("demo failed: {e}");
            std::process::exit(1);
        }
        return;
    }
    let run = child::wait_bounded(
        child::command(NAME).spawn().unwrap(),
        Duration::from_secs(120),
    );
    assert!(run.status.success(), "{run:?}");
    let events = run.json_lines();

    let sent = summary_line(&run.stdout, "requests sent");
    let handled = summary_line(&run.stdout, "requests handled");
    let counts = summary_line(&run.stdout, "events ");
    let drain = summary_line(&run.stdout, "drain ");
    assert!(counts.ends_with("balanced: true"), "{counts}");
    assert!(!drain.contains("deadline missed"), "{drain}");
    // Every mix of the issue: 4xx, 5xx (one a panic), never- and always-paths, hostile IDs.
    assert!(figure(sent, "requests sent") >= 20, "{sent}");
    assert!(
        figure_before(sent, " 4xx") >= 1 && figure_before(sent, " 5xx") >= 2,
        "{sent}"
    );
    assert!(figure(handled, "excluded") >= 1, "{handled}");
    let replaced = summary_line(&run.stdout, "hostile ids replaced");
    assert!(
        figure(replaced, "replaced") >= 1 && figure(replaced, "caught") == 1,
        "{replaced}"
    );
    // The written events are exactly the JSON lines printed.
    let written = figure(counts, "written");
    assert_eq!(written as usize, events.len(), "{counts}");
    assert_eq!(figure(drain, "written"), written, "{drain}");
    assert_eq!(
        figure(counts, "submitted"),
        written + figure(counts, "dropped") + figure(counts, "failed"),
        "{counts}"
    );
    // One access event per request the app handled, kept or promoted ones written.
    let access = events
        .iter()
        .filter(|e| e["target"] == "fapilog_axum::access")
        .count() as u64;
    assert_eq!(access, figure(handled, "kept"), "{handled}");
    // A failed request is always written: kept by its hash, or promoted.
    let failed = events
        .iter()
        .filter(|e| e["target"] == "fapilog_axum::access" && e["status"].as_u64() >= Some(500))
        .count() as u64;
    assert_eq!(failed, figure_before(sent, " 5xx"), "{sent}");
    // The three failures go out with IDs unsampled at rate 0.5: each is
    // promoted, and keeps its INFO events too.
    assert_eq!(figure(handled, "promoted"), 3, "{handled}");
    for id in ["demo-inventory-1", "demo-cache-1", "demo-pricing-3"] {
        let kept: Vec<_> = events
            .iter()
            .filter(|e| e["correlation_id"] == id)
            .collect();
        assert!(kept.iter().all(|e| e["promoted"] == true), "{id}: {kept:?}");
        assert!(kept.iter().any(|e| e["level"] == "INFO"), "{id}: {kept:?}");
    }
}
