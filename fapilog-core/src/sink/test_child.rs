//! Tests that must run in a process of their own (its standard streams, a
//! file-size limit, a signal): the test binary runs just that test again as
//! a child. Shared by this crate's tests, `fapilog-axum`'s and the
//! workspace's behaviour tests (`tests/support/child.rs`), each by `#[path]`.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a child run by [`run`] may take before it is killed and the test fails.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs test `name` of this test binary through `command` (which names the
/// binary, possibly behind a wrapper such as `sh -c`), with `marker` set in
/// its environment; asserts it passed there and returns its (stdout, stderr).
pub(crate) fn run(mut command: Command, name: &str, marker: &str) -> (String, String) {
    let child = command
        .args(["--exact", name, "--test-threads=1"])
        .env(marker, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let done = wait_bounded(child, LIMIT);
    let passed = done.status.success() && done.stdout.contains("1 passed");
    assert!(passed, "{}{}", done.stdout, done.stderr);
    (done.stdout, done.stderr)
}

/// What a finished child printed, and how it ended.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Collects a spawned child's piped output while waiting at most `limit` for
/// it to exit; kills it and panics if it does not.
pub(crate) fn wait_bounded(mut child: Child, limit: Duration) -> Finished {
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = read_all(Box::new(child.stderr.take().expect("piped stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("child still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Finished {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}
