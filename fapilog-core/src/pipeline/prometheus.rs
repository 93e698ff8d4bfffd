//! The metrics snapshot as Prometheus text, behind the `prometheus` feature.

use std::fmt::Write as _;

use crate::pipeline::{MetricsSnapshot, SinkMetrics};

impl MetricsSnapshot {
    /// The counters in the Prometheus text exposition format (the
    /// `prometheus` feature).
    ///
    /// ```
    /// # fn main() -> Result<(), fapilog_core::ConfigError> {
    /// use fapilog_core::pipeline::Pipeline;
    ///
    /// let (pipeline, _guard) = Pipeline::builder().build()?;
    /// let text = pipeline.metrics().to_prometheus();
    /// assert!(text.contains("# TYPE fapilog_events_written_total counter\n"));
    /// # Ok(()) }
    /// ```
    pub fn to_prometheus(&self) -> String {
        let mut out = String::with_capacity(2048);
        let plain = |v: u64| vec![(String::new(), v)];
        family(
            &mut out,
            "fapilog_events_submitted_total",
            "counter",
            "Events offered to the pipeline.",
            &plain(self.submitted),
        );
        family(
            &mut out,
            "fapilog_events_written_total",
            "counter",
            "Events accepted by every sink.",
            &plain(self.written),
        );
        let dropped: Vec<_> = self
            .dropped
            .by_reason()
            .iter()
            .map(|(reason, v)| (format!("{{reason=\"{reason}\"}}"), *v))
            .collect();
        family(
            &mut out,
            "fapilog_events_dropped_total",
            "counter",
            "Events dropped, by reason.",
            &dropped,
        );
        family(
            &mut out,
            "fapilog_events_failed_total",
            "counter",
            "Events at least one sink failed to accept.",
            &plain(self.failed),
        );
        family(
            &mut out,
            "fapilog_queue_depth",
            "gauge",
            "Events in the queue.",
            &plain(self.queue_depth as u64),
        );
        family(
            &mut out,
            "fapilog_queue_high_water",
            "gauge",
            "Most events the queue has held.",
            &plain(self.queue_high_water as u64),
        );
        family(
            &mut out,
            "fapilog_queue_capacity",
            "gauge",
            "Capacity of the queue.",
            &plain(self.queue_capacity as u64),
        );
        family(
            &mut out,
            "fapilog_batches_total",
            "counter",
            "Batches written.",
            &plain(self.batches),
        );
        family(
            &mut out,
            "fapilog_loss_records_total",
            "counter",
            "In-band loss reports written.",
            &plain(self.loss_records),
        );
        family(
            &mut out,
            "fapilog_throttle_records_total",
            "counter",
            "Records throttling wrote when a key started or stopped being throttled.",
            &plain(self.throttle_records),
        );
        family(
            &mut out,
            "fapilog_redaction_failures_total",
            "counter",
            "Fields dropped because they could not be redacted.",
            &plain(self.redaction_failures),
        );
        let per_sink = |f: fn(&SinkMetrics) -> u64| -> Vec<(String, u64)> {
            self.sinks
                .iter()
                .map(|s| (format!("{{sink=\"{}\"}}", escape_label(&s.name)), f(s)))
                .collect()
        };
        family(
            &mut out,
            "fapilog_sink_errors_total",
            "counter",
            "Batches a sink failed to write.",
            &per_sink(|s| s.errors),
        );
        family(
            &mut out,
            "fapilog_sink_panics_total",
            "counter",
            "Batches during which a sink or format panicked.",
            &per_sink(|s| s.panics),
        );
        family(
            &mut out,
            "fapilog_sink_events_failed_total",
            "counter",
            "Events a sink did not receive.",
            &per_sink(|s| s.events_failed),
        );
        for counter in &self.extra {
            let name = counter.name;
            // One bad family makes a scraper reject the whole text: an extra
            // counter that would is left out, with a comment saying why.
            if !is_metric_name(name) {
                let _ = writeln!(out, "# fapilog: left out {name:?}: not a metric name");
            } else if out.contains(&format!("# TYPE {name} ")) {
                let _ = writeln!(out, "# fapilog: left out {name:?}: name already used");
            } else {
                family(
                    &mut out,
                    name,
                    "counter",
                    counter.help,
                    &plain(counter.value),
                );
            }
        }
        out
    }
}

/// Whether `name` is a Prometheus metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Writes one metric family: its help, its type and its samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, u64)]) {
    let help = escape_help(help);
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

/// A `# HELP` text as the exposition format wants it: `\\` and `\n` escaped.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::pipeline::metrics::{sample_snapshot, Counters};
    use crate::pipeline::queue::QueueCounts;
    use crate::pipeline::{ExtraCounter, MetricsSource};

    #[test]
    fn families_have_their_types_labels_and_extra_counters() {
        let m = sample_snapshot("file:/tmp/a\"b.log", 1);
        let text = m.to_prometheus();
        assert!(text.contains("fapilog_events_dropped_total{reason=\"sampling\"} 2\n"));
        assert!(text.contains("fapilog_events_dropped_total{reason=\"throttled\"} 2\n"));
        assert!(text.contains("fapilog_redaction_failures_total 1\n"));
        assert!(text.contains("fapilog_sink_errors_total{sink=\"file:/tmp/a\\\"b.log\"} 1\n"));
        assert!(text.contains("# TYPE fapilog_queue_depth gauge\n"));
        assert!(text.contains("# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\nx_requests_total 5\n"));
    }

    #[test]
    fn an_extra_counter_that_would_break_the_text_is_left_out_with_a_comment() {
        #[derive(Debug)]
        struct Clashing;
        impl MetricsSource for Clashing {
            fn collect(&self, out: &mut Vec<ExtraCounter>) {
                out.push(ExtraCounter::new(
                    "fapilog_events_written_total",
                    "Mine.",
                    9,
                ));
                out.push(ExtraCounter::new("x_total", "First.", 1));
                out.push(ExtraCounter::new("x_total", "Again.", 2));
                out.push(ExtraCounter::new("bad-name", "Dash.", 3));
                out.push(ExtraCounter::new("", "Empty.", 4));
                out.push(ExtraCounter::new("y:ok_total", "Fine.", 5));
            }
        }
        let sources: [Arc<dyn MetricsSource>; 1] = [Arc::new(Clashing)];
        let q = QueueCounts::default();
        let m = MetricsSnapshot::read(&Counters::default(), || q, 1, &sources);
        // Readings of one name are summed (every layer reports its own).
        assert_eq!(m.extra.len(), 5, "the snapshot keeps every name");
        let text = m.to_prometheus();
        for family in ["fapilog_events_written_total", "x_total"] {
            let typed = format!("# TYPE {family} counter");
            assert_eq!(text.matches(&typed).count(), 1, "{text}");
        }
        assert!(text.contains("fapilog_events_written_total 0\n"));
        assert!(text.contains("x_total 3\n"));
        assert!(text
            .contains("# fapilog: left out \"fapilog_events_written_total\": name already used\n"));
        assert!(text.contains("# fapilog: left out \"bad-name\": not a metric name\n"));
        assert!(text.contains("# fapilog: left out \"\": not a metric name\n"));
        assert!(text.contains("y:ok_total 5\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split([' ', '{']).next().unwrap();
            assert!(is_metric_name(name), "{line}");
        }
    }

    #[test]
    fn help_text_is_escaped() {
        #[derive(Debug)]
        struct Odd;
        impl MetricsSource for Odd {
            fn collect(&self, out: &mut Vec<ExtraCounter>) {
                out.push(ExtraCounter::new(
                    "x_total",
                    "Requests\nby C:\\path.\nSecond line.",
                    1,
                ));
            }
        }
        let sources: [Arc<dyn MetricsSource>; 1] = [Arc::new(Odd)];
        let q = QueueCounts::default();
        let text = MetricsSnapshot::read(&Counters::default(), || q, 1, &sources).to_prometheus();
        assert!(
            text.contains(
                "# HELP x_total Requests\\nby C:\\\\path.\\nSecond line.\n# TYPE x_total counter\n"
            ),
            "{text}"
        );
        // Every line is a comment or a sample.
        assert!(
            text.lines().all(|l| l.starts_with('#') || l.contains(' ')),
            "{text}"
        );
    }
}
