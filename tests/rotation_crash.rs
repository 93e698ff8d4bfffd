//! A process killed in the middle of a file rotation, between renaming the
//! full file away and opening the fresh one, while four threads log into it;
//! then a restart on the same path. Every line appears whole, in exactly one
//! file, and each producer's lines keep their order with no gap.

mod support;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use fapilog::format::JsonFormat;
use fapilog::info;
use fapilog::pipeline::{OverflowPolicy, Pipeline};
use fapilog::sink::FileSink;
use support::child;

const NAME: &str = "a_crash_between_rename_and_reopen_leaves_every_line_whole_in_one_file";
const DIR_ENV: &str = "FAPILOG_ROTATION_DIR";
const PHASE_ENV: &str = "FAPILOG_ROTATION_PHASE";
const MAX_BYTES: u64 = 4096;
const PRODUCERS: u64 = 4;
/// The rotation during which the first child stops, to be killed.
const CRASH_AT_ROTATION: usize = 5;
/// What the first child prints on stderr once it is stopped there.
const PAUSED: &str = "PAUSED between rename and reopen";
const RESTART_EVENTS: u64 = 200;

fn log_path(dir: &Path) -> PathBuf {
    dir.join("app.log")
}

/// The child's part: four producers log into a size-rotated file. In the
/// `crash` phase the writer stops for good inside its fifth rotation, after
/// the rename; in the `restart` phase it runs to a normal shutdown.
fn child_run(dir: &Path, phase: &str) {
    let crash = phase == "crash";
    let rotations = AtomicUsize::new(0);
    let mut file = FileSink::builder(log_path(dir))
        .max_bytes(MAX_BYTES)
        .retain(1000);
    if crash {
        file = file.after_rename_hook(move || {
            if rotations.fetch_add(1, Ordering::SeqCst) + 1 == CRASH_AT_ROTATION {
                eprintln!("{PAUSED}");
                loop {
                    std::thread::park();
                }
            }
        });
    }
    let (pipeline, guard) = Pipeline::builder()
        .capacity(256)
        .batch_size(16)
        // No loss while running: what is written is each producer's prefix.
        .overflow(OverflowPolicy::Block {
            timeout: Duration::from_secs(300),
        })
        .sink(file.build().unwrap(), JsonFormat::new())
        .build()
        .unwrap();
    let per_producer = if crash { 20_000 } else { RESTART_EVENTS };
    let threads: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let log = pipeline.logger().bind("phase", phase.to_owned());
            std::thread::spawn(move || {
                for n in 0..per_producer {
                    info!(
                        log,
                        "rotating",
                        p,
                        n,
                        pad = "x".repeat(40 + (n % 50) as usize)
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let report = guard.shutdown(Duration::from_secs(30));
    assert!(
        !report.timed_out && report.metrics.is_balanced(),
        "{report}"
    );
    assert_eq!(report.written, PRODUCERS * per_producer);
}

/// The active file and the rotated ones, oldest first.
fn files_oldest_first(path: &Path) -> Vec<PathBuf> {
    let rotated = |n: usize| PathBuf::from(format!("{}.{n}", path.display()));
    let mut files: Vec<PathBuf> = (1..).map(rotated).take_while(|p| p.exists()).collect();
    files.reverse();
    if path.exists() {
        files.push(path.to_path_buf());
    }
    files
}

/// Runs the crash phase and kills the child once it is stopped mid-rotation.
fn crash_child(dir: &Path) {
    let mut child = child::command(NAME)
        .env(DIR_ENV, dir)
        .env(PHASE_ENV, "crash")
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, paused) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let stopped = loop {
        match paused.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if line == PAUSED => break true,
            Ok(_) => continue,
            Err(_) => break false,
        }
    };
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(
        stopped,
        "the child never reached rotation {CRASH_AT_ROTATION}"
    );
    assert_eq!(status.signal(), Some(9), "{status:?}");
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
struct Line {
    restart: bool,
    producer: u64,
    n: u64,
}

/// Every line of every file, oldest first, checking each is whole JSON and
/// each file respects the size limit.
fn read_lines(path: &Path) -> Vec<Line> {
    let mut lines = Vec::new();
    for file in files_oldest_first(path) {
        let text = fs::read_to_string(&file).unwrap();
        assert!(text.ends_with('\n'), "{} ends mid-line", file.display());
        assert!(text.len() as u64 <= MAX_BYTES, "{} too big", file.display());
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("torn line in {}: {line:?}: {e}", file.display()));
            lines.push(Line {
                restart: v["phase"] == "restart",
                producer: v["p"].as_u64().unwrap(),
                n: v["n"].as_u64().unwrap(),
            });
        }
    }
    lines
}

#[test]
fn a_crash_between_rename_and_reopen_leaves_every_line_whole_in_one_file() {
    if child::is_child(NAME) {
        let dir = std::env::var_os(DIR_ENV).expect("dir");
        let phase = std::env::var(PHASE_ENV).expect("phase");
        child_run(Path::new(&dir), &phase);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = log_path(dir.path());
    crash_child(dir.path());

    // Killed after the rename, before the reopen: no active file, the rotated ones whole.
    assert!(!path.exists(), "the fresh file was opened before the kill");
    let files = files_oldest_first(&path);
    assert_eq!(files.len(), CRASH_AT_ROTATION);
    let before = read_lines(&path);
    assert!(!before.is_empty());

    let restart = child::command(NAME)
        .env(DIR_ENV, dir.path())
        .env(PHASE_ENV, "restart")
        .spawn()
        .unwrap();
    let run = child::wait_bounded(restart, Duration::from_secs(120));
    assert!(run.status.success(), "{run:?}");

    let lines = read_lines(&path);
    // Exactly once: no line lost or repeated by the rotations after the restart.
    let unique: HashSet<Line> = lines.iter().copied().collect();
    assert_eq!(unique.len(), lines.len(), "a line appears in two places");
    assert_eq!(&lines[..before.len()], &before[..], "old files changed");
    // The crashed run's lines come first; each producer's are 0, 1, 2, … with no gap.
    let crashed = lines.iter().take_while(|l| !l.restart).count();
    assert_eq!(crashed, before.len());
    let mut next: HashMap<(bool, u64), u64> = HashMap::new();
    for line in &lines {
        let expected = next.entry((line.restart, line.producer)).or_insert(0);
        assert_eq!(line.n, *expected, "{line:?} out of order or after a gap");
        *expected += 1;
    }
    for p in 0..PRODUCERS {
        assert_eq!(next.get(&(true, p)), Some(&RESTART_EVENTS), "producer {p}");
    }
}
