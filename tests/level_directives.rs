//! Per-target levels: directives decide per module path, and change at run time.

use std::time::Duration;

use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use fapilog::sink::MemorySink;
use fapilog::{debug, info, Level, LevelDirectives};
use serde_json::Value as Json;

mod db {
    pub(crate) fn query(log: &fapilog::Logger) {
        fapilog::debug!(log, "query from db");
        fapilog::info!(log, "info from db");
    }
}

fn messages(sink: &MemorySink) -> Vec<String> {
    sink.lines()
        .iter()
        .map(|l| {
            serde_json::from_str::<Json>(l).unwrap()["msg"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn directives_apply_per_module_and_change_at_run_time() {
    let sink = MemorySink::new();
    let here = module_path!();
    let (pipeline, guard) = Pipeline::builder()
        .sink(sink.clone(), JsonFormat::new())
        .directives(LevelDirectives::parse(&format!("warn,{here}::db=debug")).unwrap())
        .build()
        .unwrap();
    let log = pipeline.logger();
    info!(log, "info from root"); // root is at WARN
    db::query(&log); // db is at DEBUG
    log.event(Level::Debug, "builder event")
        .target("elsewhere")
        .emit(); // WARN for "elsewhere"
    log.event(Level::Info, "access")
        .target("my_app::access")
        .emit();
    assert!(pipeline.flush());
    assert_eq!(messages(&sink), ["query from db", "info from db"]);

    pipeline.set_directives(LevelDirectives::parse("info,my_app::access=off").unwrap());
    info!(log, "info from root again");
    debug!(log, "still off");
    db::query(&log);
    log.event(Level::Info, "access")
        .target("my_app::access")
        .emit();
    pipeline.set_level(Level::Debug.into()); // the default only; targets stay
    assert!(log.enabled(Level::Debug));
    assert!(!pipeline.enabled_for(Level::Error, Some("my_app::access::x")));
    let report = guard.shutdown(Duration::from_secs(5));
    assert_eq!(
        messages(&sink)[2..],
        ["info from root again", "info from db"]
    );
    assert!(report.metrics.is_balanced());
}
