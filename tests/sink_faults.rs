//! A failing or panicking sink is isolated and counted; the other sinks carry on.

mod support;

use std::time::Duration;

use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use support::{BrokenSink, CaptureSink};

fn run_with(broken: BrokenSink) {
    let good = CaptureSink::open();
    let (pipeline, guard) = Pipeline::builder()
        .sink(broken, JsonFormat::new())
        .sink(good.clone(), JsonFormat::new())
        .build()
        .unwrap();
    let log = pipeline.logger();
    for round in 0..3 {
        for _ in 0..10 {
            log.info("x");
        }
        assert!(pipeline.flush(), "round {round}");
    }
    let report = guard.shutdown(Duration::from_secs(5));
    assert_eq!(good.events().len(), 30);
    let m = report.metrics;
    assert_eq!((m.submitted, m.written, m.failed), (30, 0, 30));
    assert!(m.is_balanced());
    let broken_metrics = &m.sinks[0];
    assert_eq!(broken_metrics.events_failed, 30);
    assert!(broken_metrics.errors + broken_metrics.panics >= 3);
    assert_eq!(m.sinks[1].errors + m.sinks[1].panics, 0);
    let text = m.to_prometheus();
    assert!(text.contains(&format!("sink=\"{}\"", broken_metrics.name)));
}

#[test]
fn an_erroring_sink_is_counted_and_isolated() {
    run_with(BrokenSink::Errors);
}

#[test]
fn a_panicking_sink_is_counted_and_isolated() {
    run_with(BrokenSink::Panics);
}

/// With stderr on `/dev/full`, every fault report fails to print; the
/// writer still writes, counts and drains (`eprintln!` would panic there).
#[cfg(target_os = "linux")]
#[test]
fn a_broken_stderr_does_not_stop_the_writer() {
    const NAME: &str = "a_broken_stderr_does_not_stop_the_writer";
    if support::child::is_child(NAME) {
        run_with(BrokenSink::Errors);
        return;
    }
    let mut on_full_stderr = std::process::Command::new("sh");
    on_full_stderr
        .args(["-c", r#"exec "$0" "$@" 2>/dev/full"#])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(support::child::CHILD_ENV, NAME)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let run =
        support::child::wait_bounded(on_full_stderr.spawn().unwrap(), Duration::from_secs(120));
    assert!(
        run.status.success() && run.stdout.contains("1 passed"),
        "{}",
        run.stdout
    );
}

/// A sink named like every other one of its kind, failing or not.
struct Named {
    fails: bool,
}

impl fapilog::sink::Sink for Named {
    fn write(&mut self, _batch: &[u8]) -> std::io::Result<()> {
        if self.fails {
            Err(std::io::Error::other("down"))
        } else {
            Ok(())
        }
    }

    fn name(&self) -> String {
        "replica".to_owned()
    }
}

#[test]
fn sinks_of_the_same_name_are_told_apart() {
    let (pipeline, guard) = Pipeline::builder()
        .sink(Named { fails: false }, JsonFormat::new())
        .sink(Named { fails: true }, JsonFormat::new())
        .build()
        .unwrap();
    pipeline.logger().info("x");
    let m = guard.shutdown(Duration::from_secs(5)).metrics;
    assert_eq!((m.sinks[0].errors, m.sinks[1].errors), (0, 1));
    assert_ne!(m.sinks[0].name, m.sinks[1].name);
    // Prometheus: "each line must have a unique combination of a metric
    // name and labels".
    let text = m.to_prometheus();
    let mut series: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit_once(' ').unwrap().0)
        .collect();
    let lines = series.len();
    series.sort_unstable();
    series.dedup();
    assert_eq!(series.len(), lines, "{text}");
}
