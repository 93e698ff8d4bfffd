//! Re-running this test binary as a child process, for tests that must read a
//! process's stderr, signal it, or kill it at a chosen point.
//!
//! The child runs a single test (`--exact`), uncaptured, with [`CHILD_ENV`]
//! naming it; that test sees [`is_child`] and plays the child's part.

use std::process::{Command, Stdio};

#[path = "../../fapilog-core/src/sink/test_child.rs"]
mod shared;
// Not every test binary that compiles this module waits for a child.
#[allow(unused_imports)]
pub(crate) use shared::{wait_bounded, Finished};

/// Names the test a child process is run for.
pub const CHILD_ENV: &str = "FAPILOG_TEST_CHILD";

/// Whether this process is the child run for `test`.
pub fn is_child(test: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == test)
}

/// A command running only `test` of this binary as a child, output uncaptured and piped.
pub fn command(test: &str) -> Command {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1", "-q"])
        .env(CHILD_ENV, test)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

impl Finished {
    /// The JSON log lines on stdout (a child's libtest lines are not JSON), parsed.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect()
    }
}
