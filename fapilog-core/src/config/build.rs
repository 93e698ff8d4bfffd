//! Turning a [`Config`] into a running pipeline.

use std::path::{Component, Path};
use std::time::Duration;

use crate::config::registry::FILE_ONLY;
use crate::config::schema::{changed, render};
use crate::config::{
    Config, SamplingSettings, SinkRegistry, SinkSettings, MAX_GLOBAL_BUFFER, MAX_REQUEST_BUFFER,
};
use crate::enrich::Enrichment;
use crate::error::ConfigError;
use crate::filter::LevelDirectives;
use crate::format::{ColorChoice, Format, JsonFormat, LogfmtFormat, PrettyFormat};
use crate::pipeline::{OverflowPolicy, Pipeline, PipelineBuilder, WriterGuard};
use crate::process::throttle::MAX_BURST;
use crate::process::{Aggregator, Redactor, Throttle, ThrottleKey};

/// Checks that `value` is one of `allowed`, naming `setting` otherwise.
fn one_of<'a>(
    setting: impl Into<String>,
    value: &'a str,
    allowed: &[&str],
) -> Result<&'a str, ConfigError> {
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::invalid(
            setting.into(),
            format!("{value:?}"),
            format!("expected one of {}", allowed.join(", ")),
        ))
    }
}

impl Config {
    /// The level directives, parsed.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `level`.
    pub fn directives(&self) -> Result<LevelDirectives, ConfigError> {
        LevelDirectives::parse(&self.level)
    }

    /// The overflow policy, parsed.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `queue.overflow` or `queue.block_timeout_ms`.
    pub fn overflow(&self) -> Result<OverflowPolicy, ConfigError> {
        let overflow = &self.queue.overflow;
        Ok(
            match one_of(
                "queue.overflow",
                overflow,
                &["drop_oldest", "drop_newest", "block"],
            )? {
                "drop_newest" => OverflowPolicy::DropNewest,
                "block" => OverflowPolicy::Block {
                    timeout: positive_millis(
                        "queue.block_timeout_ms",
                        self.queue.block_timeout_ms,
                    )?,
                },
                _ => OverflowPolicy::DropOldest,
            },
        )
    }

    /// The redactor these settings describe.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `redaction.patterns` for a regex that does
    /// not compile, or `redaction.fields`/`extra_fields` for a name that
    /// would match no field (empty, or only separators).
    pub fn redactor(&self) -> Result<Redactor, ConfigError> {
        let r = &self.redaction;
        if !r.enabled {
            return Ok(Redactor::disabled());
        }
        let mut redactor = Redactor::new().fields(&r.fields)?;
        for name in &r.extra_fields {
            redactor = redactor
                .field(name)
                .map_err(|e| e.for_setting("redaction.extra_fields"))?;
        }
        redactor = redactor
            .card_numbers(r.card_numbers)
            .url_credentials(r.url_credentials)
            .bearer_tokens(r.bearer_tokens)
            .secret_params(r.secret_params);
        for pattern in &r.patterns {
            redactor = redactor.pattern(pattern)?;
        }
        Ok(redactor)
    }

    /// The aggregator these settings describe, `None` when off.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the `aggregation.*` setting at fault.
    pub fn aggregator(&self) -> Result<Option<Aggregator>, ConfigError> {
        let a = &self.aggregation;
        if !a.enabled {
            return Ok(None);
        }
        if a.targets.is_empty() {
            return Err(ConfigError::invalid(
                "aggregation.targets",
                "[]",
                "must name at least one target when aggregation.enabled is true",
            ));
        }
        let aggregator = Aggregator::new(a.targets.iter().cloned())
            .threshold(a.threshold)
            .window(Duration::from_millis(a.window_ms))
            .max_count(a.max_count)
            .max_keys(a.max_keys)
            .flush_on_correlation_change(a.flush_on_correlation_change);
        aggregator.validate()?;
        Ok(Some(aggregator))
    }

    /// The throttle these settings describe, `None` when off.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the `throttling.*` setting at fault.
    pub fn throttle(&self) -> Result<Option<Throttle>, ConfigError> {
        let t = &self.throttling;
        if !t.enabled {
            return Ok(None);
        }
        let key = match t.key.strip_prefix("field:") {
            Some(name) => ThrottleKey::Field(name.trim().to_owned()),
            None if t.key == "target_level" => ThrottleKey::TargetLevel,
            None => {
                return Err(ConfigError::invalid(
                    "throttling.key",
                    format!("{:?}", t.key),
                    "expected \"target_level\" or \"field:<name>\"",
                ))
            }
        };
        let Ok(burst) = u32::try_from(t.burst) else {
            return Err(ConfigError::invalid(
                "throttling.burst",
                t.burst,
                format!("must be between 1 and {MAX_BURST}"),
            ));
        };
        let throttle = Throttle::new(burst, t.refill_per_s)
            .key(key)
            .include_errors(t.include_errors)
            .max_keys(t.max_keys);
        throttle.validate()?;
        Ok(Some(throttle))
    }

    /// The built-in enrichers these settings describe.
    pub fn enrichment(&self) -> Enrichment {
        let e = &self.enrichers;
        Enrichment::new()
            .service_name(e.service_name.as_str())
            .service_version(e.service_version.as_str())
            .environment(e.environment.as_str())
            .hostname(e.hostname)
            .pid(e.pid)
            .thread_name(e.thread_name)
            .kubernetes(e.kubernetes)
    }

    /// Checks every setting that does not need a resource (files are opened by
    /// [`build`](Self::build)), with the built-in sink types.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check(&SinkRegistry::new())
    }

    fn check(&self, registry: &SinkRegistry) -> Result<(), ConfigError> {
        self.directives()?;
        positive_millis("writer.flush_interval_ms", self.writer.flush_interval_ms)?;
        self.queue_and_writer(Pipeline::builder())?.validate()?;
        self.redactor()?;
        self.aggregator()?;
        self.throttle()?;
        self.sampling.validate()?;
        for (index, sink) in self.sinks.iter().enumerate() {
            registry.check_type(index, &sink.kind)?;
            registry.check_settings(index, sink)?;
            format_for(index, sink)?;
            check_sink_reads(index, sink, registry)?;
            check_own_file(index, &self.sinks)?;
        }
        Ok(())
    }

    /// A pipeline builder with every setting applied, the built-in sink types only.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its setting.
    pub fn pipeline_builder(&self) -> Result<PipelineBuilder, ConfigError> {
        self.pipeline_builder_with(&SinkRegistry::new())
    }

    /// A pipeline builder with every setting applied, sink types looked up in `registry`.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its setting; a sink that cannot
    /// be opened is an error too.
    pub fn pipeline_builder_with(
        &self,
        registry: &SinkRegistry,
    ) -> Result<PipelineBuilder, ConfigError> {
        self.check(registry)?;
        let mut builder = self
            .queue_and_writer(Pipeline::builder())?
            .directives(self.directives()?)
            .redaction(self.redactor()?)
            .enrichment(self.enrichment());
        if let Some(aggregator) = self.aggregator()? {
            builder = builder.aggregation(aggregator);
        }
        if let Some(throttle) = self.throttle()? {
            builder = builder.throttle(throttle);
        }
        for (index, sink) in self.sinks.iter().enumerate() {
            let format = format_for(index, sink)?;
            builder = builder.boxed_sink(registry.build(index, sink)?, format);
        }
        Ok(builder)
    }

    fn queue_and_writer(&self, builder: PipelineBuilder) -> Result<PipelineBuilder, ConfigError> {
        Ok(builder
            .capacity(self.queue.capacity)
            .batch_size(self.queue.batch_size)
            .overflow(self.overflow()?)
            .flush_interval(Duration::from_millis(self.writer.flush_interval_ms))
            .drain_deadline(Duration::from_millis(self.writer.drain_deadline_ms))
            .thread_name(self.writer.thread_name.clone())
            .max_string_bytes(self.limits.max_string_bytes)
            .max_fields(self.limits.max_fields))
    }

    /// Starts the pipeline these settings describe (built-in sink types).
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its setting.
    pub fn build(&self) -> Result<(Pipeline, WriterGuard), ConfigError> {
        self.pipeline_builder()?.build()
    }

    /// Starts the pipeline these settings describe, sink types looked up in `registry`.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, naming its setting.
    pub fn build_with(
        &self,
        registry: &SinkRegistry,
    ) -> Result<(Pipeline, WriterGuard), ConfigError> {
        self.pipeline_builder_with(registry)?.build()
    }
}

impl SamplingSettings {
    /// Checks the section the way `fapilog-axum` applies it, so that a
    /// [`Config`] whose `[sampling]` is wrong fails in [`Config::build`],
    /// before anything starts.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the `sampling.*` setting at fault: a rate
    /// outside 0.0..=1.0, a bad path rule ([`check_path_rule`]), a trusted
    /// header that is not a valid HTTP header name, or a buffer out of range.
    ///
    /// ```
    /// use fapilog_core::config::Config;
    ///
    /// let config = Config::from_toml_str("[sampling]\ntrust_upstream = \"x sampled\"").unwrap();
    /// let err = config.sampling.validate().unwrap_err();
    /// assert_eq!(err.setting(), "sampling.trust_upstream");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.rate) {
            return Err(ConfigError::invalid(
                "sampling.rate",
                self.rate,
                "must be a number from 0.0 to 1.0",
            ));
        }
        for rule in &self.always_paths {
            check_path_rule("sampling.always_paths", rule)?;
        }
        for rule in &self.never_paths {
            check_path_rule("sampling.never_paths", rule)?;
        }
        let header = &self.trust_upstream;
        if !header.is_empty() && !header.bytes().all(is_token_byte) {
            return Err(ConfigError::invalid(
                "sampling.trust_upstream",
                format!("{header:?}"),
                "must be a valid HTTP header name (token characters, not empty)",
            ));
        }
        check_buffers(self.request_buffer, self.global_buffer)
    }
}

/// Checks the error-promotion buffers: `request_buffer` from 1 to
/// [`MAX_REQUEST_BUFFER`], `global_buffer` from `request_buffer` to
/// [`MAX_GLOBAL_BUFFER`].
///
/// # Errors
///
/// A [`ConfigError`] naming `sampling.request_buffer` or `sampling.global_buffer`.
///
/// ```
/// use fapilog_core::config::check_buffers;
///
/// assert!(check_buffers(256, 65_536).is_ok());
/// assert_eq!(check_buffers(0, 1).unwrap_err().setting(), "sampling.request_buffer");
/// assert_eq!(check_buffers(8, 4).unwrap_err().setting(), "sampling.global_buffer");
/// ```
pub fn check_buffers(request_buffer: usize, global_buffer: usize) -> Result<(), ConfigError> {
    if !(1..=MAX_REQUEST_BUFFER).contains(&request_buffer) {
        let reason = format!("must be between 1 and {MAX_REQUEST_BUFFER}");
        return Err(ConfigError::invalid(
            "sampling.request_buffer",
            request_buffer,
            reason,
        ));
    }
    if !(request_buffer..=MAX_GLOBAL_BUFFER).contains(&global_buffer) {
        let reason = format!("must be between sampling.request_buffer and {MAX_GLOBAL_BUFFER}");
        return Err(ConfigError::invalid(
            "sampling.global_buffer",
            global_buffer,
            reason,
        ));
    }
    Ok(())
}

/// Checks a sampling path rule: it starts with `/`, holds no whitespace or
/// control character, and has `*` only as its last character (a prefix rule).
///
/// # Errors
///
/// A [`ConfigError`] naming `setting`.
///
/// ```
/// use fapilog_core::config::check_path_rule;
///
/// assert!(check_path_rule("sampling.never_paths", "/internal/*").is_ok());
/// assert!(check_path_rule("sampling.never_paths", "/a*/b").is_err());
/// ```
pub fn check_path_rule(setting: &'static str, rule: &str) -> Result<(), ConfigError> {
    let invalid = |reason: &str| ConfigError::invalid(setting, format!("{rule:?}"), reason);
    if !rule.starts_with('/') {
        return Err(invalid("a path rule must start with `/`"));
    }
    if rule.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "a path rule must not contain whitespace or control characters",
        ));
    }
    match rule.find('*') {
        Some(i) if i + 1 != rule.len() => {
            Err(invalid("`*` is only allowed at the end of a path rule"))
        }
        _ => Ok(()),
    }
}

/// Whether `b` is an HTTP token character (RFC 9110 `tchar`).
const fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

fn positive_millis(setting: &'static str, ms: u64) -> Result<Duration, ConfigError> {
    if ms == 0 {
        return Err(ConfigError::invalid(
            setting,
            ms,
            "must be at least 1 (milliseconds)",
        ));
    }
    Ok(Duration::from_millis(ms))
}

/// Checks that file sink `index` writes a file no earlier sink writes: two
/// would write every line twice, and each would rotate it on its own. Nor
/// may one sink's file be another's rotated file (`app.log.2` beside
/// `app.log`): rotation would rename it away, or delete it.
fn check_own_file(index: usize, sinks: &[SinkSettings]) -> Result<(), ConfigError> {
    let is_file = |s: &SinkSettings| s.kind == "file";
    let sink = &sinks[index];
    if !is_file(sink) {
        return Ok(());
    }
    let path = path_parts(&sink.path);
    let clash = sinks[..index].iter().enumerate().find_map(|(first, s)| {
        let other = path_parts(&s.path);
        let reason = if !is_file(s) {
            return None;
        } else if other == path {
            format!("sinks[{first}] writes the same file")
        } else if is_rotated_name_of(&path, &other) {
            format!("it is the name of one of sinks[{first}]'s rotated files")
        } else if is_rotated_name_of(&other, &path) {
            format!("sinks[{first}]'s file would be one of its rotated files")
        } else {
            return None;
        };
        Some(reason)
    });
    match clash {
        Some(reason) => Err(ConfigError::invalid(
            format!("sinks[{index}].path"),
            format!("{:?}", sink.path),
            reason,
        )),
        None => Ok(()),
    }
}

/// Whether `path` is one of the rotated names of `base` (`app.log.3` of `app.log`).
fn is_rotated_name_of(path: &[Component<'_>], base: &[Component<'_>]) -> bool {
    let (Some((Component::Normal(name), dir)), Some((Component::Normal(base_name), base_dir))) =
        (path.split_last(), base.split_last())
    else {
        return false;
    };
    dir == base_dir
        && name
            .as_encoded_bytes()
            .strip_prefix(base_name.as_encoded_bytes())
            .and_then(|rest| rest.strip_prefix(b"."))
            .and_then(crate::sink::rotation_number)
            .is_some_and(|n| n <= crate::sink::MAX_RETAIN)
}

/// `path`'s components, `.` left out: `./app.log` and `app.log` are one
/// file (links are not followed).
fn path_parts(path: &str) -> Vec<Component<'_>> {
    Path::new(path)
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

/// Checks that sink `index` reads every setting changed from its default.
fn check_sink_reads(
    index: usize,
    sink: &SinkSettings,
    registry: &SinkRegistry,
) -> Result<(), ConfigError> {
    let changed = changed(sink);
    for key in FILE_ONLY.iter().chain(&["color", "options"]) {
        let (Some(value), Some(reason)) = (changed.get(*key), unread(key, sink, registry)) else {
            continue;
        };
        let setting = format!("sinks[{index}].{key}");
        return Err(ConfigError::invalid(setting, render(value), reason));
    }
    Ok(())
}

/// Why `sink` would ignore its setting `key`, if it would.
fn unread(key: &str, sink: &SinkSettings, registry: &SinkRegistry) -> Option<String> {
    let (kind, format) = (&sink.kind, &sink.format);
    if FILE_ONLY.contains(&key) && kind != "file" {
        Some(format!(
            "only a file sink reads it, and this sink's type is {kind:?} (set type = \"file\", or remove it)"
        ))
    } else if key == "color" && format != "pretty" {
        Some(format!(
            "only the pretty format reads it, and this sink's format is {format:?}"
        ))
    } else if key == "options" && registry.is_built_in(kind) {
        Some(format!(
            "the built-in {kind:?} type reads no options (they are for types registered in the SinkRegistry)"
        ))
    } else {
        None
    }
}

/// A standard stream a sink writes to.
#[derive(Debug, PartialEq)]
enum Stream {
    Stdout,
    Stderr,
}

/// The stream by which `color = "auto"` is decided for sink type `kind`:
/// none for a file or a registered type, not a terminal that we know of.
fn auto_color_stream(kind: &str) -> Option<Stream> {
    match kind {
        "stdout" => Some(Stream::Stdout),
        "stderr" => Some(Stream::Stderr),
        _ => None,
    }
}

/// The format of sink `index`.
fn format_for(index: usize, sink: &SinkSettings) -> Result<Box<dyn Format>, ConfigError> {
    let setting = |field: &str| format!("sinks[{index}].{field}");
    if sink.max_string_bytes == 0 {
        return Err(ConfigError::invalid(
            setting("max_string_bytes"),
            0,
            "must be at least 1",
        ));
    }
    let max = sink.max_string_bytes;
    Ok(
        match one_of(
            setting("format"),
            &sink.format,
            &["json", "logfmt", "pretty"],
        )? {
            "logfmt" => Box::new(LogfmtFormat::new().max_string_bytes(max)),
            "pretty" => {
                let color =
                    match one_of(setting("color"), &sink.color, &["auto", "always", "never"])? {
                        "always" => ColorChoice::Always,
                        "never" => ColorChoice::Never,
                        _ => ColorChoice::Auto,
                    };
                let format = match (color, auto_color_stream(&sink.kind)) {
                    (ColorChoice::Auto, Some(Stream::Stdout)) => PrettyFormat::new(),
                    (ColorChoice::Auto, Some(Stream::Stderr)) => {
                        PrettyFormat::new().color_for(color, &std::io::stderr())
                    }
                    (ColorChoice::Auto, None) => PrettyFormat::new().color(ColorChoice::Never),
                    _ => PrettyFormat::new().color(color),
                };
                Box::new(format.max_string_bytes(max))
            }
            _ => Box::new(JsonFormat::new().max_string_bytes(max)),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ConfigErrorKind;
    use crate::{Envelope, Level, RawEvent};

    /// Whether sink `kind`'s pretty format with `color` colours a line.
    fn colours(kind: &str, color: &str) -> bool {
        let sink = SinkSettings {
            kind: kind.to_owned(),
            format: "pretty".to_owned(),
            color: color.to_owned(),
            ..SinkSettings::default()
        };
        let mut out = Vec::new();
        let event = RawEvent::new(Level::Info, "x");
        format_for(0, &sink)
            .unwrap()
            .encode(&Envelope::new(&event), &mut out);
        out.contains(&0x1b)
    }

    #[test]
    fn file_sinks_with_names_rotation_never_gives_are_allowed() {
        let sinks = [
            "app.log",
            "app.log.old",
            "app.log.01",
            "app.log.20240310",
            "other/app.log.1",
        ]
        .map(|path| format!("[[sinks]]\ntype = \"file\"\npath = \"{path}\"\n"));
        let config = Config::from_toml_str(&sinks.concat()).unwrap();
        assert!(config.validate().is_ok());
    }

    #[test]
    fn a_file_sink_is_coloured_only_when_asked() {
        // Under `auto`, a sink is coloured by its own stream; a file never.
        assert_eq!(auto_color_stream("stdout"), Some(Stream::Stdout));
        assert_eq!(auto_color_stream("stderr"), Some(Stream::Stderr));
        assert_eq!(auto_color_stream("file"), None);
        assert_eq!(auto_color_stream("kafka"), None);
        assert!(!colours("file", "auto"));
        assert!(colours("file", "always"));
        assert!(!colours("stderr", "never"));
    }

    fn error_for(toml: &str) -> ConfigError {
        Config::from_toml_str(toml)
            .and_then(|c| c.validate().map(|()| c))
            .unwrap_err()
    }

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let config = Config::default();
        config.validate().unwrap();
        assert_eq!(Config::from_toml_str("").unwrap(), config);
    }

    #[test]
    fn bad_values_name_the_setting_the_value_and_what_is_allowed() {
        let cases = [
            ("level = \"loud\"", "level", "\"loud\""),
            (
                "[queue]\noverflow = \"drop_all\"",
                "queue.overflow",
                "drop_oldest, drop_newest, block",
            ),
            (
                "[queue]\noverflow = \"block\"\nblock_timeout_ms = 0",
                "queue.block_timeout_ms",
                "at least 1",
            ),
            ("[sampling]\nrate = 1.5", "sampling.rate", "0.0 to 1.0"),
            (
                "[redaction]\npatterns = [\"(\"]",
                "redaction.patterns",
                "valid regex",
            ),
            (
                "[[sinks]]\ntype = \"file\"\npath = \"app.log\"\n[[sinks]]\ntype = \"stdout\"\n[[sinks]]\ntype = \"file\"\npath = \"./app.log\"",
                "sinks[2].path",
                "sinks[0] writes the same file",
            ),
            (
                "[[sinks]]\ntype = \"file\"",
                "sinks[0].path",
                "a file sink needs a path",
            ),
            (
                "[[sinks]]\ntype = \"file\"\npath = \"a.log\"\nrotation = \"weekly\"",
                "sinks[0].rotation",
                "never, hourly, daily",
            ),
            (
                "[[sinks]]\ntype = \"stdout\"\n[[sinks]]\ntype = \"file\"\npath = \"a.log\"\nretain = 5000",
                "sinks[1].retain",
                "at most 1000",
            ),
            (
                "[[sinks]]\ntype = \"file\"\npath = \"logs/app.log\"\n[[sinks]]\ntype = \"file\"\npath = \"logs/app.log.2\"",
                "sinks[1].path",
                "one of sinks[0]'s rotated files",
            ),
            (
                "[[sinks]]\ntype = \"file\"\npath = \"app.log.10\"\n[[sinks]]\ntype = \"file\"\npath = \"./app.log\"",
                "sinks[1].path",
                "sinks[0]'s file would be one of its rotated files",
            ),
            (
                "[redaction]\nextra_fields = [\" \"]",
                "redaction.extra_fields",
                "a letter or digit",
            ),
            (
                "[redaction]\nfields = [\"password\", \"\"]",
                "redaction.fields",
                "a letter or digit",
            ),
            (
                "[aggregation]\nenabled = true",
                "aggregation.targets",
                "at least one target",
            ),
            (
                "[aggregation]\nenabled = true\ntargets = [\"db\"]\nwindow_ms = 20000",
                "aggregation.window_ms",
                "10000",
            ),
            (
                "[throttling]\nenabled = true\nkey = \"user\"",
                "throttling.key",
                "field:<name>",
            ),
            (
                "[throttling]\nenabled = true\nburst = 5000000000",
                "throttling.burst",
                "5000000000 for `throttling.burst`: must be between 1 and 1000000",
            ),
            (
                "[throttling]\nenabled = true\nburst = 0",
                "throttling.burst",
                "between 1",
            ),
            (
                "[throttling]\nburst = 5",
                "throttling.burst",
                "throttling is off unless enabled = true",
            ),
            (
                "[[sinks]]\ntype = \"null\"\nrotation = \"daily\"",
                "sinks[0].rotation",
                "only a file sink reads it",
            ),
            (
                "[[sinks]]\ntype = \"kafka\"",
                "sinks[0].type",
                "file, null, stderr, stdout",
            ),
            (
                "[[sinks]]\nformat = \"xml\"",
                "sinks[0].format",
                "json, logfmt, pretty",
            ),
            (
                "[[sinks]]\nformat = \"pretty\"\ncolor = \"rainbow\"",
                "sinks[0].color",
                "auto, always, never",
            ),
            (
                "[queue]\ncapacity = \"big\"",
                "queue.capacity",
                "expected an integer",
            ),
            ("[queue]\ncapacity = -1", "queue.capacity", "non-negative"),
            ("[queue]\ncapacity = 0", "queue.capacity", "between 1 and"),
            (
                "[writer]\ndrain_deadline_ms = 400000",
                "writer.drain_deadline_ms",
                "at most",
            ),
            (
                "[redaction]\nfields = \"password\"",
                "redaction.fields",
                "expected a list of strings",
            ),
        ];
        for (toml, setting, allowed) in cases {
            let err = error_for(toml);
            assert_eq!(err.setting(), setting, "{toml}: {err}");
            assert_eq!(err.kind(), ConfigErrorKind::InvalidValue, "{toml}");
            assert!(err.to_string().contains(allowed), "{toml}: {err}");
        }
    }

    #[test]
    fn unknown_keys_are_errors() {
        for (toml, setting) in [
            ("levle = \"info\"", "levle"),
            ("[queue]\ncapacty = 1", "queue.capacty"),
            ("[queeu]\ncapacity = 1", "queeu"),
            ("[[sinks]]\ntype = \"file\"\npth = \"x\"", "sinks[0].pth"),
        ] {
            let err = Config::from_toml_str(toml).unwrap_err();
            assert_eq!(err.kind(), ConfigErrorKind::UnknownSetting, "{toml}");
            assert_eq!(err.setting(), setting);
            assert!(err.to_string().contains("expected one of"), "{err}");
        }
        let err = Config::from_toml_str("[queue\n").unwrap_err();
        assert_eq!(err.kind(), ConfigErrorKind::Syntax);
    }

    #[test]
    fn settings_become_a_pipeline() {
        let config = Config::from_toml_str(
            r#"
            level = "warn,my_app::db=debug"
            [queue]
            overflow = "block"
            [[sinks]]
            type = "null"
            format = "logfmt"
            [aggregation]
            enabled = true
            targets = ["sqlx::pool"]
            [throttling]
            enabled = true
            key = "field:user_id"
            [enrichers]
            service_name = "checkout"
            "#,
        )
        .unwrap();
        let (pipeline, guard) = config.build().unwrap();
        assert!(pipeline.enabled_for(crate::Level::Debug, Some("my_app::db")));
        assert!(!pipeline.enabled(crate::Level::Info));
        let text = format!("{:?}", config.pipeline_builder().unwrap());
        assert!(text.contains("aggregation: Some"), "{text}");
        assert!(text.contains("throttle: Some"), "{text}");
        drop(guard);
    }
}
