//! Secret canaries sent to a real server — in headers, the query string, URL
//! credentials, card numbers and a `password` field, on the normal, error and
//! panic paths — reach no sink, whatever its format.

mod support;

use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use fapilog::{error, info, Logger};
use fapilog_axum::{AccessLogConfig, FapilogLayer};
use serde_json::Value as Json;
use support::server::{get as http_get, serve};

const AUTH: &str = "cnry-authz-51f0";
const COOKIE: &str = "cnry-cookie-8c2e";
const SET_COOKIE: &str = "cnry-setcookie-3b9d";
const PROXY: &str = "cnry-proxy-77aa";
const API_KEY: &str = "cnry-apikey-0d4c";
const QUERY: &str = "cnry-query-e61b";
const URL_PASS: &str = "cnry-urlpass-9f13";
const PASSWORD: &str = "cnry-password-c5a8";
/// `svc:cnry-basic-4e21` in base64: Basic credentials, written in free text.
const BASIC: &str = "c3ZjOmNucnktYmFzaWMtNGUyMQ==";
/// Luhn-valid (a test Visa number).
const CARD: &str = "4111 1111 1111 1111";

/// Every form a canary could take in the output.
fn canaries() -> Vec<String> {
    let mut all: Vec<String> = [
        AUTH, COOKIE, SET_COOKIE, PROXY, API_KEY, QUERY, URL_PASS, PASSWORD, CARD, BASIC,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    all.push(CARD.replace(' ', ""));
    all.push(CARD.replace(' ', "-"));
    all.push("cnry-basic-4e21".to_owned());
    all
}

fn upstream_url() -> String {
    format!("https://svc:{URL_PASS}@pay.example/charge?token={QUERY}")
}

/// The normal path: logs the full URI (with its query), a password field,
/// the cookie it received and the one it sets, a DSN and a card number.
async fn login(log: Logger, uri: Uri, headers: HeaderMap) -> impl IntoResponse {
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let set_cookie = format!("session={SET_COOKIE}; HttpOnly");
    info!(
        log,
        format!("login from {uri}"),
        uri = uri.to_string(),
        password = PASSWORD,
        cookie = cookie,
        set_cookie = set_cookie.clone(),
        dsn = format!("postgres://app:{URL_PASS}@db/shop"),
        note = format!("card on file {CARD}"),
        upstream = upstream_url()
    );
    ([(header::SET_COOKIE, set_cookie)], "welcome")
}

/// The error path: the error's message carries every kind of secret.
async fn charge(log: Logger) -> StatusCode {
    let err = std::io::Error::other(format!(
        "POST {} failed for card {CARD}; sent Authorization: Bearer {AUTH}; password={PASSWORD}; proxy said Basic {BASIC}",
        upstream_url()
    ));
    error!(log, "charge failed", error = &err);
    StatusCode::BAD_GATEWAY
}

/// The panic path: the panic message carries the secrets.
async fn explode() -> &'static str {
    panic!(
        "charging {CARD} via {} with Bearer {AUTH} and password={PASSWORD}",
        upstream_url()
    );
}

#[tokio::test]
async fn canaries_reach_no_sink_on_any_path() {
    let (pipeline, guard, [json, logfmt, pretty]) = support::three_formats();
    let mut access = AccessLogConfig::new().user_agent(true);
    for name in [
        "authorization",
        "cookie",
        "proxy-authorization",
        "x-api-key",
        "set-cookie",
    ] {
        access = access.header(name).unwrap();
    }
    let layer = FapilogLayer::builder()
        .pipeline(pipeline.clone())
        .access_log(access)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/login", get(login))
        .route("/charge", get(charge))
        .route("/explode", get(explode))
        .layer(layer);
    let (addr, stop, _) = serve(app).await;

    let bearer = format!("Bearer {AUTH}");
    let cookie = format!("session={COOKIE}; theme=dark");
    let proxy = format!("Basic {PROXY}");
    let ua = format!("curl/8 (Bearer {AUTH})");
    let headers: Vec<(&str, &[u8])> = vec![
        ("authorization", bearer.as_bytes()),
        ("cookie", cookie.as_bytes()),
        ("proxy-authorization", proxy.as_bytes()),
        ("x-api-key", API_KEY.as_bytes()),
        ("user-agent", ua.as_bytes()),
    ];
    let mut statuses = Vec::new();
    for target in [
        format!("/login?token={QUERY}&user=ada"),
        format!("http://ada:{URL_PASS}@localhost/login?token={QUERY}"),
        format!("/charge?access_token={QUERY}"),
        format!("/explode?password={PASSWORD}"),
    ] {
        let res = http_get(addr, &target, &headers).await;
        if target.contains("/login") {
            let set_cookie = res.header("set-cookie").unwrap_or_default();
            assert!(set_cookie.contains(SET_COOKIE), "the app's own response");
        }
        statuses.push(res.status);
    }
    let _ = stop.send(());
    let report = guard.shutdown(std::time::Duration::from_secs(5));
    assert_eq!(report.metrics.failed, 0);

    for (name, sink) in [("json", &json), ("logfmt", &logfmt), ("pretty", &pretty)] {
        let text = sink.text();
        for canary in canaries() {
            assert!(
                !text.contains(&canary),
                "{name}: canary {canary:?} leaked:\n{text}"
            );
        }
        assert!(text.contains("[REDACTED]"), "{name}");
    }

    // The test is not vacuous: every request and every path was logged.
    let events = json.events();
    let msgs: Vec<&str> = events.iter().filter_map(|e| e["msg"].as_str()).collect();
    let logins = msgs.iter().filter(|m| m.starts_with("login from")).count();
    let answered_login = statuses[..2].iter().filter(|s| **s == 200).count();
    assert!(answered_login >= 1, "{statuses:?}");
    assert_eq!(logins, answered_login);
    assert!(msgs.contains(&"charge failed"));
    assert!(msgs.contains(&"handler panicked"));
    let access: Vec<&Json> = events
        .iter()
        .filter(|e| e["target"] == "fapilog_axum::access")
        .collect();
    assert_eq!(access.len(), statuses.iter().filter(|s| **s != 400).count());
    for e in &access {
        for h in [
            "authorization",
            "cookie",
            "proxy-authorization",
            "x-api-key",
        ] {
            assert_eq!(e[format!("header.{h}")], "[REDACTED]", "{e}");
        }
    }
    let login = events
        .iter()
        .find(|e| e["msg"].as_str().is_some_and(|m| m.starts_with("login")))
        .unwrap();
    assert_eq!(login["password"], "[REDACTED]");
    assert_eq!(login["cookie"], "[REDACTED]");
    assert_eq!(login["set_cookie"], "[REDACTED]");
    assert_eq!(
        login["uri"].as_str().unwrap(),
        "/login?token=[REDACTED]&user=ada"
    );
    assert_eq!(login["note"], "card on file [REDACTED]");
}
