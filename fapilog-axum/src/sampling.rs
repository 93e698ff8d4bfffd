//! Deterministic sampling: one keep/drop decision per request, the same in every process.
//!
//! The decision comes from the correlation ID alone:
//! `keep = xxh64(id, seed 0) % 10_000 < round(rate × 10_000)`, so every
//! service that sees the same ID and rate decides the same. Path rules and a
//! trusted upstream decision take precedence over the hash; see
//! [`SamplingConfig::decide`]. The algorithm and its test vectors are in
//! `docs/sampling.md`.
//!
//! # Example
//!
//! ```
//! use fapilog_axum::sampling::{self, DecisionReason, SamplingConfig};
//! use http::HeaderMap;
//!
//! let config = SamplingConfig::new()
//!     .rate(0.1)?
//!     .never_path("/health")?
//!     .always_path("/api/v1/payments/*")?;
//! let headers = HeaderMap::new();
//!
//! let d = config.decide("/health", "req-1", &headers);
//! assert!(!d.keep && d.is_excluded());
//!
//! let d = config.decide("/api/v1/payments/42", "req-1", &headers);
//! assert!(d.keep);
//! assert_eq!(d.reason, DecisionReason::AlwaysPath);
//!
//! let d = config.decide("/users", "req-1", &headers);
//! assert_eq!(d.reason, DecisionReason::Hash);
//! assert_eq!(d.keep, sampling::is_kept("req-1", 0.1));
//! # Ok::<(), fapilog_core::ConfigError>(())
//! ```

use fapilog_core::config::SamplingSettings;
use fapilog_core::ConfigError;
use http::{HeaderMap, HeaderName};
use xxhash_rust::xxh64::xxh64;

/// The number of buckets IDs are hashed into: rates have a resolution of 1/10 000.
pub const BUCKETS: u32 = 10_000;

/// The header conventionally carrying an upstream sampling decision: `x-log-sampled`.
///
/// It is only read when configured with [`SamplingConfig::trust_upstream`].
pub const DEFAULT_UPSTREAM_HEADER: &str = "x-log-sampled";

/// The frozen hash of a correlation ID: XXH64 with seed 0 over its UTF-8 bytes.
///
/// This function never changes between versions; `docs/sampling.md` lists test vectors.
pub fn stable_hash(id: &str) -> u64 {
    hash_of(id.as_bytes())
}

/// The frozen hash itself, over bytes.
fn hash_of(id: &[u8]) -> u64 {
    xxh64(id, 0)
}

/// The bucket of a correlation ID: `stable_hash(id) % 10_000`, in `0..10_000`.
pub fn bucket(id: &str) -> u32 {
    bucket_of(id.as_bytes())
}

fn bucket_of(id: &[u8]) -> u32 {
    // The remainder is below 10 000, so the conversion is lossless.
    (hash_of(id) % u64::from(BUCKETS)) as u32
}

/// The number of kept buckets for `rate`: `round(rate × 10_000)`.
///
/// Rounding is half away from zero ([`f64::round`]). The result is clamped to
/// `0..=10_000`; NaN gives 0.
pub fn threshold(rate: f64) -> u32 {
    // `as` saturates: negative values and NaN become 0.
    ((rate * f64::from(BUCKETS)).round() as u32).min(BUCKETS)
}

/// Whether the hash keeps `id` at `rate`: `bucket(id) < threshold(rate)`.
pub fn is_kept(id: &str, rate: f64) -> bool {
    keeps_bucket_of(id.as_bytes(), threshold(rate))
}

/// `bucket(id) < threshold`. Every bucket is below 10 000 and none below 0,
/// so at rates 1.0 and 0.0 the answer needs no hash.
fn keeps_bucket_of(id: &[u8], threshold: u32) -> bool {
    match threshold {
        0 => false,
        BUCKETS.. => true,
        _ => bucket_of(id) < threshold,
    }
}

/// A sampling rate in `0.0..=1.0`: the fraction of requests kept.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct SampleRate(f64);

impl SampleRate {
    /// Keep every request (1.0). The default.
    pub const ALWAYS: SampleRate = SampleRate(1.0);

    /// Keep no request (0.0) unless a path rule, upstream decision or error promotes it.
    pub const NEVER: SampleRate = SampleRate(0.0);

    /// Validates `rate`.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `sampling.rate` if `rate` is NaN or outside `0.0..=1.0`.
    pub fn new(rate: f64) -> Result<SampleRate, ConfigError> {
        if (0.0..=1.0).contains(&rate) {
            Ok(SampleRate(rate))
        } else {
            Err(ConfigError::invalid(
                "sampling.rate",
                rate,
                "must be a number from 0.0 to 1.0",
            ))
        }
    }

    /// The rate as a fraction.
    pub fn get(self) -> f64 {
        self.0
    }

    /// The number of kept buckets out of 10 000 ([`threshold`]).
    pub fn threshold(self) -> u32 {
        threshold(self.0)
    }
}

impl Default for SampleRate {
    fn default() -> Self {
        SampleRate::ALWAYS
    }
}

/// A path rule, matched against the matched route or the request path.
///
/// Syntax: a rule starts with `/`. A rule ending in `*` is a prefix rule
/// matching every path that starts with the text before the `*`
/// (`/api/v1/payments/*` matches `/api/v1/payments/42` but not
/// `/api/v1/payments`; `/api/v1/payments*` matches both). Any other rule
/// matches only that exact path (`/health`). `*` is allowed only at the end,
/// and whitespace and control characters are not allowed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathRule {
    /// Matches exactly this path.
    Exact(String),
    /// Matches every path starting with this text.
    Prefix(String),
}

impl PathRule {
    /// Parses a rule (see the type's documentation for the syntax).
    ///
    /// ```
    /// use fapilog_axum::sampling::PathRule;
    ///
    /// assert_eq!(PathRule::parse("/health")?, PathRule::Exact("/health".into()));
    /// assert_eq!(PathRule::parse("/internal/*")?, PathRule::Prefix("/internal/".into()));
    /// assert!(PathRule::parse("health").is_err());
    /// # Ok::<(), fapilog_core::ConfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `sampling.path_rule` for a rule that is empty,
    /// does not start with `/`, has a `*` before its end, or holds whitespace
    /// or control characters.
    pub fn parse(rule: &str) -> Result<PathRule, ConfigError> {
        Self::parse_for("sampling.path_rule", rule)
    }

    fn parse_for(setting: &'static str, rule: &str) -> Result<PathRule, ConfigError> {
        fapilog_core::config::check_path_rule(setting, rule)?;
        Ok(match rule.strip_suffix('*') {
            Some(prefix) => PathRule::Prefix(prefix.to_owned()),
            None => PathRule::Exact(rule.to_owned()),
        })
    }

    /// Whether `path` matches this rule.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathRule::Exact(p) => path == p,
            PathRule::Prefix(p) => path.starts_with(p.as_str()),
        }
    }
}

/// Parses an upstream sampling decision header value.
///
/// `true` and `1` mean kept, `false` and `0` mean not kept (`true`/`false`
/// are ASCII case-insensitive). Anything else is `None`: the header is
/// ignored and the hash decides.
pub fn parse_upstream(value: &[u8]) -> Option<bool> {
    if value == b"1" || value.eq_ignore_ascii_case(b"true") {
        Some(true)
    } else if value == b"0" || value.eq_ignore_ascii_case(b"false") {
        Some(false)
    } else {
        None
    }
}

/// Why a request was or was not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecisionReason {
    /// The path matched a never-sample rule.
    NeverPath,
    /// The path matched an always-sample rule.
    AlwaysPath,
    /// A trusted upstream header decided.
    Upstream,
    /// The correlation ID's hash decided.
    Hash,
}

/// The sampling decision for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SamplingDecision {
    /// Whether the request's events are written.
    pub keep: bool,
    /// What decided.
    pub reason: DecisionReason,
}

impl SamplingDecision {
    /// True when the path is excluded by a never-sample rule.
    pub fn is_excluded(&self) -> bool {
        self.reason == DecisionReason::NeverPath
    }
}

/// Sampling configuration: the rate, path rules and an optional trusted upstream header.
#[derive(Clone, Debug, Default)]
pub struct SamplingConfig {
    rate: SampleRate,
    always: Vec<PathRule>,
    never: Vec<PathRule>,
    trust_upstream: Option<HeaderName>,
}

impl TryFrom<&SamplingSettings> for SamplingConfig {
    type Error = ConfigError;

    /// The rate, path rules and trusted header of the core's plain-data
    /// `[sampling]` settings (the buffers are applied by
    /// [`FapilogLayerBuilder::sampling_settings`](crate::FapilogLayerBuilder::sampling_settings)).
    ///
    /// ```
    /// use fapilog_axum::SamplingConfig;
    /// use fapilog_core::config::Config;
    ///
    /// let config = Config::from_toml_str("[sampling]\nrate = 0.1\nnever_paths = [\"/health\"]").unwrap();
    /// let sampling = SamplingConfig::try_from(&config.sampling).unwrap();
    /// assert_eq!(sampling.get_rate().get(), 0.1);
    /// assert_eq!(sampling.never_paths().len(), 1);
    /// ```
    fn try_from(settings: &SamplingSettings) -> Result<Self, Self::Error> {
        let mut config = SamplingConfig::new().rate(settings.rate)?;
        for rule in &settings.always_paths {
            config = config.always_path(rule)?;
        }
        for rule in &settings.never_paths {
            config = config.never_path(rule)?;
        }
        if !settings.trust_upstream.is_empty() {
            config = config.trust_upstream(&settings.trust_upstream)?;
        }
        Ok(config)
    }
}

impl SamplingConfig {
    /// The defaults: rate 1.0 (keep everything), no path rules, no upstream header trusted.
    pub fn new() -> Self {
        Self::default()
    }

    /// The fraction of requests kept by the hash. Default: 1.0.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `sampling.rate` if `rate` is NaN or outside `0.0..=1.0`.
    pub fn rate(self, rate: f64) -> Result<Self, ConfigError> {
        Ok(self.sample_rate(SampleRate::new(rate)?))
    }

    /// The fraction of requests kept by the hash, already validated. Default: [`SampleRate::ALWAYS`].
    #[must_use]
    pub fn sample_rate(mut self, rate: SampleRate) -> Self {
        self.rate = rate;
        self
    }

    /// Adds a path that is always kept (see [`PathRule`] for the syntax). Default: none.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `sampling.always_paths` for an invalid rule.
    pub fn always_path(mut self, rule: &str) -> Result<Self, ConfigError> {
        self.always
            .push(PathRule::parse_for("sampling.always_paths", rule)?);
        Ok(self)
    }

    /// Adds a path that is never kept, such as `/health` (see [`PathRule`]). Default: none.
    ///
    /// Never-paths win over always-paths. Like any unkept request, one that
    /// fails (an ERROR event, a 5xx, a panic) is promoted and keeps its logs.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `sampling.never_paths` for an invalid rule.
    pub fn never_path(mut self, rule: &str) -> Result<Self, ConfigError> {
        self.never
            .push(PathRule::parse_for("sampling.never_paths", rule)?);
        Ok(self)
    }

    /// Trusts an upstream decision in header `name` (conventionally
    /// [`DEFAULT_UPSTREAM_HEADER`]). Default: no header is trusted.
    ///
    /// Only enable this behind a proxy or gateway that sets or strips the
    /// header, or clients can force their requests to be logged.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming `sampling.trust_upstream` if `name` is not a
    /// valid HTTP header name.
    pub fn trust_upstream(mut self, name: &str) -> Result<Self, ConfigError> {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            ConfigError::invalid(
                "sampling.trust_upstream",
                format!("{name:?}"),
                "must be a valid HTTP header name (token characters, not empty)",
            )
        })?;
        self.trust_upstream = Some(header);
        Ok(self)
    }

    /// The configured rate.
    pub fn get_rate(&self) -> SampleRate {
        self.rate
    }

    /// The always-kept path rules.
    pub fn always_paths(&self) -> &[PathRule] {
        &self.always
    }

    /// The never-kept path rules.
    pub fn never_paths(&self) -> &[PathRule] {
        &self.never
    }

    /// The trusted upstream header, if any.
    pub fn upstream_header(&self) -> Option<&HeaderName> {
        self.trust_upstream.as_ref()
    }

    /// Decides whether to keep a request.
    ///
    /// `route_or_path` is the matched route if known, else the request path.
    /// Precedence, first match wins:
    ///
    /// 1. a never-path rule matches → not kept ([`DecisionReason::NeverPath`]);
    /// 2. an always-path rule matches → kept ([`DecisionReason::AlwaysPath`]);
    /// 3. an upstream header is trusted and its first value is well-formed
    ///    ([`parse_upstream`]) → that value ([`DecisionReason::Upstream`]);
    /// 4. otherwise [`is_kept`]`(id, rate)` ([`DecisionReason::Hash`]).
    pub fn decide(&self, route_or_path: &str, id: &str, headers: &HeaderMap) -> SamplingDecision {
        self.decide_bytes(route_or_path, id.as_bytes(), headers)
    }

    /// [`decide`](Self::decide) with the ID's bytes.
    pub(crate) fn decide_bytes(
        &self,
        route_or_path: &str,
        id: &[u8],
        headers: &HeaderMap,
    ) -> SamplingDecision {
        let decision = |keep, reason| SamplingDecision { keep, reason };
        if self.never.iter().any(|r| r.matches(route_or_path)) {
            return decision(false, DecisionReason::NeverPath);
        }
        if self.always.iter().any(|r| r.matches(route_or_path)) {
            return decision(true, DecisionReason::AlwaysPath);
        }
        if let Some(keep) = self
            .trust_upstream
            .as_ref()
            .and_then(|name| headers.get(name))
            .and_then(|v| parse_upstream(v.as_bytes()))
        {
            return decision(keep, DecisionReason::Upstream);
        }
        decision(
            keeps_bucket_of(id, self.rate.threshold()),
            DecisionReason::Hash,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// (id, XXH64 seed 0, bucket, kept at 0.01, kept at 0.1, kept at 0.5).
    /// The same table is in `docs/sampling.md`; it must never change.
    /// Cross-checked against an independent XXH64 implementation.
    const VECTORS: [(&str, u64, u32, bool, bool, bool); 12] = [
        ("", 0xef46db3751d8e999, 6921, false, false, false),
        ("a", 0xd24ec4f1a98c6e5b, 2955, false, false, true),
        ("req-1", 0xd2168ccd8435db70, 7408, false, false, false),
        ("req-2", 0xdd4649796e7c202f, 8703, false, false, false),
        ("req-58", 0x248c1f848982019a, 346, false, true, true),
        ("req-85", 0x10ea03506b6a5c65, 69, true, true, true),
        (
            "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            0xc1c458571da87539,
            8585,
            false,
            false,
            false,
        ),
        (
            "9b2f6c1a-5d3e-4f7a-8b9c-0d1e2f3a4b5c",
            0xbbffaad861896ccb,
            5403,
            false,
            false,
            false,
        ),
        (
            "0190f1e2-7a3b-7c4d-8e5f-0123456789ab",
            0x68787c7e6b2e1530,
            9776,
            false,
            false,
            false,
        ),
        (
            "01920a5e-3c4d-7e8f-9a0b-1c2d3e4f5a6b",
            0xb918c67a045f0c95,
            1669,
            false,
            false,
            true,
        ),
        (
            "4bf92f3577b34da6a3ce929d0e0e4736",
            0x2ab28d25664b8cfd,
            3773,
            false,
            false,
            true,
        ),
        (
            "0af7651916cd43dd8448eb211c80319c",
            0x82d8c03acc9eb486,
            2502,
            false,
            false,
            true,
        ),
    ];

    #[test]
    fn pinned_vectors() {
        for (id, hash, b, k001, k01, k05) in VECTORS {
            assert_eq!(stable_hash(id), hash, "hash of {id:?}");
            assert_eq!(bucket(id), b, "bucket of {id:?}");
            assert_eq!(
                (is_kept(id, 0.01), is_kept(id, 0.1), is_kept(id, 0.5)),
                (k001, k01, k05),
                "decisions for {id:?}"
            );
            assert!(is_kept(id, 1.0));
            assert!(!is_kept(id, 0.0));
        }
        // Decimal forms as printed in the docs.
        assert_eq!(stable_hash("req-1"), 15138442011766807408);
        assert_eq!(stable_hash(""), 17241709254077376921);
    }

    #[test]
    fn docs_table_matches_pinned_vectors() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let in_repository = std::fs::read_to_string(format!("{root}/Cargo.toml"))
            .is_ok_and(|toml| toml.contains("fapilog-axum"));
        if !in_repository {
            return; // built from a published package: there is no docs/ to check
        }
        let doc = std::fs::read_to_string(format!("{root}/docs/sampling.md"))
            .expect("docs/sampling.md, the published algorithm and vectors");
        for (id, hash, b, k001, k01, k05) in VECTORS {
            let start = format!("| `{id}`");
            let end = format!("| {hash} | 0x{hash:016x} | {b} | {k001} | {k01} | {k05} |");
            assert!(
                doc.lines()
                    .any(|l| l.starts_with(&start) && l.ends_with(&end)),
                "docs/sampling.md has no row {start} … {end}"
            );
        }
    }

    #[test]
    fn thresholds_round_half_away_from_zero() {
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(1.0), 10_000);
        assert_eq!(threshold(0.1), 1_000);
        assert_eq!(threshold(0.01), 100);
        assert_eq!(threshold(0.5), 5_000);
        assert_eq!(threshold(0.00005), 1);
        assert_eq!(threshold(0.00004), 0);
        assert_eq!(threshold(0.12345), 1_235);
        assert_eq!(threshold(f64::NAN), 0);
        assert_eq!(threshold(-1.0), 0);
        assert_eq!(threshold(2.0), 10_000);
    }

    /// xorshift64: a tiny deterministic PRNG for the distribution test.
    fn xorshift(state: &mut u64) -> u64 {
        let mut x = *state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *state = x;
        x
    }

    #[test]
    fn kept_fraction_matches_rate_over_a_million_ids() {
        const N: u32 = 1_000_000;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut buf = uuid::Uuid::encode_buffer();
        let mut kept = [0u32; 5];
        let rates = [0.0, 0.1, 0.5, 1.0];
        let thresholds = rates.map(threshold);
        for _ in 0..N {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&xorshift(&mut state).to_le_bytes());
            bytes[8..].copy_from_slice(&xorshift(&mut state).to_le_bytes());
            let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
            let id = uuid.hyphenated().encode_lower(&mut buf);
            let b = bucket(id);
            for (k, t) in kept.iter_mut().zip(thresholds) {
                *k += u32::from(b < t);
            }
        }
        assert_eq!(kept[0], 0);
        assert_eq!(kept[3], N);
        let tenth = f64::from(kept[1]) / f64::from(N);
        assert!(
            (0.099..=0.101).contains(&tenth),
            "kept fraction at 0.1: {tenth}"
        );
        let half = f64::from(kept[2]) / f64::from(N);
        assert!(
            (0.495..=0.505).contains(&half),
            "kept fraction at 0.5: {half}"
        );
    }

    #[test]
    fn invalid_rates_are_config_errors() {
        for bad in [-0.1, 1.0001, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = SampleRate::new(bad).unwrap_err();
            assert_eq!(err.setting(), "sampling.rate");
            assert_eq!(
                SamplingConfig::new().rate(bad).unwrap_err().setting(),
                "sampling.rate"
            );
        }
        assert_eq!(SampleRate::new(0.0).unwrap().get(), 0.0);
        assert_eq!(SampleRate::new(1.0).unwrap(), SampleRate::ALWAYS);
        assert_eq!(SampleRate::default(), SampleRate::ALWAYS);
        assert_eq!(SampleRate::new(0.25).unwrap().threshold(), 2_500);
    }

    #[test]
    fn path_rule_parsing() {
        assert_eq!(
            PathRule::parse("/health").unwrap(),
            PathRule::Exact("/health".into())
        );
        assert_eq!(PathRule::parse("/").unwrap(), PathRule::Exact("/".into()));
        assert_eq!(
            PathRule::parse("/api/v1/payments/*").unwrap(),
            PathRule::Prefix("/api/v1/payments/".into())
        );
        assert_eq!(PathRule::parse("/*").unwrap(), PathRule::Prefix("/".into()));
        for bad in [
            "", "health", "*", "/a/*/b", "/a**", "/he alth", "/a\n", "/a\t*",
        ] {
            let err = PathRule::parse(bad).unwrap_err();
            assert_eq!(err.setting(), "sampling.path_rule", "{bad:?}");
        }
        assert_eq!(
            SamplingConfig::new()
                .always_path("x")
                .unwrap_err()
                .setting(),
            "sampling.always_paths"
        );
        assert_eq!(
            SamplingConfig::new()
                .never_path("/a*b")
                .unwrap_err()
                .setting(),
            "sampling.never_paths"
        );
    }

    #[test]
    fn path_rule_matching() {
        let exact = PathRule::parse("/health").unwrap();
        assert!(exact.matches("/health"));
        assert!(!exact.matches("/health/"));
        assert!(!exact.matches("/healthz"));
        let prefix = PathRule::parse("/api/v1/payments/*").unwrap();
        assert!(prefix.matches("/api/v1/payments/"));
        assert!(prefix.matches("/api/v1/payments/42"));
        assert!(!prefix.matches("/api/v1/payments"));
        let loose = PathRule::parse("/api/v1/payments*").unwrap();
        assert!(loose.matches("/api/v1/payments"));
        assert!(loose.matches("/api/v1/payments/42"));
    }

    #[test]
    fn upstream_parsing() {
        for (value, expected) in [
            (&b"true"[..], Some(true)),
            (b"TRUE", Some(true)),
            (b"True", Some(true)),
            (b"1", Some(true)),
            (b"false", Some(false)),
            (b"False", Some(false)),
            (b"0", Some(false)),
            (b"", None),
            (b"yes", None),
            (b" true", None),
            (b"10", None),
            (b"true,false", None),
        ] {
            assert_eq!(parse_upstream(value), expected, "{value:?}");
        }
        assert!(SamplingConfig::new().trust_upstream("bad header").is_err());
        assert_eq!(
            SamplingConfig::new()
                .trust_upstream("")
                .unwrap_err()
                .setting(),
            "sampling.trust_upstream"
        );
    }

    fn upstream(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(DEFAULT_UPSTREAM_HEADER, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn precedence() {
        // "req-85" is kept by the hash at 0.1, "req-1" is not.
        let config = SamplingConfig::new()
            .rate(0.1)
            .unwrap()
            .never_path("/health")
            .unwrap()
            .never_path("/api/v1/payments/internal/*")
            .unwrap()
            .always_path("/api/v1/payments/*")
            .unwrap()
            .always_path("/health")
            .unwrap()
            .trust_upstream(DEFAULT_UPSTREAM_HEADER)
            .unwrap();
        let none = HeaderMap::new();
        let d = |path, id, h: &HeaderMap| {
            let d = config.decide(path, id, h);
            (d.keep, d.reason)
        };

        // Never beats always, upstream and hash.
        assert_eq!(
            d("/health", "req-85", &upstream("true")),
            (false, DecisionReason::NeverPath)
        );
        assert_eq!(
            d("/api/v1/payments/internal/x", "req-85", &none),
            (false, DecisionReason::NeverPath)
        );
        assert!(config.decide("/health", "req-85", &none).is_excluded());
        // Always beats upstream and hash.
        assert_eq!(
            d("/api/v1/payments/1", "req-1", &upstream("false")),
            (true, DecisionReason::AlwaysPath)
        );
        assert!(!config
            .decide("/api/v1/payments/1", "req-1", &none)
            .is_excluded());
        // Upstream beats hash, both ways.
        assert_eq!(
            d("/users", "req-1", &upstream("true")),
            (true, DecisionReason::Upstream)
        );
        assert_eq!(
            d("/users", "req-85", &upstream("0")),
            (false, DecisionReason::Upstream)
        );
        // A malformed upstream header falls through to the hash.
        assert_eq!(
            d("/users", "req-85", &upstream("maybe")),
            (true, DecisionReason::Hash)
        );
        assert_eq!(
            d("/users", "req-1", &upstream("maybe")),
            (false, DecisionReason::Hash)
        );
        assert_eq!(d("/users", "req-1", &none), (false, DecisionReason::Hash));
    }

    #[test]
    fn upstream_ignored_unless_trusted() {
        let config = SamplingConfig::new().rate(0.1).unwrap();
        assert!(config.upstream_header().is_none());
        let d = config.decide("/users", "req-1", &upstream("true"));
        assert_eq!((d.keep, d.reason), (false, DecisionReason::Hash));
    }

    #[test]
    fn defaults_keep_everything() {
        let config = SamplingConfig::new();
        assert_eq!(config.get_rate(), SampleRate::ALWAYS);
        assert!(config.always_paths().is_empty() && config.never_paths().is_empty());
        for (id, ..) in VECTORS {
            assert!(config.decide("/", id, &HeaderMap::new()).keep);
        }
        let none = SamplingConfig::new().sample_rate(SampleRate::NEVER);
        for (id, ..) in VECTORS {
            assert!(!none.decide("/", id, &HeaderMap::new()).keep);
        }
    }
}
