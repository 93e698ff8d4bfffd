//! Disk faults under a running pipeline: a full disk (`/dev/full`), a
//! directory that refuses the file, and a log directory deleted while
//! running. No panic and no failed request; every lost event is counted; the
//! fault is reported on stderr at most once a second with a running count;
//! the other sinks are unaffected; writing resumes once the fault clears.

mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use fapilog::format::JsonFormat;
use fapilog::pipeline::{MetricsSnapshot, Pipeline};
use fapilog::sink::FileSink;
use fapilog::{info, Logger};
use fapilog_testing::{MemorySink, TestApp};
use support::child;

const FULL_DISK: &str = "/dev/full";

/// Logs `n` events tagged `round`, then flushes (so they are one or more writes of their own).
fn round(pipeline: &Pipeline, round: &str, n: u64) {
    let log = pipeline.logger();
    for i in 0..n {
        info!(log, "event", round, i);
    }
    assert!(pipeline.flush(), "flush of round {round}");
}

/// The `round` of every line of the file at `path`, checking each line is whole JSON.
fn rounds_in(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("torn line {line:?}: {e}"));
            v["round"].as_str().expect("round").to_owned()
        })
        .collect()
}

fn rounds(memory: &MemorySink) -> Vec<String> {
    memory
        .events()
        .iter()
        .map(|e| {
            e.field("round")
                .and_then(|v| v.as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// A file sink, and a healthy memory sink beside it.
fn file_and_memory(file: FileSink) -> (Pipeline, fapilog::pipeline::WriterGuard, MemorySink) {
    let memory = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(file, JsonFormat::new())
        .sink(memory.clone(), JsonFormat::new())
        .build()
        .unwrap();
    (pipeline, guard, memory)
}

fn assert_file_faults(m: &MetricsSnapshot, failed: u64) {
    assert_eq!(m.failed, failed, "{m:?}");
    assert_eq!(m.sinks[0].events_failed, failed);
    assert!(m.sinks[0].errors >= 1, "{m:?}");
    assert_eq!(m.sinks[0].panics, 0);
    assert_eq!(
        m.sinks[1].errors + m.sinks[1].panics + m.sinks[1].events_failed,
        0
    );
    assert!(m.is_balanced(), "{m:?}");
}

#[test]
fn a_full_disk_fails_the_file_sink_only() {
    let (pipeline, guard, memory) = file_and_memory(FileSink::new(FULL_DISK).unwrap());
    for r in ["a", "b", "c", "d", "e"] {
        round(&pipeline, r, 10);
    }
    let report = guard.shutdown(Duration::from_secs(10));
    assert!(!report.timed_out);
    let m = &report.metrics;
    assert_eq!(m.sinks[0].name, format!("file:{FULL_DISK}"));
    assert!(
        m.sinks[0].errors >= 5,
        "one failed write per round at least: {m:?}"
    );
    assert_eq!((m.submitted, m.written), (50, 0));
    assert_file_faults(m, 50);
    assert_eq!(memory.count(), 50);
}

async fn handler(log: Logger) -> &'static str {
    info!(log, "handling", round = "request");
    "ok"
}

#[tokio::test]
async fn a_full_disk_fails_no_request() {
    let app = TestApp::builder(Router::new().route("/", get(handler)))
        .pipeline(|b| b.sink(FileSink::new(FULL_DISK).unwrap(), JsonFormat::new()))
        .build()
        .unwrap();
    for _ in 0..20 {
        let res = app.get("/").await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), "ok");
    }
    let logs = app.flush_async().await.unwrap();
    // "handling" and the access event per request reach the healthy capture sink...
    assert_eq!(logs.count(), 40);
    let m = app.metrics();
    // ...and all of them fail on the full disk, counted.
    let full = m
        .sinks
        .iter()
        .find(|s| s.name.ends_with(FULL_DISK))
        .unwrap();
    assert_eq!(full.events_failed, 40);
    assert!(full.errors >= 1);
    assert_eq!((m.written, m.failed), (0, 40));
}

/// The child's part: fail writes on a full disk for a little over two seconds
/// (measured from the first fault), then print what it counted.
fn full_disk_child() {
    let started = Instant::now();
    let (pipeline, guard) = Pipeline::builder()
        .sink(FileSink::new(FULL_DISK).unwrap(), JsonFormat::new())
        .build()
        .unwrap();
    let log = pipeline.logger();
    let mut first_fault: Option<Instant> = None;
    for i in 0..2_000_000u64 {
        info!(log, "event", i);
        pipeline.flush();
        if first_fault.is_none() && pipeline.metrics().sinks[0].errors > 0 {
            first_fault = Some(Instant::now());
        }
        if first_fault.is_some_and(|t| t.elapsed() >= Duration::from_millis(2100)) {
            break;
        }
    }
    let report = guard.shutdown(Duration::from_secs(10));
    println!(
        "RESULT errors={} failed={} elapsed_ms={}",
        report.metrics.sinks[0].errors,
        report.failed,
        started.elapsed().as_millis()
    );
}

/// `(errors, failed, elapsed_ms)` from the child's RESULT line.
fn child_result(stdout: &str) -> (u64, u64, u64) {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line in {stdout:?}"));
    let values: Vec<u64> = line
        .split(' ')
        .map(|kv| kv.split_once('=').unwrap().1.parse().unwrap())
        .collect();
    (values[0], values[1], values[2])
}

#[test]
fn a_full_disk_is_reported_on_stderr_at_most_once_a_second_with_a_running_count() {
    const NAME: &str =
        "a_full_disk_is_reported_on_stderr_at_most_once_a_second_with_a_running_count";
    if child::is_child(NAME) {
        full_disk_child();
        return;
    }
    let run = child::wait_bounded(
        child::command(NAME).spawn().unwrap(),
        Duration::from_secs(120),
    );
    assert!(run.status.success(), "{run:?}");
    let (errors, failed, elapsed_ms) = child_result(&run.stdout);
    let prefix = format!("fapilog: sink file:{FULL_DISK} failed: ");
    let reports: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .collect();
    let counts: Vec<u64> = reports
        .iter()
        .map(|l| {
            assert!(l.contains("(os error 28)"), "not ENOSPC: {l}");
            let tail = l.rsplit_once(" (").unwrap().1;
            tail.strip_suffix(" faults so far)")
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    // Faults kept coming for over two seconds after the first: at least one
    // more report after the first, each with a larger running count...
    assert!(counts.len() >= 2, "{counts:?}\n{}", run.stderr);
    assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
    assert!(*counts.last().unwrap() <= errors);
    // ...but at most one per second of the child's life, far fewer than the faults.
    assert!(
        counts.len() as u64 <= elapsed_ms / 1000 + 1,
        "{} reports in {elapsed_ms} ms",
        counts.len()
    );
    assert!(
        errors >= 10 * counts.len() as u64,
        "{errors} faults, {counts:?}"
    );
    assert_eq!(failed, errors, "one event per failed write");
}

/// Makes the log directory refuse the file, returning what the fault was.
///
/// Unprivileged, that is a read-only directory (EACCES). Root ignores
/// permission bits (CI runs tests as root), so there the directory is replaced
/// by a regular file (ENOTDIR): the same path through the sink, an open that
/// fails and is retried on the next batch.
fn refuse(logs: &Path) -> &'static str {
    use std::os::unix::fs::PermissionsExt;
    fs::remove_file(logs.join("app.log")).unwrap();
    fs::set_permissions(logs, fs::Permissions::from_mode(0o500)).unwrap();
    if fs::write(logs.join("probe"), b"").is_err() {
        return "permission denied";
    }
    fs::remove_file(logs.join("probe")).unwrap();
    fs::set_permissions(logs, fs::Permissions::from_mode(0o700)).unwrap();
    fs::remove_dir_all(logs).unwrap();
    fs::write(logs, b"not a directory").unwrap();
    "not a directory"
}

fn clear(logs: &Path, fault: &str) {
    use std::os::unix::fs::PermissionsExt;
    if fault == "permission denied" {
        fs::set_permissions(logs, fs::Permissions::from_mode(0o700)).unwrap();
    } else {
        fs::remove_file(logs).unwrap();
        fs::create_dir(logs).unwrap();
    }
}

/// Logs around a fault of the log directory: a round before, two while
/// `break_dir` has broken it, and one after `mend` cleared it. Only the
/// rounds during the fault fail, only on the file sink, and the file then
/// holds exactly the round after.
fn survive(break_dir: impl FnOnce(&Path) -> &'static str, mend: impl FnOnce(&Path, &'static str)) {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    let path = logs.join("app.log");
    let (pipeline, guard, memory) = file_and_memory(FileSink::new(&path).unwrap());
    round(&pipeline, "before", 5);
    let fault = break_dir(&logs);
    round(&pipeline, "during", 7);
    round(&pipeline, "during", 7);
    assert_file_faults(&pipeline.metrics(), 14);
    mend(&logs, fault);
    round(&pipeline, "after", 5);
    let report = guard.shutdown(Duration::from_secs(10));
    assert_file_faults(&report.metrics, 14);
    assert_eq!(report.written, 10, "fault: {fault}");
    assert_eq!(rounds_in(&path), ["after"; 5], "fault: {fault}");
    assert_eq!(rounds(&memory).len(), 24);
}

#[test]
fn a_refused_log_file_is_counted_and_writing_resumes_when_allowed_again() {
    survive(refuse, clear);
}

#[test]
fn a_deleted_log_directory_fails_writes_until_it_is_recreated() {
    survive(
        |logs| {
            fs::remove_dir_all(logs).unwrap();
            "directory deleted"
        },
        |logs, _| fs::create_dir(logs).unwrap(),
    );
}

#[test]
fn with_create_dirs_a_deleted_log_directory_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let path = logs.join("app.log");
    let file = FileSink::builder(&path).create_dirs(true).build().unwrap();
    let (pipeline, guard, _memory) = file_and_memory(file);
    round(&pipeline, "before", 5);
    fs::remove_dir_all(&logs).unwrap();
    round(&pipeline, "after", 5);
    let report = guard.shutdown(Duration::from_secs(10));
    let m = &report.metrics;
    assert_eq!((m.written, m.failed, m.sinks[0].errors), (10, 0, 0));
    assert_eq!(rounds_in(&path), ["after"; 5]);
}
