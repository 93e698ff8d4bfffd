//! Bad configuration, through `Config` (TOML and environment) and through the
//! builders: a clear error at build time naming the setting, and nothing
//! started — no writer thread, no log file.

use std::path::Path;
use std::time::Duration;

use fapilog::config::Config;
use fapilog::pipeline::{OverflowPolicy, Pipeline, MAX_CAPACITY};
use fapilog::sink::{FileSink, NullSink};
use fapilog::{ConfigError, ConfigErrorKind, LevelDirectives};
use fapilog_axum::correlation::CorrelationConfig;
use fapilog_axum::{AccessLogConfig, FapilogLayer, SampleRate, SamplingConfig};

/// Names of this process's threads (`/proc/self/task/*/comm`, at most 15 bytes each).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}

/// Asserts the error names `setting`, says so in its message, and is of `kind`.
#[track_caller]
fn assert_names(err: &ConfigError, kind: ConfigErrorKind, setting: &str) {
    assert_eq!((err.kind(), err.setting()), (kind, setting), "{err}");
    assert!(
        err.to_string().contains(setting),
        "the message must name the setting: {err}"
    );
    assert!(!err.reason().is_empty(), "{err}");
}

/// Builds `config` with a file sink in `dir` and a writer thread named
/// `thread`; expects `setting` to be at fault and nothing to have started.
#[track_caller]
fn assert_config_fails(mut config: Config, dir: &Path, thread: &str, setting: &str) {
    let log = dir.join(format!("{thread}.log"));
    let mut sink = fapilog::config::SinkSettings::default();
    sink.kind = "file".to_owned();
    sink.path = log.display().to_string();
    if config.sinks.is_empty() {
        config.sinks.push(sink);
    }
    config.writer.thread_name = thread.to_owned();
    let Err(err) = config.build() else {
        panic!("{setting}: built without an error");
    };
    assert_eq!(err.setting(), setting, "{err}");
    assert!(err.to_string().contains(setting), "{err}");
    assert!(!log.exists(), "{setting}: the log file was created");
    assert!(
        !thread_names().iter().any(|t| t == thread),
        "{setting}: a writer thread started"
    );
}

#[test]
fn config_mistakes_name_the_setting_and_start_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let toml = |text: &str| Config::from_toml_str(text).unwrap();
    let cases: Vec<(Config, &str)> = vec![
        (toml("[queue]\ncapacity = 0"), "queue.capacity"),
        (
            toml(&format!("[queue]\ncapacity = {}", MAX_CAPACITY + 1)),
            "queue.capacity",
        ),
        (
            toml("[queue]\ncapacity = 9223372036854775807"),
            "queue.capacity",
        ),
        (toml("[queue]\nbatch_size = 0"), "queue.batch_size"),
        (toml("[limits]\nmax_fields = 0"), "limits.max_fields"),
        (toml("[limits]\nmax_fields = 1000000"), "limits.max_fields"),
        (
            toml("[limits]\nmax_string_bytes = 0"),
            "limits.max_string_bytes",
        ),
        (toml("[sampling]\nrate = 1.5"), "sampling.rate"),
        (toml("[sampling]\nrate = -0.1"), "sampling.rate"),
        (toml("[sampling]\nrate = nan"), "sampling.rate"),
        (toml("[sampling]\nrate = inf"), "sampling.rate"),
        (toml("level = \"info,sqlx=loud\""), "level"),
        (toml("level = \"verbose\""), "level"),
        (
            toml("[sampling]\ntrust_upstream = \"bad header\""),
            "sampling.trust_upstream",
        ),
        (
            toml("[sampling]\nrequest_buffer = 0"),
            "sampling.request_buffer",
        ),
        (
            toml("[sampling]\nglobal_buffer = 9223372036854775807"),
            "sampling.global_buffer",
        ),
        (
            toml("[sampling]\nnever_paths = [\"health\"]"),
            "sampling.never_paths",
        ),
        (
            Config::default()
                .with_env([("FAPILOG_SAMPLING__RATE", "2")])
                .unwrap(),
            "sampling.rate",
        ),
        (
            Config::default()
                .with_env([("FAPILOG_QUEUE__CAPACITY", "0")])
                .unwrap(),
            "queue.capacity",
        ),
        (
            Config::default()
                .with_env([("FAPILOG_LEVEL", "info,=warn")])
                .unwrap(),
            "level",
        ),
        // Settings nothing would read.
        (
            toml("[[sinks]]\ntype = \"null\"\nretain = 7"),
            "sinks[0].retain",
        ),
        (
            toml("[[sinks]]\nformat = \"logfmt\"\ncolor = \"never\""),
            "sinks[0].color",
        ),
        (
            toml("[[sinks]]\ntype = \"stderr\"\noptions = { brokers = \"k1\" }"),
            "sinks[0].options",
        ),
        (
            Config::default()
                .with_env([("FAPILOG_SINKS__0__PATH", "/var/log/app.log")])
                .unwrap(),
            "sinks[0].path",
        ),
    ];
    for (n, (config, setting)) in cases.into_iter().enumerate() {
        assert_config_fails(config, dir.path(), &format!("badcfg-{n}"), setting);
    }
}

#[test]
fn settings_of_a_section_left_off_are_an_error_unless_it_says_enabled() {
    for (err, setting) in [
        (
            Config::from_toml_str("[aggregation]\ntargets = [\"sqlx::pool\"]").unwrap_err(),
            "aggregation.targets",
        ),
        (
            Config::from_toml_str("[throttling]\nburst = 5").unwrap_err(),
            "throttling.burst",
        ),
        (
            Config::default()
                .with_env([("FAPILOG_THROTTLING__BURST", "5")])
                .unwrap_err(),
            "throttling.burst",
        ),
    ] {
        assert_names(&err, ConfigErrorKind::InvalidValue, setting);
        assert!(err.reason().contains("enabled = true"), "{err}");
    }
    // Saying it is enough, either way: off on purpose, or switched off by a
    // variable over a file that turned it on (an operator's override).
    let kept_off = "[aggregation]\nenabled = false\ntargets = [\"sqlx::pool\"]";
    Config::from_toml_str(kept_off).unwrap().validate().unwrap();
    let on =
        Config::from_toml_str("[aggregation]\nenabled = true\ntargets = [\"sqlx::pool\"]").unwrap();
    let switched_off = on
        .clone()
        .with_env([("FAPILOG_AGGREGATION__ENABLED", "false")])
        .unwrap();
    switched_off.validate().unwrap();
    assert!(!switched_off.aggregation.enabled);
    let adjusted = on
        .with_env([("FAPILOG_AGGREGATION__WINDOW_MS", "500")])
        .unwrap();
    adjusted.validate().unwrap();
    assert!(adjusted.aggregation.enabled);
    let redaction_off = "[redaction]\nenabled = false\nextra_fields = [\"session_id\"]";
    Config::from_toml_str(redaction_off)
        .unwrap()
        .validate()
        .unwrap();
}

#[test]
fn a_setting_the_sink_would_not_read_is_an_error_naming_it_and_the_sink() {
    let text = "[[sinks]]\npath = \"/var/log/myapp/app.log\"\nrotation = \"daily\"\nmax_bytes = 1000\ncolor = \"always\"";
    let config = Config::from_toml_str(text).unwrap();
    let err = config.validate().unwrap_err();
    assert_names(&err, ConfigErrorKind::InvalidValue, "sinks[0].path");
    assert!(err.reason().contains("type is \"stdout\""), "{err}");
    assert_eq!(err.value(), Some("\"/var/log/myapp/app.log\""));
    let err = config.build().unwrap_err();
    assert_eq!(err.setting(), "sinks[0].path", "{err}");

    // Read where they belong: a file sink's settings, a pretty sink's color,
    // a registered type's options (a replaced built-in is registered too).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log").display().to_string();
    let read = format!(
        "[[sinks]]\ntype = \"file\"\npath = {path:?}\nrotation = \"daily\"\nretain = 2\n\
         [[sinks]]\ntype = \"stdout\"\nformat = \"pretty\"\ncolor = \"never\"\n\
         [[sinks]]\ntype = \"null\"\noptions = {{ level = \"debug\" }}"
    );
    let config = Config::from_toml_str(&read).unwrap();
    assert_eq!(config.validate().unwrap_err().setting(), "sinks[2].options");
    let null_with_options = fapilog::config::SinkRegistry::new().register("null", |_| {
        Ok(Box::new(NullSink::new()) as Box<dyn fapilog::sink::Sink>)
    });
    let (_pipeline, guard) = config.build_with(&null_with_options).unwrap();
    drop(guard);
}

#[test]
fn environment_values_that_do_not_parse_name_the_variable_setting() {
    for (var, value, setting) in [
        ("FAPILOG_QUEUE__CAPACITY", "-1", "queue.capacity"),
        ("FAPILOG_QUEUE__CAPACITY", "lots", "queue.capacity"),
        ("FAPILOG_SAMPLING__RATE", "half", "sampling.rate"),
    ] {
        let err = Config::default().with_env([(var, value)]).unwrap_err();
        assert_names(&err, ConfigErrorKind::InvalidValue, setting);
    }
}

#[test]
fn an_unwritable_file_path_is_an_error_at_build() {
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = dir.path().join("no/such/dir/app.log");
    let not_a_dir = {
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"").unwrap();
        file.join("app.log")
    };
    for path in [missing_dir.clone(), not_a_dir, dir.path().to_path_buf()] {
        let err = FileSink::builder(&path).build().unwrap_err();
        assert_eq!(err.setting(), "file.path", "{err}");
        assert!(err.to_string().contains("file.path"), "{err}");

        let config = Config::from_toml_str(&format!(
            "[writer]\nthread_name = \"badcfg-file\"\n[[sinks]]\ntype = \"file\"\npath = {:?}",
            path.display().to_string()
        ))
        .unwrap();
        let err = config.build().unwrap_err();
        assert_eq!(err.setting(), "sinks[0].path", "{err}");
        assert!(!thread_names().iter().any(|t| t == "badcfg-file"));
    }
    assert!(!missing_dir.parent().unwrap().exists());

    // Permission denied: a read-only directory (meaningless as root, who may write anyway).
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    let mut perms = std::fs::metadata(&locked).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o500);
    std::fs::set_permissions(&locked, perms).unwrap();
    let probe = std::fs::File::create(locked.join("probe")).is_ok();
    if !probe {
        let err = FileSink::builder(locked.join("app.log"))
            .build()
            .unwrap_err();
        assert_names(&err, ConfigErrorKind::Unusable, "file.path");
        assert!(!locked.join("app.log").exists());
    }
}

#[test]
fn pipeline_builder_mistakes_name_the_setting_and_start_no_writer() {
    let cases: Vec<(fapilog::pipeline::PipelineBuilder, &str)> = vec![
        (Pipeline::builder().capacity(0), "queue.capacity"),
        (
            Pipeline::builder().capacity(MAX_CAPACITY + 1),
            "queue.capacity",
        ),
        (Pipeline::builder().capacity(usize::MAX), "queue.capacity"),
        (Pipeline::builder().batch_size(0), "queue.batch_size"),
        (Pipeline::builder().max_fields(0), "limits.max_fields"),
        (
            Pipeline::builder().max_string_bytes(0),
            "limits.max_string_bytes",
        ),
        (
            Pipeline::builder().overflow(OverflowPolicy::Block {
                timeout: Duration::ZERO,
            }),
            "queue.block_timeout_ms",
        ),
        (
            Pipeline::builder().flush_interval(Duration::from_secs(86_400)),
            "writer.flush_interval_ms",
        ),
    ];
    for (n, (builder, setting)) in cases.into_iter().enumerate() {
        let thread = format!("badbld-{n}");
        let err = builder
            .thread_name(thread.clone())
            .sink(NullSink::new(), fapilog::format::JsonFormat::new())
            .build()
            .unwrap_err();
        assert_names(&err, ConfigErrorKind::InvalidValue, setting);
        assert!(!thread_names().contains(&thread), "{setting}");
    }
    for spec in ["info,sqlx=loud", "loud", "info,a=info=debug", "info,=warn"] {
        let err = LevelDirectives::parse(spec).unwrap_err();
        assert_names(&err, ConfigErrorKind::InvalidValue, "level");
    }
}

#[test]
fn layer_builder_mistakes_name_the_setting() {
    for rate in [-0.5, 1.0001, f64::NAN, f64::INFINITY] {
        let err = SamplingConfig::new().rate(rate).unwrap_err();
        assert_names(&err, ConfigErrorKind::InvalidValue, "sampling.rate");
        let err = SampleRate::new(rate).unwrap_err();
        assert_names(&err, ConfigErrorKind::InvalidValue, "sampling.rate");
    }
    for name in ["", "bad header", "x-id\r\n", "é"] {
        let err = CorrelationConfig::new().header(name).unwrap_err();
        assert_names(&err, ConfigErrorKind::InvalidValue, "correlation.header");
        let err = AccessLogConfig::new().header(name).unwrap_err();
        assert_names(&err, ConfigErrorKind::InvalidValue, "access_log.headers");
        let err = SamplingConfig::new().trust_upstream(name).unwrap_err();
        assert_names(
            &err,
            ConfigErrorKind::InvalidValue,
            "sampling.trust_upstream",
        );
    }
    let (pipeline, _guard) = Pipeline::builder()
        .sink(NullSink::new(), fapilog::format::JsonFormat::new())
        .build()
        .unwrap();
    let layer = |b: fapilog_axum::FapilogLayerBuilder| b.pipeline(pipeline.clone()).build();
    let err = layer(FapilogLayer::builder().request_buffer(0)).unwrap_err();
    assert_names(
        &err,
        ConfigErrorKind::InvalidValue,
        "sampling.request_buffer",
    );
    let err = layer(FapilogLayer::builder().request_buffer(usize::MAX)).unwrap_err();
    assert_names(
        &err,
        ConfigErrorKind::InvalidValue,
        "sampling.request_buffer",
    );
    let err = layer(FapilogLayer::builder().request_buffer(8).global_buffer(4)).unwrap_err();
    assert_names(
        &err,
        ConfigErrorKind::InvalidValue,
        "sampling.global_buffer",
    );
    // A layer that failed to build registered nothing with the pipeline.
    assert!(pipeline
        .metrics()
        .extra
        .iter()
        .all(|c| c.name != "fapilog_requests_total"));
}
