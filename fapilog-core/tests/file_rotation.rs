//! Behaviour of the file sink: size rotation keeps lines whole and ordered,
//! retention deletes the oldest files, build errors name `file.path`, and
//! writing resumes after the log directory comes back.

use std::fs;
use std::path::{Path, PathBuf};

use fapilog_core::sink::{FileSink, Sink};
use fapilog_core::ConfigErrorKind;

fn rotated(path: &Path, n: usize) -> PathBuf {
    PathBuf::from(format!("{}.{n}", path.display()))
}

/// `line-<n>-<padding>\n`, `len` bytes long in total (at least the prefix).
fn numbered_line(n: usize, len: usize) -> String {
    let head = format!("line-{n}-");
    let padding = len.saturating_sub(head.len() + 1);
    format!("{head}{}\n", "x".repeat(padding))
}

/// The number in a `line-<n>-<padding>` line, checking the line is whole.
fn parse_line(line: &str) -> usize {
    let rest = line
        .strip_prefix("line-")
        .expect("line starts with `line-`");
    let (number, padding) = rest.split_once('-').expect("line has a number");
    assert!(padding.bytes().all(|b| b == b'x'), "broken line: {line:?}");
    number.parse().expect("number parses")
}

/// The active file and every rotated file, oldest first.
fn files_oldest_first(path: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = (1..)
        .map(|n| rotated(path, n))
        .take_while(|p| p.exists())
        .collect();
    files.reverse();
    files.push(path.to_path_buf());
    files
}

/// A small deterministic pseudo-random sequence (LCG).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % bound
    }
}

#[test]
fn size_rotation_keeps_every_line_whole_once_and_in_order() {
    const MAX: u64 = 200;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut sink = FileSink::builder(&path)
        .max_bytes(MAX)
        .retain(1000)
        .build()
        .unwrap();

    let mut rng = Lcg(7);
    let mut next = 0;
    for _ in 0..150 {
        let mut batch = String::new();
        for _ in 0..1 + rng.below(8) {
            // Mostly short lines, sometimes one longer than `max_bytes`.
            let len = if rng.below(40) == 0 {
                250 + rng.below(100)
            } else {
                12 + rng.below(70)
            };
            batch.push_str(&numbered_line(next, len));
            next += 1;
        }
        sink.write(batch.as_bytes()).unwrap();
    }
    sink.flush().unwrap();

    let mut seen = Vec::new();
    let files = files_oldest_first(&path);
    assert!(files.len() > 20, "expected many files, got {}", files.len());
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        assert!(text.ends_with('\n'), "{} ends mid-line", file.display());
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            text.len() as u64 <= MAX || lines.len() == 1,
            "{} has {} bytes in {} lines",
            file.display(),
            text.len(),
            lines.len()
        );
        seen.extend(lines.into_iter().map(parse_line));
    }
    assert_eq!(seen, (0..next).collect::<Vec<_>>());
}

#[test]
fn retention_deletes_the_oldest_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut sink = FileSink::builder(&path)
        .max_bytes(20)
        .retain(3)
        .build()
        .unwrap();
    for n in 0..10 {
        sink.write(numbered_line(n, 20).as_bytes()).unwrap();
    }
    let files = files_oldest_first(&path);
    assert_eq!(files.len(), 4);
    assert!(!rotated(&path, 4).exists());
    let numbers: Vec<usize> = files
        .iter()
        .map(|f| parse_line(fs::read_to_string(f).unwrap().trim_end()))
        .collect();
    assert_eq!(numbers, vec![6, 7, 8, 9]);
}

#[test]
fn path_under_a_regular_file_is_unusable() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let err = FileSink::builder(file.path().join("x.log"))
        .build()
        .unwrap_err();
    assert_eq!(err.setting(), "file.path");
    assert_eq!(err.kind(), ConfigErrorKind::Unusable);
    assert!(err.to_string().contains("is not a directory"), "{err}");
    assert!(err.to_string().contains("`file.path`"), "{err}");
}

#[test]
fn create_dirs_under_a_regular_file_is_unusable() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let path = file.path().join("x.log");
    let err = FileSink::builder(path)
        .create_dirs(true)
        .build()
        .unwrap_err();
    assert_eq!(err.setting(), "file.path");
    assert!(err.to_string().contains("is not a directory"), "{err}");
}

#[test]
fn missing_directory_is_an_error_without_create_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("app.log");
    let err = FileSink::builder(&path)
        .create_dirs(false)
        .build()
        .unwrap_err();
    assert_eq!(err.setting(), "file.path");
    let message = err.to_string();
    assert!(message.contains("does not exist"), "{message}");
    assert!(message.contains("create_dirs(true)"), "{message}");
}

#[test]
fn directory_as_path_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let err = FileSink::builder(dir.path()).build().unwrap_err();
    assert_eq!(err.setting(), "file.path");
    assert_eq!(err.kind(), ConfigErrorKind::InvalidValue);
    assert!(err.to_string().contains("is a directory"), "{err}");
}

#[test]
fn create_dirs_creates_missing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("app.log");
    let mut sink = FileSink::builder(&path).create_dirs(true).build().unwrap();
    sink.write(b"hello\n").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "hello\n");
}

#[test]
fn writes_fail_while_the_directory_is_gone_and_resume_after() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    let path = logs.join("app.log");
    let mut sink = FileSink::new(&path).unwrap();
    sink.write(b"before\n").unwrap();

    fs::remove_dir_all(&logs).unwrap();
    assert!(sink.write(b"lost\n").is_err());
    assert!(sink.write(b"lost again\n").is_err());

    fs::create_dir(&logs).unwrap();
    sink.write(b"after\n").unwrap();
    sink.flush().unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "after\n");
}

#[test]
fn create_dirs_recreates_a_deleted_directory() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let path = logs.join("app.log");
    let mut sink = FileSink::builder(&path).create_dirs(true).build().unwrap();
    sink.write(b"before\n").unwrap();
    fs::remove_dir_all(&logs).unwrap();
    sink.write(b"after\n").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "after\n");
}
