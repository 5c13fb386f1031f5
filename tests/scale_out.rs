//! Scale-out through the binary: `--shard K/N`, `--workers W` and configuration by
//! environment (docs/scale-out.md). Each test runs `def` the way a user or a Kubernetes Job
//! does and checks the events it wrote: exact counts, case ids, bytes.

mod common;

use assert_cmd::Command;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn def() -> Command {
    let mut cmd = Command::cargo_bin("def").unwrap();
    // No variable of the test's own environment may leak into a run.
    for var in common::env_variables() {
        cmd.env_remove(var);
    }
    cmd
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scale-out")
        .join(name)
        .display()
        .to_string()
}

/// The chain, a simulation and the file sink (`events-{shard}.jsonl` in the current directory).
fn config(simulation: &str) -> Vec<String> {
    vec![
        fixture("chain.yaml"),
        fixture(simulation),
        fixture("files.yaml"),
    ]
}

/// Runs `def run` in `dir` with these arguments, expecting success.
fn run_in(dir: &Path, args: &[String]) {
    let out = def()
        .current_dir(dir)
        .arg("run")
        .args(args)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "def run {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The events a shard's file holds: (case number, node), in order.
fn events(path: &Path) -> Vec<(u64, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let case = v["caseid"].as_str().unwrap();
            let number = case.strip_prefix("case_").unwrap().parse().unwrap();
            (number, v["node"].as_str().unwrap().to_string())
        })
        .collect()
}

fn shard_file(dir: &Path, k: u32) -> PathBuf {
    dir.join(format!("events-{k}.jsonl"))
}

/// Runs the three shards of `simulation` as three processes at once, each in `dir`.
fn three_processes(dir: &Path, simulation: &str, extra: &[&str]) {
    let children: Vec<_> = (0..3)
        .map(|k| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("def"));
            for var in common::env_variables() {
                cmd.env_remove(var);
            }
            cmd.current_dir(dir)
                .arg("run")
                .args(config(simulation))
                .args(["--seed", "11", "--quiet", "--shard", &format!("{k}/3")])
                .args(extra)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn three_shards_split_one_count_based_workload_exactly() {
    let dir = tempfile::tempdir().unwrap();
    three_processes(dir.path(), "count-based.yaml", &[]);
    let shards: Vec<Vec<(u64, String)>> =
        (0..3).map(|k| events(&shard_file(dir.path(), k))).collect();
    // steps 10,000 = 3·3333 + 1: the first shard makes one more.
    let counts: Vec<usize> = shards.iter().map(Vec::len).collect();
    assert_eq!(counts, [3334, 3333, 3333]);
    // A whole run makes exactly `steps` events: the shards add up to it.
    let whole = tempfile::tempdir().unwrap();
    run_in(
        whole.path(),
        &[config("count-based.yaml"), strings(&["--seed", "11"])].concat(),
    );
    assert_eq!(
        events(&shard_file(whole.path(), 0)).len(),
        counts.iter().sum::<usize>()
    );

    // Case ids: shard K numbers its cases K+1, K+1+3, ... (docs/scale-out.md). Every id a
    // shard opened and that is not still open at the end shows up; maxConcurrentCases 7
    // splits 3, 2, 2, so at most that many of its ids may be missing below its largest.
    let mut all = BTreeSet::new();
    let mut per_shard = Vec::new();
    for (k, shard) in shards.iter().enumerate() {
        let ids: BTreeSet<u64> = shard.iter().map(|e| e.0).collect();
        per_shard.push(ids.len() as u64);
        assert!(ids.iter().all(|n| (n - 1) % 3 == k as u64), "shard {k}");
        let largest = *ids.last().unwrap();
        let expected: BTreeSet<u64> = (k as u64 + 1..=largest).step_by(3).collect();
        let missing = expected.difference(&ids).count();
        let open = [3, 2, 2][k];
        assert!(missing < open, "shard {k}: {missing} ids missing");
        assert!(all.is_disjoint(&ids), "shard {k} reuses an id");
        all.extend(ids);
    }
    // Together: every id from case_1 to case_{3·m}, m the fewest cases a shard showed, but
    // the few still open (docs/scale-out.md: a prefix, and some above it).
    let fewest = per_shard.iter().min().unwrap();
    let missing = (1..=3 * fewest).filter(|n| !all.contains(n)).count();
    assert!(
        missing < 7,
        "{missing} ids missing below case_{}",
        3 * fewest
    );
}

#[test]
fn a_shards_bytes_repeat_and_workers_make_the_same_bytes_as_processes() {
    let first = tempfile::tempdir().unwrap();
    let again = tempfile::tempdir().unwrap();
    let workers = tempfile::tempdir().unwrap();
    three_processes(first.path(), "count-based.yaml", &["--steps", "3000"]);
    three_processes(again.path(), "count-based.yaml", &["--steps", "3000"]);
    run_in(
        workers.path(),
        &[
            config("count-based.yaml"),
            strings(&["--seed", "11", "--steps", "3000", "--workers", "3"]),
        ]
        .concat(),
    );
    for k in 0..3 {
        let bytes = |dir: &Path| std::fs::read(shard_file(dir, k)).unwrap();
        let shard = bytes(first.path());
        assert_eq!(shard.iter().filter(|&&b| b == b'\n').count(), 1000);
        assert_eq!(shard, bytes(again.path()), "shard {k} changed between runs");
        assert_eq!(
            shard,
            bytes(workers.path()),
            "worker {k} differs from shard {k}/3"
        );
    }
    // Shard 0 of 1 is the unsharded run: the same bytes as a run without --shard.
    let whole = tempfile::tempdir().unwrap();
    let plain = tempfile::tempdir().unwrap();
    let args = [
        config("count-based.yaml"),
        strings(&["--seed", "11", "--steps", "500"]),
    ]
    .concat();
    run_in(
        whole.path(),
        &[args.clone(), strings(&["--shard", "0/1"])].concat(),
    );
    run_in(plain.path(), &args);
    assert_eq!(
        std::fs::read(shard_file(whole.path(), 0)).unwrap(),
        std::fs::read(shard_file(plain.path(), 0)).unwrap()
    );
}

#[test]
fn shards_of_a_stream_add_up_to_its_rate_times_its_duration() {
    // 1,000 events/s for 1 s: the three shards together make exactly 1,000, as three
    // processes and as three workers of one. Only counts are checked, not timing.
    let processes = tempfile::tempdir().unwrap();
    three_processes(processes.path(), "stream.yaml", &["--duration", "1"]);
    let workers = tempfile::tempdir().unwrap();
    run_in(
        workers.path(),
        &[
            config("stream.yaml"),
            strings(&["--seed", "11", "--duration", "1", "--workers", "3"]),
        ]
        .concat(),
    );
    for dir in [processes.path(), workers.path()] {
        let counts: Vec<usize> = (0..3).map(|k| events(&shard_file(dir, k)).len()).collect();
        assert_eq!(counts, [334, 333, 333], "{}", dir.display());
    }
    // A shaped load: the shards' counts add up to the whole stream's over the same time.
    let shaped = tempfile::tempdir().unwrap();
    let whole = tempfile::tempdir().unwrap();
    three_processes(shaped.path(), "sinus.yaml", &["--duration", "2.5"]);
    run_in(
        whole.path(),
        &[
            config("sinus.yaml"),
            strings(&["--seed", "11", "--duration", "2.5"]),
        ]
        .concat(),
    );
    let sum: usize = (0..3)
        .map(|k| events(&shard_file(shaped.path(), k)).len())
        .sum();
    let total = events(&shard_file(whole.path(), 0)).len();
    assert_eq!(sum, total);
    assert!(total > 1000, "{total}");
}

#[test]
fn the_environment_sets_every_flag_and_a_flag_overrides_its_variable() {
    let flags = tempfile::tempdir().unwrap();
    run_in(
        flags.path(),
        &[
            config("count-based.yaml"),
            strings(&[
                "--seed",
                "5",
                "--steps",
                "900",
                "--shard",
                "1/2",
                "--timestamp-format",
                "iso8601",
                "--start-time",
                "2026-03-01T08:00:00Z",
            ]),
        ]
        .concat(),
    );
    let by_env = |dir: &Path, seed_flag: Option<&str>| {
        let mut cmd = def();
        cmd.current_dir(dir)
            .env("DEF_CONFIG", config("count-based.yaml").join(":"))
            .env("DEF_SEED", "5")
            .env("DEF_STEPS", "900")
            .env("DEF_SHARD", "1/2")
            .env("DEF_TIMESTAMP_FORMAT", "iso8601")
            .env("DEF_START_TIME", "2026-03-01T08:00:00Z")
            .env("DEF_QUIET", "true")
            .arg("run");
        if let Some(seed) = seed_flag {
            cmd.args(["--seed", seed]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // DEF_QUIET: nothing on stderr.
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    };
    let env = tempfile::tempdir().unwrap();
    by_env(env.path(), None);
    let read = |dir: &Path| std::fs::read(shard_file(dir, 1)).unwrap();
    assert_eq!(read(flags.path()), read(env.path()));
    assert_eq!(events(&shard_file(env.path(), 1)).len(), 450);
    // --seed 5 on the command line wins over DEF_SEED=6.
    let overridden = tempfile::tempdir().unwrap();
    let mut cmd = def();
    cmd.current_dir(overridden.path())
        .env("DEF_CONFIG", config("count-based.yaml").join(":"))
        .env("DEF_SEED", "6")
        .env("DEF_STEPS", "900")
        .env("DEF_SHARD", "1/2")
        .env("DEF_TIMESTAMP_FORMAT", "iso8601")
        .env("DEF_START_TIME", "2026-03-01T08:00:00Z")
        .args(["run", "--quiet", "--seed", "5"])
        .assert()
        .success();
    assert_eq!(read(flags.path()), read(overridden.path()));
    // ... and DEF_SEED=6 alone makes other events.
    let six = tempfile::tempdir().unwrap();
    run_in(
        six.path(),
        &[
            config("count-based.yaml"),
            strings(&["--seed", "6", "--steps", "900", "--shard", "1/2"]),
            strings(&[
                "--timestamp-format",
                "iso8601",
                "--start-time",
                "2026-03-01T08:00:00Z",
            ]),
        ]
        .concat(),
    );
    assert_ne!(read(flags.path()), read(six.path()));
    // Paths on the command line win over DEF_CONFIG.
    let paths = tempfile::tempdir().unwrap();
    def()
        .current_dir(paths.path())
        .env("DEF_CONFIG", "/nonexistent/def-config")
        .arg("run")
        .args(config("count-based.yaml"))
        .args(["--quiet", "--seed", "5", "--steps", "10"])
        .assert()
        .success();
}

#[test]
fn every_flag_of_run_and_backend_has_its_variable_in_help_and_in_def_env() {
    let listed = common::env_variables();
    for var in [
        "DEF_SHARD",
        "DEF_WORKERS",
        "DEF_CONFIG",
        "DEF_SEED",
        "DEF_METRICS_LISTEN",
        "LOAD",
    ] {
        assert!(listed.contains(var), "{var} not in `def env`");
    }
    let mut commands = vec!["run"];
    if cfg!(feature = "backend") {
        commands.push("backend");
        assert!(listed.contains("DEF_LISTEN") && listed.contains("DEF_BOOTSTRAP_SERVER"));
    }
    for command in commands {
        let help = def().args([command, "--help"]).output().unwrap().stdout;
        let help = String::from_utf8(help).unwrap();
        // Each flag's block: from its line (`  -q, --quiet`, `      --seed <SEED>`) to the
        // next flag's.
        let mut blocks: Vec<String> = Vec::new();
        for line in help.lines() {
            // Flag lines are indented 2 or 6; a value's (`- original: ...`) further.
            let indent = line.len() - line.trim_start().len();
            if (2..=6).contains(&indent) && line.trim_start().starts_with('-') {
                blocks.push(String::new());
            }
            if let Some(block) = blocks.last_mut() {
                block.push_str(line);
                block.push('\n');
            }
        }
        let mut flags = 0;
        for block in blocks {
            let Some(long) = block
                .split("--")
                .nth(1)
                .and_then(|f| f.split([' ', '\n', '=']).next())
            else {
                continue;
            };
            if long == "help" || long == "version" {
                continue;
            }
            flags += 1;
            let var = block
                .split("[env: ")
                .nth(1)
                .and_then(|v| v.split(['=', ']']).next())
                .unwrap_or_else(|| panic!("{command} --{long} shows no variable"));
            assert!(
                listed.contains(var),
                "{var} of {command} --{long} not in `def env`"
            );
            if var != "DEF_BACKEND_TOKEN" {
                assert_eq!(
                    var,
                    format!("DEF_{}", long.to_uppercase().replace('-', "_"))
                );
            }
        }
        assert!(
            flags >= 10,
            "{command}: only {flags} flags found in its help"
        );
    }
}

#[test]
fn three_shards_together_keep_the_analysed_datasource_shares() {
    // 3 shards × 100,000 events, seed 11, maxConcurrentCases 7 (3, 2, 2): each datasource's
    // share of the 300,000 events is within 0.01 of `def analyze --json`'s. Events of one case
    // are correlated, so the standard error is several times the binomial 0.0009 (p = 0.49);
    // 0.01 is some 3-4 of those, and a shard walking a bent chain (a share off by more) fails.
    let dir = tempfile::tempdir().unwrap();
    three_processes(dir.path(), "count-based.yaml", &["--steps", "300000"]);
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0u64;
    for k in 0..3 {
        for (_, node) in events(&shard_file(dir.path(), k)) {
            *counts.entry(node).or_default() += 1;
            total += 1;
        }
    }
    assert_eq!(total, 300_000);
    let out = def()
        .arg("analyze")
        .args(config("count-based.yaml"))
        .arg("--json")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let datasources = json["regimes"][0]["datasources"].as_array().unwrap();
    assert_eq!(datasources.len(), 4);
    for d in datasources {
        let name = d["datasource"].as_str().unwrap();
        let expected = d["share"].as_f64().unwrap();
        let got = counts.get(name).copied().unwrap_or(0) as f64 / total as f64;
        assert!(
            (got - expected).abs() < 0.01,
            "{name}: {got:.4} of the events, analysed {expected:.4}"
        );
    }
}

/// Runs `def run` with `args` in a fresh directory, expecting exit 2; returns stderr.
fn refused(args: &[String], envs: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = def()
        .current_dir(dir.path())
        .envs(envs.iter().copied())
        .arg("run")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "{args:?} wrote a file"
    );
    stderr
}

#[test]
fn bad_shards_workers_and_unsplittable_sinks_are_refused_with_the_fix() {
    let cb = config("count-based.yaml");
    let with = |extra: &[&str]| [cb.clone(), strings(extra)].concat();
    // (arguments, environment, what the message must say)
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a [&'a str]);
    let cases: Vec<Case> = vec![
        (
            with(&["--shard", "3/3"]),
            vec![],
            &["shard 3/3 does not exist", "2/3"],
        ),
        (with(&["--shard", "1"]), vec![], &["is not a shard", "K/N"]),
        (with(&["--shard", "0/0"]), vec![], &["0 shards"]),
        (
            with(&[]),
            vec![("DEF_SHARD", "two/3")],
            &["`two/3` is not a shard"],
        ),
        (with(&["--workers", "0"]), vec![], &["--workers"]),
        (with(&[]), vec![("DEF_WORKERS", "-1")], &["--workers"]),
        // maxConcurrentCases 7 leaves shard 7 of 8 without a case.
        (
            with(&["--shard", "7/8"]),
            vec![],
            &[
                "maxConcurrentCases is 7",
                "count-based.yaml:3",
                "at most 7 shards",
            ],
        ),
        (
            with(&["--workers", "4", "--shard", "1/2"]),
            vec![],
            &["shard 7/8 would have no case open"],
        ),
        (
            with(&["--workers", "2", "--truth", "truth"]),
            vec![],
            &["--truth records one stream", "--shard K/N"],
        ),
    ];
    for (args, envs, expected) in cases {
        let stderr = refused(&args, &envs);
        for part in expected {
            assert!(stderr.contains(part), "{args:?}: no `{part}` in\n{stderr}");
        }
    }
    // A file path without {shard}, a console and a ui sink with two workers.
    let dir = tempfile::tempdir().unwrap();
    let sink = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("kind: sink\nname: s\nspec: {{{body}, dataSourceRefs: [Press]}}\n"),
        )
        .unwrap();
        path.display().to_string()
    };
    let one_file = sink("one.yaml", "type: file, path: events.jsonl");
    let console = sink("console.yaml", "type: console");
    let ui = sink("ui.yaml", "type: ui");
    for (file, expected) in [
        (
            one_file,
            [
                "2 workers would all write that one file",
                "events-{shard}.jsonl",
            ],
        ),
        (console, ["is a console sink", "--workers 1"]),
        (ui, ["is a ui sink", "--workers 1"]),
    ] {
        let args = [
            strings(&[&fixture("chain.yaml"), &fixture("count-based.yaml"), &file]),
            strings(&["--workers", "2"]),
        ]
        .concat();
        let stderr = refused(&args, &[]);
        for part in expected {
            assert!(stderr.contains(part), "{file}: no `{part}` in\n{stderr}");
        }
        assert!(
            stderr.contains(&format!("{file}:1")) || stderr.contains(&file),
            "{stderr}"
        );
    }
}

#[test]
fn one_summary_adds_the_workers_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = def()
        .current_dir(dir.path())
        .arg("run")
        .args(config("count-based.yaml"))
        .args(["--seed", "11", "--steps", "3001", "--workers", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("def: 3001 events in "), "{stderr}");
    assert!(stderr.contains("sinks: files (file) 3001"), "{stderr}");
    assert!(
        stderr.contains("events-0.jsonl (1001 events)")
            && stderr.contains("events-1.jsonl (1000 events)")
            && stderr.contains("events-2.jsonl (1000 events)"),
        "{stderr}"
    );
}

#[test]
fn shards_behind_a_network_draw_their_own_faults_and_never_share_an_event_id() {
    let dir = tempfile::tempdir().unwrap();
    let network = dir.path().join("network.yaml");
    std::fs::write(
        &network,
        "kind: network\nname: lossy\nspec:\n  groups: [logistics, metal]\n  \
         delay: {type: exponential, mean: 20}\n  drop: 0.05\n  duplicate: 0.05\n",
    )
    .unwrap();
    three_processes(dir.path(), "count-based.yaml", &[network.to_str().unwrap()]);
    let mut ids: Vec<BTreeSet<u64>> = Vec::new();
    let mut dropped: Vec<BTreeSet<u64>> = Vec::new();
    for k in 0..3u64 {
        let text = std::fs::read_to_string(shard_file(dir.path(), k as u32)).unwrap();
        let mine: BTreeSet<u64> = text
            .lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                v["eventId"].as_u64().expect("an eventId behind a network")
            })
            .collect();
        // Shard k numbers its events k+1, k+1+3, ... as it numbers its cases.
        assert!(mine.iter().all(|id| (id - 1) % 3 == k), "shard {k}");
        // Which of its own events (by local number) a shard lost: the network's draws.
        let generated = def::shard::Shard::new(k, 3).unwrap().share(10_000);
        dropped.push(
            (1..=generated)
                .filter(|m| !mine.contains(&((m - 1) * 3 + k + 1)))
                .collect(),
        );
        ids.push(mine);
    }
    // A shard's truth replays to exactly what its sink got, with the shard's own ids.
    let alone = tempfile::tempdir().unwrap();
    run_in(
        alone.path(),
        &[
            config("count-based.yaml"),
            strings(&[
                network.to_str().unwrap(),
                "--seed",
                "11",
                "--shard",
                "1/3",
                "--truth",
                "truth",
            ]),
        ]
        .concat(),
    );
    let written = std::fs::read(shard_file(alone.path(), 1)).unwrap();
    assert_eq!(
        written,
        std::fs::read(shard_file(dir.path(), 1)).unwrap(),
        "--truth changed the events"
    );
    let replayed = def()
        .current_dir(alone.path())
        .args(["truth", "apply", "truth"])
        .output()
        .unwrap();
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    assert!(
        replayed.stdout == written,
        "the replay differs from the sink's file"
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(alone.path().join("truth/run.json")).unwrap())
            .unwrap();
    assert_eq!(run["shard"], "1/3");
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        assert!(ids[a].is_disjoint(&ids[b]), "shards {a} and {b} share ids");
        // 5% of ~3333 events each: independent draws lose different local numbers.
        assert_ne!(
            dropped[a], dropped[b],
            "shards {a} and {b} drew the same faults"
        );
    }
}
