//! `def completions SHELL` and `def man`, through the binary.

use assert_cmd::Command;

fn def() -> Command {
    Command::cargo_bin("def").unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = def().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "def {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The commands `def --help` lists.
fn commands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let listed: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    let mut expected = vec![
        "run",
        "validate",
        "graph",
        "analyze",
        "learn",
        "schema",
        "completions",
        "man",
    ];
    if cfg!(feature = "backend") {
        expected.push("backend");
    }
    for name in expected {
        assert!(listed.iter().any(|c| c == name), "{name} not in {listed:?}");
    }
    listed
}

#[test]
fn bash_completions_know_the_commands_and_their_flags() {
    let script = stdout_of(&["completions", "bash"]);
    assert!(script.contains("validate"), "{script}");
    assert!(script.contains("--seed"), "{script}");
    assert!(script.contains("complete -F"), "{script}");
    for command in commands() {
        assert!(script.contains(&command), "{command} missing");
    }
}

#[test]
fn every_shell_gets_a_script() {
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef def"),
        ("fish", "complete -c def"),
        ("elvish", "edit:completion"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: no `{marker}`");
        assert!(script.contains("validate"), "{shell}");
    }
    def().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn the_man_page_is_roff_and_lists_every_command() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".TH def 1"),
        "{}",
        &page[..80.min(page.len())]
    );
    assert!(page.contains(".SH SYNOPSIS"));
    for command in commands() {
        // Roff escapes the hyphen: def\-run(1).
        assert!(
            page.contains(&format!("def\\-{command}(1)")),
            "{command} not in the man page"
        );
    }
}

#[test]
fn each_command_has_its_own_page() {
    let run = stdout_of(&["man", "run"]);
    assert!(run.starts_with(".TH def-run 1"), "{}", &run[..60]);
    assert!(run.contains("seed"));
    def()
        .args(["man", "walk"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no command `walk`"));

    let dir = tempfile::tempdir().unwrap();
    def()
        .arg("man")
        .arg("--dir")
        .arg(dir.path())
        .assert()
        .success();
    assert!(dir.path().join("def.1").is_file());
    for command in commands() {
        let page = dir.path().join(format!("def-{command}.1"));
        assert!(page.is_file(), "{} missing", page.display());
    }
}

#[test]
fn a_closed_stdout_does_not_panic() {
    // `def man | head -1`: the reader goes away; def must end without a panic.
    for args in [&["man"][..], &["completions", "zsh"], &["schema"]] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("def"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {stderr}"
        );
    }
}
