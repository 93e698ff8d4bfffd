//! The sampling decision for a correlation ID is the same in every process.

use std::process::Command;

use fapilog_axum::sampling::{bucket, is_kept};

const CHILD_ENV: &str = "FAPILOG_SAMPLING_CHILD";

fn ids() -> Vec<String> {
    (0..2000)
        .map(|i| format!("req-{i:04}-{}", i * 7919))
        .collect()
}

fn decisions() -> String {
    ids()
        .iter()
        .map(|id| format!("{id} {} {}\n", bucket(id), is_kept(id, 0.1)))
        .collect()
}

#[test]
fn same_id_decides_the_same_in_two_processes() {
    if std::env::var_os(CHILD_ENV).is_some() {
        print!("BEGIN\n{}END\n", decisions());
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "same_id_decides_the_same_in_two_processes",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let start = stdout.find("BEGIN\n").unwrap() + "BEGIN\n".len();
    let end = stdout.find("END\n").unwrap();
    let theirs = &stdout[start..end];
    assert_eq!(theirs.lines().count(), 2000);
    assert_eq!(theirs, decisions());
}
