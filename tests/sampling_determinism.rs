//! The sampling decision for a correlation ID is the same in every process.

mod support;

use std::time::Duration;

use fapilog_axum::sampling::{bucket, is_kept};
use support::child::{command, is_child, wait_bounded};

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
    const NAME: &str = "same_id_decides_the_same_in_two_processes";
    if is_child(NAME) {
        print!("BEGIN\n{}END\n", decisions());
        return;
    }
    let output = wait_bounded(command(NAME).spawn().unwrap(), Duration::from_secs(120));
    assert!(output.status.success(), "{}", output.stderr);
    let stdout = output.stdout;
    let start = stdout.find("BEGIN\n").unwrap() + "BEGIN\n".len();
    let end = stdout.find("END\n").unwrap();
    let theirs = &stdout[start..end];
    assert_eq!(theirs.lines().count(), 2000);
    assert_eq!(theirs, decisions());
}
