//! What the CLI tells a user: every subcommand's `--help` ends with examples that use it,
//! and `-v` shows one line per retry with its cause (never the token).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{Sim, TOKEN};
use crate::harness::Hf;
use clap::CommandFactory as _;

#[test]
fn every_subcommand_help_has_an_example_of_itself() {
    let cli = hydrofetch::cli::Cli::command();
    let names: Vec<String> = cli
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect();
    assert!(names.len() >= 14, "{names:?}");
    for name in &names {
        for flag in ["--help", "-h"] {
            let ran = Hf::new().args([name.as_str(), flag]).run();
            let out = &ran.stdout;
            let Some((_, examples)) = out.split_once("\nExamples:\n") else {
                panic!("`hydrofetch {name} {flag}` has no Examples section:\n{out}");
            };
            let own = format!("hydrofetch {name} ");
            assert!(
                examples.lines().any(|l| l.trim_start().starts_with(&own)
                    || l.contains(&format!("| {own}"))
                    || l.contains(&format!(" {own}"))),
                "`hydrofetch {name} {flag}`: no example runs `{own}…`:\n{examples}"
            );
        }
    }
}

const RANGE: &str = r#"
version = 1
data_dir = "data"

[[range]]
device = "ICLISTENHF6324"
start = "2024-04-01T12:00:00Z"
end   = "2024-04-01T12:30:00Z"
spectrograms_per_batch = 2
download_audio = true
"#;

/// Lines of `-v` output that announce a retry.
fn retry_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains("retrying")).collect()
}

#[test]
fn verbose_shows_each_retry_with_its_cause_and_never_the_token() {
    let sim = Sim::start(&[
        "--time-scale",
        "0.001",
        "--tiny",
        "--faults",
        "500=0.25,503=0.1",
        "--seed",
        "7",
    ]);
    let ran = Hf::new()
        .sim(&sim)
        .manifest("range.toml", RANGE)
        .args(["run", "range.toml", "-v"])
        .fast()
        .run();
    let log = crate::common::requests(&sim.log());
    let faults = log
        .iter()
        .filter(|r| r["fault"] == "500" || r["fault"] == "503")
        .count();
    assert!(faults > 0, "no fault was injected");
    let lines = retry_lines(&ran.stderr);
    assert_eq!(
        lines.len(),
        faults,
        "one line per retried fault:\n{}",
        ran.stderr
    );
    for l in &lines {
        assert!(
            l.contains("500") || l.contains("503"),
            "a retry line without its cause: {l}"
        );
    }
    assert!(!ran.stderr.contains(TOKEN), "{}", ran.stderr);

    // Without -v, retries are not shown (faults still happen: a fresh folder, same server).
    let ran = Hf::new()
        .sim(&sim)
        .manifest("range.toml", RANGE)
        .args(["run", "range.toml"])
        .fast()
        .run();
    let again = crate::common::requests(&sim.log())
        .iter()
        .filter(|r| r["fault"] == "500" || r["fault"] == "503")
        .count();
    assert!(again > faults, "no fault in the second run");
    assert!(retry_lines(&ran.stderr).is_empty(), "{}", ran.stderr);
}
