//! Tests that must run in a process of their own (its standard streams, a
//! file-size limit): the test binary runs just that test again as a child.

use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// How long the child may run before it is killed and the test fails.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs test `name` of this test binary through `command` (which names the
/// binary, possibly behind a wrapper such as `sh -c`), with `marker` set in
/// its environment; asserts it passed there and returns its (stdout, stderr).
pub(crate) fn run(mut command: Command, name: &str, marker: &str) -> (String, String) {
    let mut child = command
        .args(["--exact", name, "--test-threads=1"])
        .env(marker, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // One test's output stays far below a pipe's buffer: it is read after the wait.
    let exited = child.wait_timeout(LIMIT).unwrap();
    if exited.is_none() {
        let _ = child.kill();
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let passed = exited.is_some() && output.status.success() && stdout.contains("1 passed");
    let killed = if exited.is_none() {
        "killed after the time limit\n"
    } else {
        ""
    };
    assert!(passed, "{killed}{stdout}{stderr}");
    (stdout, stderr)
}
