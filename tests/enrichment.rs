//! Built-in enrichment: service, host, pid, the caller's thread name; each can be turned off.

use std::time::Duration;

use fapilog::enrich::Enrichment;
use fapilog::format::JsonFormat;
use fapilog::pipeline::Pipeline;
use fapilog::sink::MemorySink;
use fapilog::{info, RawEvent};
use serde_json::Value as Json;

#[test]
fn records_carry_service_process_and_the_callers_thread() {
    let sink = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(sink.clone(), JsonFormat::new())
        .enrichment(
            Enrichment::new()
                .service_name("checkout")
                .environment("test")
                .thread_name(true),
        )
        .enricher(|e: &mut RawEvent| e.push_field("region", "eu"))
        .build()
        .unwrap();
    let log = pipeline.logger();
    std::thread::Builder::new()
        .name("order-worker".into())
        .spawn(move || info!(log, "from a worker", "service.name" = "overridden"))
        .unwrap()
        .join()
        .unwrap();
    info!(pipeline.logger(), "no override");
    guard.shutdown(Duration::from_secs(5));
    let e: Json = serde_json::from_str(&sink.lines()[0]).unwrap();
    assert_eq!(e["thread.name"], "order-worker");
    assert_eq!(e["process.pid"], std::process::id());
    // Where Linux names the host, that name is used.
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        assert_eq!(e["host.name"], host.trim());
    }
    assert_eq!(e["deployment.environment"], "test");
    assert_eq!(
        e["service.name"], "overridden",
        "an event field wins over enrichment"
    );
    assert_eq!(e["region"], "eu");
    assert_eq!(sink.lines()[0].matches("service.name").count(), 1);
    let plain: Json = serde_json::from_str(&sink.lines()[1]).unwrap();
    assert_eq!(plain["service.name"], "checkout");
}

#[test]
fn enrichment_can_be_turned_off() {
    let sink = MemorySink::new();
    let (pipeline, guard) = Pipeline::builder()
        .sink(sink.clone(), JsonFormat::new())
        .enrichment(Enrichment::none())
        .build()
        .unwrap();
    info!(pipeline.logger(), "plain");
    guard.shutdown(Duration::from_secs(5));
    let e: Json = serde_json::from_str(&sink.lines()[0]).unwrap();
    for key in ["thread.name", "process.pid", "host.name"] {
        assert!(e.get(key).is_none(), "{key}");
    }
}
