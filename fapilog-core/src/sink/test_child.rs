//! Tests that must run in a process of their own (its standard streams, a
//! file-size limit): the test binary runs just that test again as a child.

use std::process::Command;

/// Runs test `name` of this test binary through `command` (which names the
/// binary, possibly behind a wrapper such as `sh -c`), with `marker` set in
/// its environment; asserts it passed there and returns its (stdout, stderr).
pub(crate) fn run(mut command: Command, name: &str, marker: &str) -> (String, String) {
    let output = command
        .args(["--exact", name, "--test-threads=1"])
        .env(marker, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let passed = output.status.success() && stdout.contains("1 passed");
    assert!(passed, "{stdout}{stderr}");
    (stdout, stderr)
}
