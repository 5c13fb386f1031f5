//! The `ui` sink's live view in a real terminal: tmux runs `def run`, `capture-pane` reads the
//! screen, `send-keys` types. Each test has its own tmux server (`-L`), a 160×45 window, and
//! bounded waits. Without tmux the tests are skipped, except in CI (`CI` set), where
//! scripts/test.sh installs it and its absence is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const REFERENCE: &str = "tests/fixtures/reference";
const NODES: [&str; 4] = ["Assembling", "QualityControl", "Packaging", "Shipping"];

fn have_tmux() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is missing (scripts/test.sh installs it)"
        );
        eprintln!("skipped: tmux is not installed");
    }
    found
}

/// A tmux server of its own with one 160×45 window running a shell script; killed on drop.
struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// Runs `def <args>` in the window; when it ends, its exit status and the terminal's
    /// settings go to files, and the window stays open.
    fn run_def(name: &str, args: &[String]) -> Tmux {
        Tmux::run_def_with(name, "", args)
    }

    /// As [`Tmux::run_def`], with `env` (`NAME=value ...`) set for def.
    fn run_def_with(name: &str, env: &str, args: &[String]) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = format!("def-test-{}-{name}", std::process::id());
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let script = format!(
            "cd '{cwd}' && {env} '{def}' {args}; echo $? > '{dir}/exit'; stty -a > '{dir}/stty'; \
             touch '{dir}/done'; sleep 120",
            cwd = std::env::current_dir().unwrap().display(),
            def = env!("CARGO_BIN_EXE_def"),
            args = quoted.join(" "),
            dir = dir.path().display(),
        );
        let tmux = Tmux { socket, dir };
        tmux.cmd(&[
            "new-session",
            "-d",
            "-x",
            "160",
            "-y",
            "45",
            "sh",
            "-c",
            &script,
        ]);
        tmux
    }

    fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p"])
    }

    fn display(&self, format: &str) -> String {
        self.cmd(&["display-message", "-p", format])
            .trim()
            .to_string()
    }

    /// Waits up to `limit` for the screen to satisfy `ok`; returns the screen.
    fn wait_for(&self, limit: Duration, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let until = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < until,
                "no {what} within {limit:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits for `def` to end; returns its exit status.
    fn wait_exit(&self, limit: Duration) -> i32 {
        let until = Instant::now() + limit;
        while !self.file("done").exists() {
            assert!(
                Instant::now() < until,
                "def did not end within {limit:?}; the screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        std::fs::read_to_string(self.file("exit"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The terminal is as a shell wants it: the main screen, a visible cursor, cooked mode.
    fn assert_restored(&self) {
        assert_eq!(
            self.display("#{alternate_on}"),
            "0",
            "still on the alternate screen"
        );
        assert_eq!(self.display("#{cursor_flag}"), "1", "the cursor is hidden");
        let stty = std::fs::read_to_string(self.file("stty")).unwrap();
        let flags: Vec<&str> = stty.split_whitespace().collect();
        for flag in ["icanon", "echo", "isig", "opost"] {
            assert!(
                flags.contains(&flag),
                "`{flag}` not set after the run: {stty}"
            );
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let socket = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "display-message",
                "-p",
                "#{socket_path}",
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        // The server may leave its socket file behind.
        if socket.ends_with(&self.socket) {
            let _ = std::fs::remove_file(socket);
        }
    }
}

fn args(simulation: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec!["run".into()];
    for part in [
        "datasource/assemblyline".to_string(),
        format!("simulation/{simulation}"),
        "sink/sink-ui.yaml".to_string(),
    ] {
        args.push(Path::new(REFERENCE).join(part).display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Lines of the events table: a case, then one of the sink's datasources.
fn event_lines(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| l.contains("case_") && NODES.iter().any(|n| l.contains(n)))
        .collect()
}

#[test]
fn a_stream_shows_its_pane_and_q_ends_the_run_with_exit_0() {
    if !have_tmux() {
        return;
    }
    // The reference stream: a constant load, 10 events/s (LOAD makes it 50 here), no end.
    let tmux = Tmux::run_def_with("stream", "LOAD=50", &args("stream.yaml", &["--seed", "1"]));
    let screen = tmux.wait_for(Duration::from_secs(30), "pane with events", |s| {
        s.contains("┌ UI ") && event_lines(s).len() >= 3
    });
    assert!(
        screen.contains("def run · streamSimulation (stream)"),
        "{screen}"
    );
    assert!(screen.contains("RUNNING"), "{screen}");
    assert!(screen.contains("datasource"), "{screen}");
    for line in event_lines(&screen) {
        assert!(line.contains("2025-01-01 "), "a timestamp: {line}");
    }
    assert_eq!(tmux.display("#{alternate_on}"), "1");
    // `p` pauses the display, not the run; `p` again resumes it.
    tmux.cmd(&["send-keys", "p"]);
    tmux.wait_for(Duration::from_secs(5), "PAUSED", |s| s.contains("PAUSED"));
    tmux.cmd(&["send-keys", "p"]);
    tmux.wait_for(Duration::from_secs(5), "RUNNING again", |s| {
        s.contains("RUNNING")
    });
    tmux.cmd(&["send-keys", "q"]);
    assert_eq!(tmux.wait_exit(Duration::from_secs(30)), 0);
    tmux.assert_restored();
    let after = tmux.screen();
    assert!(
        after.contains("stopped early; sinks: ui-sink (ui) "),
        "{after}"
    );
    assert!(
        !after.contains("┌ UI "),
        "the dashboard is left behind:\n{after}"
    );
}

#[test]
fn a_count_based_run_of_thirty_million_events_ends_by_itself() {
    if !have_tmux() {
        return;
    }
    // 10^6 events take a tenth of a second here, less than the screen's polling can be sure to
    // catch: 3·10^7 keep the dashboard up for a second or more and still end by themselves.
    let args = args("countbased.yaml", &["--seed", "2", "--steps", "30000000"]);
    let tmux = Tmux::run_def("count", &args);
    // While it runs: the pane, its events and the progress of the count (the header shows the
    // count from the run's first progress report on, which may come after the first events).
    let screen = tmux.wait_for(
        Duration::from_secs(60),
        "pane with events and progress",
        |s| s.contains("┌ UI ") && event_lines(s).len() >= 10 && s.contains(" of 30,000,000 ("),
    );
    assert!(screen.contains("target: as fast as possible"), "{screen}");
    assert_eq!(tmux.wait_exit(Duration::from_secs(180)), 0);
    tmux.assert_restored();
    let after = tmux.screen();
    assert!(after.contains("def: 30000000 events in"), "{after}");
    assert!(after.contains("sinks: ui-sink (ui) "), "{after}");
    assert!(!after.contains("stopped early"), "{after}");
}

#[test]
fn esc_and_ctrl_c_stop_too() {
    if !have_tmux() {
        return;
    }
    for (name, key) in [("esc", "Escape"), ("ctrlc", "C-c")] {
        let tmux = Tmux::run_def(name, &args("stream.yaml", &["--seed", "3"]));
        tmux.wait_for(Duration::from_secs(30), "the pane", |s| s.contains("┌ UI "));
        tmux.cmd(&["send-keys", key]);
        assert_eq!(tmux.wait_exit(Duration::from_secs(30)), 0, "{key}");
        tmux.assert_restored();
        assert!(tmux.screen().contains("stopped early"), "{key}");
    }
}

#[test]
fn sigterm_stops_the_run_and_restores_the_terminal() {
    if !have_tmux() {
        return;
    }
    let tmux = Tmux::run_def("term", &args("stream.yaml", &["--seed", "4"]));
    tmux.wait_for(Duration::from_secs(30), "the pane", |s| s.contains("┌ UI "));
    let pid = tmux.display("#{pane_pid}");
    // The pane runs `sh -c`; def is its child.
    let children = Command::new("pgrep")
        .args(["-P", &pid])
        .output()
        .expect("pgrep runs");
    let def_pid = String::from_utf8_lossy(&children.stdout)
        .split_whitespace()
        .next()
        .expect("def runs in the pane")
        .to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &def_pid])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(tmux.wait_exit(Duration::from_secs(30)), 0);
    tmux.assert_restored();
    assert!(tmux.screen().contains("stopped early"));
}
