//! The file sink's compression and rotation (docs/files.md): compressed files decompress to
//! exactly the plain run's bytes, the compression follows the extension, rotated files are each
//! complete with exact counts, the format contract for rotation holds, bad settings point at
//! their field, and a full disk is a runtime failure that leaves the files valid as far as
//! they go.

mod common;

use common::NODES;
use def::config::{
    ConfigSet, Diagnostic, FileOutput, Kind, Rotation, Severity, SinkSettings, TimestampFormat,
};
use def::engine::Event;
use def::format::EventFormat;
use def::simulation::{RunError, RunOptions, RunReport};
use def::sink::FileSink;
use def::EventFactory;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

const ASSEMBLY: &str = "tests/fixtures/reference/datasource/assemblyline";
const COUNT_BASED: &str = "tests/fixtures/reference/simulation/countbased.yaml";

/// A file sink document named `name`, taking every datasource, with extra `fields` (YAML lines).
fn file_sink(name: &str, path: &Path, fields: &str) -> String {
    let mut doc = format!(
        "kind: sink\nname: {name}\nspec:\n  type: file\n  path: {:?}\n",
        path.display().to_string()
    );
    for line in fields.lines() {
        doc.push_str(&format!("  {line}\n"));
    }
    doc.push_str(&format!("  dataSourceRefs: {NODES:?}\n"));
    doc
}

fn factory(sinks: &[String], seed: u64, steps: u64) -> EventFactory {
    EventFactory::new()
        .add_directory(ASSEMBLY)
        .add_file(COUNT_BASED)
        .add_str("sinks.yaml", &sinks.join("---\n"))
        .options(RunOptions {
            seed: Some(seed),
            steps: Some(steps),
            ..RunOptions::default()
        })
}

fn run(sinks: &[String], seed: u64, steps: u64) -> RunReport {
    factory(sinks, seed, steps)
        .run()
        .unwrap_or_else(|e| panic!("the run fails: {e}"))
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a complete gzip stream");
    out
}

fn unzstd(bytes: &[u8]) -> Vec<u8> {
    zstd::decode_all(bytes).expect("a complete zstd frame")
}

/// Each line parses as a JSON object; returns how many.
fn json_lines(bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(text.is_empty() || text.ends_with('\n'), "a cut line");
    for line in text.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("`{line}`: {e}"));
        assert!(value.is_object(), "{line}");
    }
    text.lines().count()
}

#[test]
fn gzip_and_zstd_decompress_to_the_plain_runs_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let steps = 30_000;
    // The plain file from a run of its own; both compressions from another run, same seed.
    run(&[file_sink("plain", &p("plain.jsonl"), "")], 7, steps);
    let report = run(
        &[
            file_sink("gz", &p("events.jsonl.gz"), "compression: gzip"),
            file_sink(
                "zst",
                &p("events.jsonl.zst"),
                "compression: zstd\nlevel: 19",
            ),
        ],
        7,
        steps,
    );
    let plain = std::fs::read(p("plain.jsonl")).unwrap();
    assert_eq!(json_lines(&plain), steps as usize);
    let gz = std::fs::read(p("events.jsonl.gz")).unwrap();
    let zst = std::fs::read(p("events.jsonl.zst")).unwrap();
    assert!(
        gz.len() * 5 < plain.len(),
        "gzip: {} of {}",
        gz.len(),
        plain.len()
    );
    assert!(
        zst.len() * 5 < plain.len(),
        "zstd: {} of {}",
        zst.len(),
        plain.len()
    );
    assert_eq!(gunzip(&gz), plain, "gzip round trip");
    assert_eq!(unzstd(&zst), plain, "zstd round trip");
    for sink in &report.sinks {
        assert_eq!(sink.delivery.delivered, steps);
        assert_eq!(sink.delivery.destinations.len(), 1, "{}", sink.name);
    }
    assert_eq!(
        report.sinks[0].delivery.destinations[&p("events.jsonl.gz").display().to_string()],
        steps
    );
}

/// The settings the reader makes of one file sink document.
fn read_output(doc: &str) -> (FileOutput, Vec<Diagnostic>) {
    let mut set = ConfigSet::new();
    set.add_str("sink.yaml", doc);
    let diags = set.diagnostics.items.clone();
    let output = set.sinks.first().map(|s| match &s.spec.settings.value {
        SinkSettings::File { output, .. } => *output,
        other => panic!("not a file sink: {other:?}"),
    });
    (output.unwrap_or_default(), diags)
}

#[test]
fn the_extension_says_the_compression_when_compression_is_not_given() {
    use def::config::Compression::{Gzip, None as Plain, Zstd};
    let dir = tempfile::tempdir().unwrap();
    for (name, expected, magic) in [
        ("a.jsonl.gz", Gzip, &[0x1f, 0x8b][..]),
        ("b.jsonl.zst", Zstd, &[0x28, 0xb5, 0x2f, 0xfd][..]),
        ("c.jsonl", Plain, &b"{\"timestamp\""[..]),
    ] {
        let doc = file_sink(name, &dir.path().join(name), "");
        let (output, diags) = read_output(&doc);
        assert!(diags.is_empty(), "{name}: {diags:?}");
        assert_eq!(output, FileOutput::compressed(expected), "{name}");
        run(&[doc], 1, 100);
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        assert!(bytes.starts_with(magic), "{name}: {:?}", &bytes[..8]);
    }
    // Given, it wins, and a level is taken.
    let (output, _) = read_output(&file_sink(
        "x",
        Path::new("x.jsonl.gz"),
        "compression: zstd\nlevel: 9",
    ));
    assert_eq!(output.compression, Zstd);
    assert_eq!(output.level, 9);
}

/// The one diagnostic of `severity` whose message has `message`, with its line and column.
fn diagnostic<'d>(diags: &'d [Diagnostic], severity: Severity, message: &str) -> &'d Diagnostic {
    let found: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.severity == severity && d.message.contains(message))
        .collect();
    assert_eq!(found.len(), 1, "`{message}` in {diags:#?}");
    found[0]
}

fn at(d: &Diagnostic) -> (u32, u32, &str) {
    let loc = d.loc.expect("a place");
    (
        loc.line,
        loc.col,
        d.yaml_path.as_deref().unwrap_or_default(),
    )
}

#[test]
fn a_compression_that_contradicts_the_extension_is_a_warning_at_the_field() {
    for (path, fields, message, help) in [
        (
            "e.jsonl.gz",
            "compression: none",
            "`compression: none`, but the path `e.jsonl.gz` ends in `.gz`, which says gzip",
            "remove `compression: none`",
        ),
        (
            "e.jsonl",
            "compression: gzip",
            "`compression: gzip`, but the path `e.jsonl` does not end in `.gz`",
            "name the file `e.jsonl.gz`",
        ),
        (
            "e.jsonl.gz",
            "compression: zstd",
            "ends in `.gz`, which says gzip",
            "name the file `e.jsonl.gz.zst`, or write `compression: gzip`",
        ),
    ] {
        let (_, diags) = read_output(&file_sink("s", Path::new(path), fields));
        assert!(diags.iter().all(|d| d.severity == Severity::Warning));
        let d = diagnostic(&diags, Severity::Warning, message);
        assert_eq!(at(d), (6, 16, "spec.compression"), "{path}");
        assert!(d.help.as_deref().unwrap().contains(help), "{d:?}");
    }
}

#[test]
fn bad_compression_and_rotation_settings_are_errors_at_their_field() {
    let cases = [
        // fields, message, (line, column, YAML path), help
        (
            "compression: gzp",
            "unknown compression `gzp`",
            (6, 16, "spec.compression"),
            "did you mean `gzip`?",
        ),
        (
            "compression: lz4",
            "unknown compression `lz4`",
            (6, 16, "spec.compression"),
            "use one of: none, gzip, gz, zstd, zst",
        ),
        (
            "rotate: {events: 0}",
            "`events` is 0, but must be at least 1",
            (6, 20, "spec.rotate.events"),
            "at least 1",
        ),
        (
            "rotate:\n  bytes: 0",
            "`bytes` is 0, but must be at least 1",
            (7, 12, "spec.rotate.bytes"),
            "at least 1",
        ),
        (
            "rotate: {events: 10, bytes: 1000}",
            "`rotate` has both `events` and `bytes`",
            (6, 11, "spec.rotate"),
            "keep `events: N` or `bytes: N`",
        ),
        (
            "rotate: {}",
            "`rotate` says neither `events` nor `bytes`",
            (6, 11, "spec.rotate"),
            "rotate: {events: 1000000}",
        ),
        (
            "rotate: {evnts: 10}",
            "unknown field `evnts` in `rotate`",
            (6, 12, "spec.rotate.evnts"),
            "did you mean `events`?",
        ),
        (
            "rotate: 1000",
            "`rotate` must be a mapping",
            (6, 11, "spec.rotate"),
            "key: value",
        ),
        (
            "compression: gzip\nlevel: 10",
            "`level` is 10, above the highest gzip level 9",
            (7, 10, "spec.level"),
            "from 1 to 9",
        ),
        (
            "compression: zstd\nlevel: 0",
            "`level` is 0, but must be at least 1",
            (7, 10, "spec.level"),
            "at least 1",
        ),
    ];
    for (fields, message, place, help) in cases {
        let (_, diags) = read_output(&file_sink("s", Path::new("e.jsonl"), fields));
        let d = diagnostic(&diags, Severity::Error, message);
        assert_eq!(at(d), place, "{fields}");
        assert!(d.help.as_deref().unwrap().contains(help), "{fields}: {d:?}");
        let errors = diags.iter().filter(|d| d.severity == Severity::Error);
        assert_eq!(errors.count(), 1, "{fields}: {diags:#?}");
        assert_eq!(d.source.as_ref().unwrap().path, Path::new("sink.yaml"));
    }
    // A level without compression is ignored, with a warning.
    let (output, diags) = read_output(&file_sink("s", Path::new("e.jsonl"), "level: 3"));
    let d = diagnostic(&diags, Severity::Warning, "`level` is ignored");
    assert_eq!(at(d), (6, 10, "spec.level"));
    assert_eq!(output, FileOutput::plain());
}

#[test]
fn the_command_line_shows_a_bad_compression_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let sink = dir.path().join("sink.yaml");
    std::fs::write(
        &sink,
        file_sink("s", &dir.path().join("e.jsonl"), "compression: zstdd"),
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("def")
        .unwrap()
        .args(["run", ASSEMBLY, COUNT_BASED])
        .arg(&sink)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown compression `zstdd`"), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:6:16", sink.display())),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `zstd`?"), "{stderr}");
}

/// The files of a rotated output at `path` (its numbered files), in order.
fn parts(path: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for n in 1.. {
        let part = def::sink::part_path(path, n);
        if !part.exists() {
            break;
        }
        files.push(part);
    }
    files
}

#[test]
fn rotation_by_events_gives_numbered_files_of_exact_counts_each_complete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let whole = dir.path().join("whole.jsonl");
    let report = run(
        &[
            file_sink("rotated", &path, "rotate: {events: 3000}"),
            file_sink("whole", &whole, ""),
        ],
        3,
        10_000,
    );
    let files = parts(&path);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "events-000001.jsonl",
            "events-000002.jsonl",
            "events-000003.jsonl",
            "events-000004.jsonl"
        ]
    );
    assert!(
        !path.exists(),
        "a rotated run does not write the path itself"
    );
    let counts: Vec<usize> = files
        .iter()
        .map(|f| json_lines(&std::fs::read(f).unwrap()))
        .collect();
    assert_eq!(counts, [3000, 3000, 3000, 1000]);
    // Together, the same bytes as one file.
    let joined: Vec<u8> = files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap())
        .collect();
    assert_eq!(joined, std::fs::read(&whole).unwrap());
    // The report lists each file with its count.
    let delivery = &report.sinks[0].delivery;
    assert_eq!(delivery.delivered, 10_000);
    let expected: BTreeMap<String, u64> = files
        .iter()
        .zip([3000, 3000, 3000, 1000])
        .map(|(f, n)| (f.display().to_string(), n))
        .collect();
    assert_eq!(delivery.destinations, expected);

    // A run that ends exactly at a limit leaves no empty file behind.
    let exact = dir.path().join("exact.jsonl");
    run(
        &[file_sink("exact", &exact, "rotate: {events: 2500}")],
        3,
        10_000,
    );
    assert_eq!(parts(&exact).len(), 4);
}

#[test]
fn rotation_by_bytes_counts_the_bytes_before_compression() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 100_000;
    let plain = dir.path().join("events.jsonl");
    let zst = dir.path().join("events.jsonl.zst");
    let rotate = format!("rotate: {{bytes: {limit}}}");
    let report = run(
        &[
            file_sink("plain", &plain, &rotate),
            file_sink("zst", &zst, &rotate),
        ],
        5,
        20_000,
    );
    let plain_files = parts(&plain);
    let zst_files = parts(&zst);
    assert!(plain_files.len() >= 20, "{} files", plain_files.len());
    // The same boundaries, compressed or not: the limit is on the format's bytes.
    assert_eq!(plain_files.len(), zst_files.len());
    let mut total = 0;
    for (i, (p, z)) in plain_files.iter().zip(&zst_files).enumerate() {
        let bytes = std::fs::read(p).unwrap();
        assert_eq!(unzstd(&std::fs::read(z).unwrap()), bytes, "{}", z.display());
        total += json_lines(&bytes);
        let last_line = bytes[..bytes.len() - 1]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        // Under the limit before its last event, at or over it after (but for the last file).
        assert!(
            last_line < limit,
            "{}: {last_line} before the last event",
            p.display()
        );
        if i + 1 < plain_files.len() {
            assert!(
                bytes.len() >= limit,
                "{}: {} bytes",
                p.display(),
                bytes.len()
            );
        }
    }
    assert_eq!(total, 20_000);
    assert_eq!(report.sinks[1].delivery.destinations.len(), zst_files.len());
}

#[test]
fn rotation_with_gzip_gives_complete_gzip_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl.gz");
    let report = run(
        &[file_sink("gz", &path, "rotate: {events: 4000}")],
        9,
        10_000,
    );
    let files = parts(&path);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "events-000001.jsonl.gz",
            "events-000002.jsonl.gz",
            "events-000003.jsonl.gz"
        ]
    );
    let counts: Vec<usize> = files
        .iter()
        .map(|f| json_lines(&gunzip(&std::fs::read(f).unwrap())))
        .collect();
    assert_eq!(counts, [4000, 4000, 2000]);
    assert_eq!(report.sinks[0].delivery.delivered, 10_000);
}

/// A format that groups events by case, as XES does: `begin` writes `<log>`, a case's events
/// are held until it ends and then written as one `<trace>` line, `end_file` closes the log
/// but keeps the open cases, `end` writes them and closes.
#[derive(Default)]
struct Traces {
    open: BTreeMap<u64, Vec<String>>,
}

impl Traces {
    fn trace(case: u64, events: &[String], out: &mut Vec<u8>) {
        out.extend_from_slice(format!("<trace {case}> {}\n", events.join(" ")).as_bytes());
    }
}

impl EventFormat for Traces {
    fn begin(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<log>\n");
    }
    fn event(&mut self, event: &Event<'_>, out: &mut Vec<u8>) {
        let events = self.open.entry(event.case).or_default();
        events.push(event.timestamp_ms.to_string());
        if event.ends_case() {
            let events = self.open.remove(&event.case).unwrap();
            Traces::trace(event.case, &events, out);
        }
    }
    fn end_file(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"</log>\n");
    }
    fn end(&mut self, out: &mut Vec<u8>) {
        for (case, events) in std::mem::take(&mut self.open) {
            Traces::trace(case, &events, out);
        }
        out.extend_from_slice(b"</log>\n");
    }
}

#[test]
fn a_format_that_holds_cases_writes_each_trace_whole_into_the_file_where_its_case_ends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.traces");
    let output = FileOutput::plain().rotating(Rotation::Events(500));
    let sink = FileSink::create("traces", &path, &output, Traces::default()).unwrap();
    let report = EventFactory::new()
        .add_directory(ASSEMBLY)
        .add_file(COUNT_BASED)
        .add_sink("traces", &NODES, sink)
        .memory_sink("memory", &NODES)
        .options(RunOptions {
            seed: Some(4),
            steps: Some(5_000),
            timestamp_format: Some(TimestampFormat::Iso8601),
            ..RunOptions::default()
        })
        .run()
        .unwrap();
    let files = parts(&path);
    assert_eq!(files.len(), 10);
    let mut traced: BTreeMap<u64, usize> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.starts_with("<log>\n"), "{}", file.display());
        assert!(text.ends_with("</log>\n"), "{}", file.display());
        assert_eq!(text.matches("<log>").count(), 1);
        for line in text.lines().filter(|l| l.starts_with("<trace ")) {
            let (case, events) = line["<trace ".len()..].split_once("> ").unwrap();
            let case: u64 = case.parse().unwrap();
            let before = traced.insert(case, events.split(' ').count());
            assert!(before.is_none(), "case {case} in two traces");
        }
    }
    // Every event is in the trace of its case, in one file.
    let mut per_case: BTreeMap<u64, usize> = BTreeMap::new();
    for e in report.memory["memory"].events() {
        let case: u64 = e.caseid.trim_start_matches("case_").parse().unwrap();
        *per_case.entry(case).or_default() += 1;
    }
    assert_eq!(traced, per_case);
    // A file counts the events handed to the format while it was open.
    let counted: Vec<u64> = report.sinks[0]
        .delivery
        .destinations
        .values()
        .copied()
        .collect();
    assert_eq!(counted, vec![500; 10]);
}

#[test]
fn the_summary_names_the_files_written() {
    let dir = tempfile::tempdir().unwrap();
    let sink = dir.path().join("sink.yaml");
    let path = dir.path().join("events.jsonl.zst");
    std::fs::write(&sink, file_sink("out", &path, "rotate: {events: 40}")).unwrap();
    let out = assert_cmd::Command::cargo_bin("def")
        .unwrap()
        .args(["run", ASSEMBLY, COUNT_BASED, "--seed", "1"])
        .arg(&sink)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let part = |n| def::sink::part_path(&path, n).display().to_string();
    assert!(
        stderr.contains(&format!(
            "def: out wrote 3 files: {} (40 events), {} (40 events), {} (20 events)",
            part(1),
            part(2),
            part(3)
        )),
        "{stderr}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_a_runtime_failure_naming_the_sink_with_the_events_written() {
    // /dev/full takes the open but refuses every write.
    let err = factory(
        &[file_sink(
            "full",
            Path::new("/dev/full"),
            "compression: gzip",
        )],
        1,
        200_000,
    )
    .run()
    .expect_err("a full disk fails the run");
    let RunError::Sink { error, report } = err else {
        panic!("not a sink error: {err}");
    };
    let message = error.to_string();
    assert!(
        message.starts_with("sink `full`: writing /dev/full"),
        "{message}"
    );
    assert!(message.contains("No space left on device"), "{message}");
    let delivery = &report.sinks[0].delivery;
    assert_eq!(delivery.delivered, 0);
    assert_eq!(delivery.failed, report.sinks[0].events);
    assert!(delivery.destinations.is_empty());
    assert!(delivery.error.as_deref().unwrap().contains("No space left"));
}

/// A tmpfs of `kib` KiB mounted at a new folder, unmounted when dropped; `None` where this
/// process may not mount (not root, or no CAP_SYS_ADMIN).
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(kib: u32) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_disk_that_fills_mid_rotation_leaves_the_closed_files_whole_and_fails_with_exit_1() {
    let Some(disk) = Tmpfs::mount(512) else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let config = tempfile::tempdir().unwrap();
    let sink = config.path().join("sink.yaml");
    let path = disk.0.path().join("events.jsonl.gz");
    std::fs::write(&sink, file_sink("small", &path, "rotate: {events: 20000}")).unwrap();
    let out = assert_cmd::Command::cargo_bin("def")
        .unwrap()
        .args([
            "run",
            ASSEMBLY,
            COUNT_BASED,
            "--seed",
            "2",
            "--steps",
            "2000000",
        ])
        .arg(&sink)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: sink `small`: writing"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    // The summary says how many events the whole files hold, and names them.
    let files = parts(&path);
    assert!(files.len() >= 3, "{} files", files.len());
    let (whole, broken) = files.split_at(files.len() - 1);
    let delivered = whole.len() * 20_000;
    assert!(
        stderr.contains(&format!("small (file) {delivered}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("def: small wrote {} files: ", whole.len())),
        "{stderr}"
    );
    for file in whole {
        let bytes = gunzip(&std::fs::read(file).unwrap());
        assert_eq!(json_lines(&bytes), 20_000, "{}", file.display());
    }
    // The file that failed decompresses as far as it got: whole lines, then perhaps a cut one.
    let mut partial = Vec::new();
    let _ = flate2::read::GzDecoder::new(&std::fs::read(&broken[0]).unwrap()[..])
        .read_to_end(&mut partial);
    let cut = partial
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    assert!(json_lines(&partial[..cut]) < 20_000);
}

#[test]
fn the_schema_takes_what_the_reader_takes_and_refuses_what_it_refuses() {
    let schema = def::config::schema::json_schema();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let check = |fields: &str, valid: bool| {
        let doc = file_sink("s", Path::new("e.jsonl"), fields);
        let json = def::config::schema::yaml_to_json(
            &def::config::yaml::parse_documents(&doc).unwrap()[0],
        );
        assert_eq!(validator.is_valid(&json), valid, "{fields}");
        let (_, diags) = read_output(&doc);
        let reader_errors = diags.iter().any(|d| d.severity == Severity::Error);
        assert_eq!(!reader_errors, valid, "{fields}: {diags:?}");
    };
    for good in [
        "compression: gzip",
        "compression: zst\nlevel: 19",
        "rotate: {events: 1}",
        "rotate: {bytes: 1000000}",
    ] {
        check(good, true);
    }
    for bad in [
        "compression: lz4",
        "rotate: {events: 0}",
        "rotate: {events: 1, bytes: 1}",
        "rotate: {}",
        "rotate: {lines: 5}",
        "level: 23\ncompression: zstd",
    ] {
        check(bad, false);
    }
    let words = def::config::Compression::words();
    assert_eq!(words, ["none", "gzip", "gz", "zstd", "zst"]);
}
