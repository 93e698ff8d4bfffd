//! Logging macros: `info!(log, "message", key = value, ...)`.
//!
//! See [`event!`](crate::event!) for the field syntax.

/// Logs an event at a level given as an expression: `event!(log, Level::Warn, "msg", k = v)`.
///
/// The first argument is a [`Logger`](crate::Logger) (or a reference to one),
/// the second the message (a string literal is stored without copying), then
/// fields:
///
/// | syntax | captured as |
/// |---|---|
/// | `key = 42`, `key = "literal"` | the value itself; literals without copying |
/// | `key = expr` | [`IntoValue`](crate::IntoValue): numbers and bools as they are, strings copied (inline when short) |
/// | `key = %expr` | `Display`, rendered at the call |
/// | `key = ?expr` | `Debug`, rendered at the call |
/// | `key` | shorthand for `key = key` |
/// | `"dotted.key" = expr` | a key that is not an identifier |
/// | `error = expr` | an error (`&E` where `E: Error`, or a [`CapturedError`](crate::CapturedError)): type, message and `source()` chain, captured at the call |
///
/// Nothing is evaluated when the level is disabled for the calling module
/// (see [`LevelDirectives`](crate::LevelDirectives)).
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), fapilog_core::ConfigError> {
/// use fapilog_core::pipeline::Pipeline;
/// use fapilog_core::{debug, error, info, CapturedError};
///
/// let (pipeline, _guard) = Pipeline::builder().build()?;
/// let log = pipeline.logger();
/// let name = String::from("ada");
/// let order_id = 42u64;
/// info!(log, "order created", order_id, user = %name, amount = 9.5, "http.route" = "/orders");
/// debug!(log, "not written at INFO", expensive = ?vec![1, 2, 3]);
/// let io = std::io::Error::other("disk full");
/// error!(log, "save failed", error = &io, attempt = 3);
/// error!(log, "save failed again", error = CapturedError::new(&io).with_backtrace());
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! event {
    ($logger:expr, $level:expr, $message:expr $(,)?) => {{
        let __logger: &$crate::Logger = &$logger;
        let __level: $crate::Level = $level;
        if __logger.enabled_for(__level, ::core::module_path!()) {
            __logger.__commit(__logger.__begin(
                __level,
                ::core::option::Option::Some(::core::module_path!()),
                ::core::convert::Into::into($message),
            ));
        }
    }};
    ($logger:expr, $level:expr, $message:expr, $($fields:tt)+) => {{
        let __logger: &$crate::Logger = &$logger;
        let __level: $crate::Level = $level;
        if __logger.enabled_for(__level, ::core::module_path!()) {
            // Built first, fields pushed in place: see `RawEvent`'s size.
            let mut __event = __logger.__begin(
                __level,
                ::core::option::Option::Some(::core::module_path!()),
                ::core::convert::Into::into($message),
            );
            $crate::__fapilog_fields!(__event; $($fields)+);
            __logger.__commit(__event);
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __fapilog_fields {
    ($f:ident; $(,)?) => {};
    ($f:ident; error = $v:expr $(, $($rest:tt)*)?) => {
        $f.set_error($crate::IntoCapturedError::into_captured_error($v));
        $($crate::__fapilog_fields!($f; $($rest)*);)?
    };
    ($f:ident; $k:ident = % $v:expr $(, $($rest:tt)*)?) => {
        $crate::__fapilog_push!($f, ::core::stringify!($k), $crate::Value::display(&$v));
        $($crate::__fapilog_fields!($f; $($rest)*);)?
    };
    ($f:ident; $k:ident = ? $v:expr $(, $($rest:tt)*)?) => {
        $crate::__fapilog_push!($f, ::core::stringify!($k), $crate::Value::debug(&$v));
        $($crate::__fapilog_fields!($f; $($rest)*);)?
    };
    ($f:ident; $k:ident = $v:literal $(, $($rest:tt)*)?) => {
        $crate::__fapilog_push!($f, ::core::stringify!($k), $crate::LiteralValue::literal_value($v));
        $($crate::__fapilog_fields!($f; $($rest)*);)?
    };
    ($f:ident; $k:ident = $v:expr $(, $($rest:tt)*)?) => {
        $crate::__fapilog_push!($f, ::core::stringify!($k), $crate::IntoValue::into_value($v));
        $($crate::__fapilog_fields!($f; $($rest)*);)?
    };
    ($f:ident; $k:literal = $v:expr $(, $($rest:tt)*)?) => {
        $crate::__fapilog_push!($f, $k, $crate::IntoValue::into_value($v));
        $($crate::__fapilog_fields!($f; $($rest)*);)?
    };
    ($f:ident; % $k:ident $(, $($rest:tt)*)?) => {
        $crate::__fapilog_push!($f, ::core::stringify!($k), $crate::Value::display(&$k));
        $($crate::__fapilog_fields!($f; $($rest)*);)?
    };
    ($f:ident; ? $k:ident $(, $($rest:tt)*)?) => {
        $crate::__fapilog_push!($f, ::core::stringify!($k), $crate::Value::debug(&$k));
        $($crate::__fapilog_fields!($f; $($rest)*);)?
    };
    ($f:ident; $k:ident $(, $($rest:tt)*)?) => {
        $crate::__fapilog_push!($f, ::core::stringify!($k), $crate::IntoValue::into_value(&$k));
        $($crate::__fapilog_fields!($f; $($rest)*);)?
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __fapilog_push {
    ($f:ident, $k:expr, $v:expr) => {
        $f.push_field($crate::Key::from_static($k), $v)
    };
}

macro_rules! level_macro {
    ($d:tt $name:ident, $level:ident, $doc:literal) => {
        #[doc = $doc]
        #[macro_export]
        macro_rules! $name {
                            ($d logger:expr, $d ($d rest:tt)+) => {
                                $crate::event!($d logger, $crate::Level::$level, $d ($d rest)+)
                            };
                        }
    };
}

level_macro!($ trace, Trace, "Logs at TRACE: `trace!(log, \"message\", key = value, ...)`.");
level_macro!($ debug, Debug, "Logs at DEBUG: `debug!(log, \"message\", key = value, ...)`.");
level_macro!($ info, Info, "Logs at INFO: `info!(log, \"message\", key = value, ...)`.");
level_macro!($ warn, Warn, "Logs at WARN: `warn!(log, \"message\", key = value, ...)`.");
level_macro!($ error, Error, "Logs at ERROR: `error!(log, \"message\", key = value, ...)`.");
level_macro!($ fatal, Fatal, "Logs at FATAL: `fatal!(log, \"message\", key = value, ...)`.");

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use crate::format::JsonFormat;
    use crate::pipeline::Pipeline;
    use crate::sink::MemorySink;

    #[test]
    fn the_shorthand_takes_what_key_equals_key_takes() {
        let sink = MemorySink::new();
        let (pipeline, guard) = Pipeline::builder()
            .sink(sink.clone(), JsonFormat::new())
            .build()
            .unwrap();
        let log = pipeline.logger();
        let c = 'x';
        let o = Some(3u32);
        let n: Option<&str> = None;
        let v = vec!["a", "b"];
        let big = u128::MAX;
        let cow: Cow<'static, str> = Cow::Borrowed("c");
        info!(
            log,
            "long",
            c = c,
            o = o,
            n = n,
            v = v.clone(),
            big = big,
            cow = cow.clone()
        );
        info!(log, "short", c, o, n, v, big, cow);
        drop(guard);
        let lines = sink.lines();
        let fields = |line: &str| line[line.find(r#""c":"#).unwrap()..].to_owned();
        assert_eq!(fields(&lines[0]), fields(&lines[1]));
        assert!(
            lines[1].ends_with(
                r#""c":"x","o":3,"n":null,"v":["a","b"],"big":"340282366920938463463374607431768211455","cow":"c"}"#
            ),
            "{}",
            lines[1]
        );
    }
}
