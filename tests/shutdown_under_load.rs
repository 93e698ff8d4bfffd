//! The demo server (`examples/demo.rs --serve`, the very same code) in a real
//! process, under bounded loopback load from keep-alive connections, then
//! SIGTERM while the load is still running. Every request that received a
//! response has its access-log line on stdout (or, when the response says
//! `X-Log-Sampled: false`, none); the drain report on stderr counts exactly the
//! lines on stdout and met its deadline; the process exits with code 0.
//!
//! A test without libtest's harness (`harness = false`): run with no
//! environment, it is the test; run with [`SERVE_ENV`] set, it is the demo
//! server, whose stdout then carries nothing but the JSON log lines.

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;

const NAME: &str = "shutdown_under_load";
/// Set in the child: serve the demo on an ephemeral loopback port.
const SERVE_ENV: &str = "FAPILOG_DEMO_SERVE";
const CONNECTIONS: usize = 8;
const PER_CONNECTION: usize = 250;
/// SIGTERM goes out once this many responses have arrived.
const SIGTERM_AFTER: usize = 600;
const BANNER: &str = "fapilog demo serving on http://";
const PATHS: [&str; 6] = [
    "/orders/7",
    "/api/v1/payments",
    "/",
    "/inventory",
    "/cache",
    "/health",
];

/// One response the load generator received.
#[derive(Debug)]
struct Answer {
    id: String,
    path: &'static str,
    status: u16,
    sampled: Option<bool>,
    echoed_id: Option<String>,
}

/// Reads one HTTP/1.1 response with a `content-length` body; `None` if the
/// connection ended before a whole response arrived.
async fn read_response(
    stream: &mut AsyncBufReader<TcpStream>,
) -> Option<(u16, HashMap<String, String>)> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let status = line.split(' ').nth(1)?.parse().ok()?;
    let mut headers = HashMap::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some((status, headers))
}

/// One keep-alive connection sending up to `PER_CONNECTION` requests in turn,
/// until the server closes it.
async fn connection(addr: SocketAddr, c: usize, answered: Arc<AtomicUsize>) -> Vec<Answer> {
    let mut answers = Vec::new();
    let Ok(stream) = TcpStream::connect(addr).await else {
        return answers;
    };
    let mut stream = AsyncBufReader::new(stream);
    for i in 0..PER_CONNECTION {
        let id = format!("load-{c}-{i}");
        let path = PATHS[(c + i) % PATHS.len()];
        let request = format!("GET {path} HTTP/1.1\r\nhost: load\r\nx-request-id: {id}\r\n\r\n");
        if stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .is_err()
        {
            break;
        }
        let Some((status, headers)) = read_response(&mut stream).await else {
            break;
        };
        answers.push(Answer {
            id,
            path,
            status,
            sampled: headers.get("x-log-sampled").map(|v| v == "true"),
            echoed_id: headers.get("x-request-id").cloned(),
        });
        answered.fetch_add(1, Ordering::Relaxed);
        if headers.get("connection").is_some_and(|v| v == "close") {
            break;
        }
    }
    answers
}

/// Drives the load; sends SIGTERM to `pid` once `SIGTERM_AFTER` responses arrived.
async fn load(addr: SocketAddr, pid: u32) -> (Vec<Answer>, usize) {
    let answered = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|c| tokio::spawn(connection(addr, c, Arc::clone(&answered))))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while answered.load(Ordering::Relaxed) < SIGTERM_AFTER && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let at_sigterm = answered.load(Ordering::Relaxed);
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM failed: {status}");
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.expect("connection task"));
    }
    (answers, at_sigterm)
}

/// `written`, `dropped` (and by reason), `failed`, `undelivered`, elapsed, and whether the deadline was missed.
#[derive(Debug)]
struct Report {
    written: u64,
    dropped: u64,
    dropped_by: Vec<(String, u64)>,
    failed: u64,
    undelivered: u64,
    elapsed: Duration,
    missed: bool,
}

fn parse_report(stderr: &str) -> Report {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("fapilog: drained "))
        .unwrap_or_else(|| panic!("no drain report in stderr:\n{stderr}"));
    let count = |key: &str| -> u64 {
        let rest = &line[line.find(&format!("{key} ")).expect(key) + key.len() + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().expect(key)
    };
    let elapsed = line
        .split_once(" in ")
        .unwrap()
        .1
        .split_once(':')
        .unwrap()
        .0;
    let unit = elapsed.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    let value: f64 = elapsed[..elapsed.len() - unit.len()]
        .parse()
        .expect("elapsed");
    let seconds = match unit {
        "s" => value,
        "ms" => value / 1e3,
        "µs" => value / 1e6,
        "ns" => value / 1e9,
        other => panic!("unit {other:?} in {line:?}"),
    };
    // "dropped 12 (sampling 10, overflow 2)": the reasons with a count.
    let dropped_by = line
        .split_once("dropped ")
        .map(|(_, rest)| rest.trim_start_matches(|c: char| c.is_ascii_digit()))
        .and_then(|rest| rest.strip_prefix(" (")?.split_once(')'))
        .map_or_else(Vec::new, |(reasons, _)| {
            reasons
                .split(", ")
                .map(|r| {
                    let (name, n) = r.split_once(' ').expect("reason count");
                    (name.to_owned(), n.parse().expect("reason count"))
                })
                .collect()
        });
    Report {
        written: count("written"),
        dropped: count("dropped"),
        dropped_by,
        failed: count("failed"),
        undelivered: count("undelivered"),
        elapsed: Duration::from_secs_f64(seconds),
        missed: line.ends_with("(deadline missed)"),
    }
}

fn serve() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(e) = runtime.block_on(demo::run_server("127.0.0.1:0")) {
        eprintln!("demo failed: {e}");
        std::process::exit(1);
    }
}

fn run_test() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .env(SERVE_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the demo server");
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).expect("child stdout");
        text
    });
    let (lines, stderr_lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut stderr = String::new();
    let addr: SocketAddr = loop {
        let line = stderr_lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no banner from the demo; stderr so far:\n{stderr}"));
        stderr.push_str(&line);
        stderr.push('\n');
        if let Some(rest) = line.strip_prefix(BANNER) {
            break rest
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .expect("banner address");
        }
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let (answers, at_sigterm) = runtime.block_on(load(addr, pid));

    // The process drains and exits on its own; a generous sanity bound only.
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            panic!("the demo did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    while let Ok(line) = stderr_lines.recv_timeout(Duration::from_secs(10)) {
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let stdout = stdout.join().expect("stdout reader");
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");

    // Every stdout line is one JSON event.
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect();
    let user_events = events.iter().filter(|e| e["target"] != "fapilog").count() as u64;
    let mut access: HashMap<String, usize> = HashMap::new();
    for e in &events {
        if e["target"] == "fapilog_axum::access" {
            let id = e["correlation_id"]
                .as_str()
                .expect("access line without id");
            *access.entry(id.to_owned()).or_default() += 1;
        }
    }

    // Load really overlapped the shutdown.
    assert!(
        at_sigterm >= SIGTERM_AFTER,
        "only {at_sigterm} responses before SIGTERM"
    );
    assert!(answers.len() > at_sigterm / 2, "{} answers", answers.len());
    let mut kept = 0;
    for a in &answers {
        assert_eq!(a.echoed_id.as_deref(), Some(a.id.as_str()), "{a:?}");
        let expected = if a.path == "/inventory" { 502 } else { 200 };
        assert_eq!(a.status, expected, "{a:?}");
        let lines = access.get(&a.id).copied().unwrap_or(0);
        match a.sampled {
            Some(true) => {
                kept += 1;
                assert_eq!(lines, 1, "{a:?} has {lines} access lines");
            }
            Some(false) => assert_eq!(lines, 0, "{a:?} was not sampled but logged"),
            None => panic!("{a:?} has no X-Log-Sampled header"),
        }
    }
    assert!(
        kept > 0 && kept < answers.len(),
        "{kept} of {} kept",
        answers.len()
    );
    // No access line for a request the load generator never sent.
    assert!(
        access.keys().all(|id| id.starts_with("load-")),
        "{access:?}"
    );

    // The drain report counts exactly what is on stdout, and met its deadline.
    let report = parse_report(&stderr);
    assert!(!report.missed, "{report:?}");
    assert!(report.elapsed <= demo::DRAIN_DEADLINE, "{report:?}");
    assert_eq!(report.written, user_events, "{report:?}");
    assert_eq!((report.failed, report.undelivered), (0, 0), "{report:?}");
    // Only sampling dropped anything: no overflow, nothing refused at
    // shutdown, nothing left when the deadline passed.
    assert!(
        report.dropped > 0,
        "sampling drops events of unkept requests: {report:?}"
    );
    assert_eq!(
        report.dropped_by,
        [("sampling".to_owned(), report.dropped)],
        "{report:?}"
    );
    println!(
        "{NAME}: {} responses ({kept} kept, {} before SIGTERM), {} lines on stdout, drain {report:?}",
        answers.len(),
        at_sigterm,
        events.len()
    );
}

fn main() {
    if std::env::var_os(SERVE_ENV).is_some() {
        serve();
        return;
    }
    // `cargo test <filter>` passes its filter on: run only when it matches.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{NAME}: test");
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| NAME.contains(f.as_str())) {
        println!("{NAME}: filtered out");
        return;
    }
    run_test();
    println!("test {NAME} ... ok");
}
