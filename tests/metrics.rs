//! `def run --metrics-listen`: `/metrics` scraped while a stream runs and after it ended
//! (`--metrics-linger`), parsed as Prometheus parses it, against the run's own summary.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const REFERENCE: &str = "tests/fixtures/reference";

/// `def run` with stderr read line by line on a thread; killed on drop.
struct Def {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Def {
    fn start(args: &[String], env: &[(&str, &str)]) -> Def {
        let mut child = Command::new(env!("CARGO_BIN_EXE_def"))
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("def starts");
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Def {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first stderr line starting with `prefix`, waiting up to `limit`.
    fn line(&mut self, prefix: &str, limit: Duration) -> String {
        self.line_where(prefix, limit, |l| l.starts_with(prefix))
    }

    /// The first stderr line for which `ok` holds (`what` names it), waiting up to `limit`.
    fn line_where(&mut self, what: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        if let Some(line) = self.seen.iter().find(|l| ok(l)) {
            return line.clone();
        }
        let until = Instant::now() + limit;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if ok(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line `{what}...` within {limit:?}; stderr so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
}

impl Drop for Def {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One scrape: the parsed samples by name and labels, and the raw text.
struct Scrape {
    values: HashMap<String, f64>,
    text: String,
}

impl Scrape {
    fn get(&self, key: &str) -> f64 {
        *self
            .values
            .get(key)
            .unwrap_or_else(|| panic!("no sample {key} in:\n{}", self.text))
    }
}

fn scrape(url: &str) -> Scrape {
    let mut response = ureq::get(url).call().expect("/metrics answers");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.body_mut().read_to_string().unwrap();
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .unwrap_or_else(|e| panic!("not Prometheus text ({e}):\n{text}"));
    let mut values = HashMap::new();
    for sample in &parsed.samples {
        let value = match &sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            prometheus_parse::Value::Summary(_) => continue,
        };
        let mut labels: Vec<String> = sample
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        labels.sort();
        let key = if labels.is_empty() {
            sample.metric.clone()
        } else {
            format!("{}{{{}}}", sample.metric, labels.join(","))
        };
        values.insert(key, value);
    }
    // Every family has its HELP and TYPE lines.
    for sample in &parsed.samples {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| sample.metric.strip_suffix(s))
            .filter(|f| parsed.docs.contains_key(*f))
            .unwrap_or(&sample.metric);
        assert!(
            parsed.docs.contains_key(family),
            "no HELP for {family}:\n{text}"
        );
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "no TYPE for {family}:\n{text}"
        );
    }
    Scrape { values, text }
}

#[test]
fn metrics_move_while_a_stream_runs_and_end_equal_to_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let sink = dir.path().join("sink.yaml");
    let events_file = dir.path().join("events.jsonl");
    std::fs::write(
        &sink,
        format!(
            "kind: sink\nname: out\nspec:\n  type: file\n  path: {}\n  dataSourceRefs: [{}]\n",
            events_file.display(),
            [
                "GoodsDelivery",
                "MaterialPreparation",
                "AssemblyLineSetup",
                "Assembling",
                "QualityControl",
                "Packaging",
                "Shipping",
            ]
            .join(", ")
        ),
    )
    .unwrap();
    let mut args: Vec<String> = [
        "run",
        &format!("{REFERENCE}/datasource/assemblyline"),
        &format!("{REFERENCE}/simulation/stream.yaml"),
        &format!("{REFERENCE}/sink/sink-ui.yaml"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(sink.display().to_string());
    args.extend(
        [
            "--seed",
            "9",
            "--duration",
            "4",
            "--metrics-listen",
            "127.0.0.1:0",
            "--metrics-linger",
            "30",
        ]
        .map(String::from),
    );
    let mut def = Def::start(&args, &[("LOAD", "500")]);
    let at = def.line("def: metrics at http://", Duration::from_secs(30));
    let url = at.trim_start_matches("def: metrics at ").trim().to_string();

    // While it runs: the counters move.
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        let s = scrape(&url);
        if s.get("def_run_finished") == 1.0 {
            break;
        }
        seen.push(s.get("def_run_events_total"));
        std::thread::sleep(Duration::from_millis(300));
    }
    seen.dedup();
    assert!(
        seen.len() >= 2 && seen.windows(2).all(|w| w[0] < w[1]),
        "the events counter did not move: {seen:?}"
    );

    // At the end: the summary's numbers.
    let summary = def.line_where("def: N events in", Duration::from_secs(30), |l| {
        l.starts_with("def: ") && l.contains(" events in ") && l.contains("; sinks: ")
    });
    let events: f64 = summary
        .trim_start_matches("def: ")
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // `sinks: out (file) 2010, ui-sink (ui) 1100`
    let delivered = |sink: &str| -> f64 {
        let sinks = summary.split("; sinks: ").nth(1).unwrap();
        sinks
            .split(", ")
            .find_map(|part| part.strip_prefix(&format!("{sink} (")))
            .and_then(|rest| rest.split(") ").nth(1))
            .unwrap_or_else(|| panic!("no {sink} in {summary}"))
            .parse()
            .unwrap()
    };
    def.line("def: serving the final metrics", Duration::from_secs(10));
    let s = scrape(&url);
    assert_eq!(s.get("def_run_finished"), 1.0);
    assert_eq!(s.get("def_run_events_total"), events, "{summary}");
    assert!(events >= 1000.0, "{summary}");
    for sink in ["out", "ui-sink"] {
        let key = format!("def_run_sink_delivered_events_total{{sink=\"{sink}\"}}");
        assert_eq!(s.get(&key), delivered(sink), "{sink}: {summary}");
        let key = format!("def_run_sink_failed_events_total{{sink=\"{sink}\"}}");
        assert_eq!(s.get(&key), 0.0);
    }
    assert_eq!(
        s.get("def_run_sink_events_total{sink=\"out\"}"),
        events,
        "the file sink takes every datasource"
    );
    let lines = std::fs::read_to_string(&events_file).unwrap();
    assert_eq!(lines.lines().count() as f64, events);
    let per_datasource: f64 = s
        .values
        .iter()
        .filter(|(k, _)| k.starts_with("def_run_datasource_events_total{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(per_datasource, events);
    // Every event's lateness was recorded; the rate is the load's.
    assert_eq!(s.get("def_run_emission_lateness_seconds"), events);
    assert_eq!(s.get("def_run_emission_lateness_seconds_count"), events);
    assert!(s.get("def_run_emission_lateness_seconds_sum") >= 0.0);
    assert!(s.get("def_run_target_events_per_second") > 0.0);
    assert!(s.get("def_run_open_cases") >= 1.0);
    assert_eq!(
        s.get("def_run_info{simulation=\"streamSimulation\",type=\"stream\"}"),
        1.0
    );
    // A signal ends the lingering at once, with exit 0.
    let pid = def.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = def.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_busy_address_fails_before_the_run_with_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_def"))
        .args(["run", "--steps", "10", "--metrics-listen", &addr])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on `{addr}` for metrics")),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "the run did not start");
}

#[test]
fn other_paths_and_methods_are_refused() {
    let mut def = Def::start(
        &[
            "run".to_string(),
            format!("{REFERENCE}/datasource/assemblyline"),
            format!("{REFERENCE}/simulation/stream.yaml"),
            format!("{REFERENCE}/sink/sink-ui.yaml"),
            "--metrics-listen".into(),
            "127.0.0.1:0".into(),
        ],
        &[],
    );
    let at = def.line("def: metrics at http://", Duration::from_secs(30));
    let root = at
        .trim_start_matches("def: metrics at ")
        .trim()
        .trim_end_matches("/metrics")
        .to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let status = |r: Result<ureq::http::Response<ureq::Body>, ureq::Error>| {
        r.expect("an answer").status().as_u16()
    };
    assert_eq!(status(agent.get(&format!("{root}/")).call()), 200);
    assert_eq!(status(agent.get(&format!("{root}/nope")).call()), 404);
    assert_eq!(
        status(agent.post(&format!("{root}/metrics")).send("x")),
        405
    );
    assert_eq!(status(agent.get(&format!("{root}/metrics")).call()), 200);
}
