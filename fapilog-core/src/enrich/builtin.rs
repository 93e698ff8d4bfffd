//! [`Enrichment`]: the built-in enrichers.

use crate::value::{Field, Key, Value};

/// The built-in enrichers and whether each is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrichment {
    service_name: Option<String>,
    service_version: Option<String>,
    environment: Option<String>,
    hostname: bool,
    pid: bool,
    thread_name: bool,
    kubernetes: bool,
}

impl Default for Enrichment {
    fn default() -> Self {
        Enrichment::new()
    }
}

impl Enrichment {
    /// The defaults: host name, process ID and Kubernetes fields on; thread
    /// name off (see the [`enrich`](crate::enrich) module); no service name, version or
    /// environment.
    pub fn new() -> Self {
        Enrichment {
            service_name: None,
            service_version: None,
            environment: None,
            hostname: true,
            pid: true,
            thread_name: false,
            kubernetes: true,
        }
    }

    /// Nothing added.
    pub fn none() -> Self {
        Enrichment {
            hostname: false,
            pid: false,
            thread_name: false,
            kubernetes: false,
            ..Enrichment::new()
        }
    }

    /// `service.name`. Default: not written.
    #[must_use]
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = non_empty(name.into());
        self
    }

    /// `service.version`. Default: not written.
    #[must_use]
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = non_empty(version.into());
        self
    }

    /// `deployment.environment` (`prod`, `staging`, …). Default: not written.
    #[must_use]
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = non_empty(environment.into());
        self
    }

    /// `host.name`. Default: on.
    #[must_use]
    pub fn hostname(mut self, on: bool) -> Self {
        self.hostname = on;
        self
    }

    /// `process.pid`. Default: on.
    #[must_use]
    pub fn pid(mut self, on: bool) -> Self {
        self.pid = on;
        self
    }

    /// `thread.name`, the caller's thread. Default: off, because every
    /// enabled call then reads a thread-local (about 6 ns).
    #[must_use]
    pub fn thread_name(mut self, on: bool) -> Self {
        self.thread_name = on;
        self
    }

    /// `k8s.pod.name`, `k8s.namespace.name`, `k8s.node.name` when their
    /// variables are set. Default: on.
    #[must_use]
    pub fn kubernetes(mut self, on: bool) -> Self {
        self.kubernetes = on;
        self
    }

    /// Whether `thread.name` is written.
    pub fn writes_thread_name(&self) -> bool {
        self.thread_name
    }

    /// The fields that are the same for every record, from this process's
    /// environment and host name.
    pub fn resolve(&self) -> Vec<Field> {
        self.resolve_with(|name| std::env::var(name).ok(), system_hostname())
    }

    /// The fields that are the same for every record, reading variables
    /// through `env` and using `hostname` (falling back to `$HOSTNAME` and
    /// `$COMPUTERNAME` from `env`).
    pub fn resolve_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
        hostname: Option<String>,
    ) -> Vec<Field> {
        let env = |name: &str| env(name).and_then(non_empty);
        let mut fields = Vec::new();
        // Owned, not inline: the writer reads these for every record, and an
        // owned string needs no UTF-8 check when read.
        let mut text = |key: &'static str, value: &Option<String>| {
            if let Some(v) = value {
                fields.push(Field::new(
                    Key::from_static(key),
                    Value::Owned(v.as_str().into()),
                ));
            }
        };
        text("service.name", &self.service_name);
        text("service.version", &self.service_version);
        text("deployment.environment", &self.environment);
        if self.hostname {
            let host = hostname
                .and_then(non_empty)
                .or_else(|| env("HOSTNAME"))
                .or_else(|| env("COMPUTERNAME"));
            text("host.name", &host);
        }
        if self.pid {
            fields.push(Field::new("process.pid", std::process::id()));
        }
        if self.kubernetes {
            let in_cluster = env("KUBERNETES_SERVICE_HOST").is_some();
            let pod = env("POD_NAME").or_else(|| in_cluster.then(|| env("HOSTNAME")).flatten());
            let mut text = |key: &'static str, value: Option<String>| {
                if let Some(v) = value {
                    fields.push(Field::new(Key::from_static(key), Value::Owned(v.into())));
                }
            };
            text("k8s.pod.name", pod);
            text("k8s.namespace.name", env("POD_NAMESPACE"));
            text("k8s.node.name", env("NODE_NAME"));
        }
        fields
    }
}

fn non_empty(s: String) -> Option<String> {
    let trimmed = s.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

fn system_hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .and_then(non_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(e: &Enrichment, vars: &[(&str, &str)], host: Option<&str>) -> Vec<(String, String)> {
        let env = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        e.resolve_with(env, host.map(str::to_owned))
            .into_iter()
            .map(|f| (f.key().to_owned(), format!("{:?}", f.value())))
            .collect()
    }

    #[test]
    fn kubernetes_fields_only_when_present() {
        let e = Enrichment::new().pid(false);
        assert_eq!(
            resolve(&e, &[], Some("box")),
            [("host.name".into(), "\"box\"".into())]
        );
        let vars = [
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("HOSTNAME", "api-7d9f"),
            ("POD_NAMESPACE", "shop"),
            ("NODE_NAME", "node-3"),
        ];
        let got = resolve(&e.clone().hostname(false), &vars, None);
        let keys: Vec<_> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["k8s.pod.name", "k8s.namespace.name", "k8s.node.name"]
        );
        assert_eq!(got[0].1, "\"api-7d9f\"");
        let explicit = resolve(
            &e.clone().hostname(false),
            &[("POD_NAME", "p-1"), ("HOSTNAME", "h")],
            None,
        );
        assert_eq!(explicit, [("k8s.pod.name".into(), "\"p-1\"".into())]);
        assert!(resolve(&e.hostname(false).kubernetes(false), &vars, None).is_empty());
    }

    #[test]
    fn hostname_falls_back_to_variables_and_none_writes_nothing() {
        let e = Enrichment::new().pid(false).kubernetes(false);
        assert_eq!(
            resolve(&e, &[("COMPUTERNAME", "WIN")], None)[0].1,
            "\"WIN\""
        );
        assert!(resolve(&Enrichment::none(), &[("HOSTNAME", "h")], Some("x")).is_empty());
        assert!(!Enrichment::none().writes_thread_name());
        let blank = Enrichment::none().service_name("  ");
        assert!(resolve(&blank, &[], None).is_empty());
    }
}
