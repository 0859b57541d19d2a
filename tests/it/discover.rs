//! Discovery (`devices`, `deployments`, `coverage`, human and `--json`) and the online checks
//! `run` makes before submitting anything (unknown devices, windows outside deployments),
//! against the simulator on 127.0.0.1.

use crate::common::{self, FAST, Sim};
use crate::harness::Hf;

/// `ICLISTENHF6324`'s deployment at BACND ends 2023-11-20T09:00 (recording until 08:30:07);
/// the next one, at BACAX, begins 2023-12-31T22:14. This range runs 45 minutes into the
/// deployment and 15 minutes past its end.
const ACROSS_END: &str = r#"
version = 1
data_dir = "data"

[defaults]
device = "ICLISTENHF6324"
spectrogram_format = "mat"

[[range]]
start = "2023-11-20T08:15:00Z"
end   = "2023-11-20T09:15:00Z"
spectrograms_per_batch = 12
"#;

/// The `dateFrom`/`dateTo` of every `dataProductDelivery/request` in the log.
fn submitted_spans(sim: &Sim) -> Vec<(String, String)> {
    common::requests(&sim.log())
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("dataProductDelivery/request"))
        })
        .map(|r| {
            let param = |k: &str| {
                r["params"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|p| p[0] == k)
                    .and_then(|p| p[1].as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            (param("dateFrom"), param("dateTo"))
        })
        .collect()
}

#[test]
fn devices_lists_the_simulators_hydrophones_human_and_json() {
    let sim = Sim::start(&[]);
    let human = Hf::new().sim(&sim).args(["devices"]).run();
    for code in ["ICLISTENHF6324", "ICLISTENHF1205", "ICLISTENAF2523"] {
        assert!(human.stdout.contains(code), "{}", human.stdout);
    }
    assert!(human.stdout.contains("64000 Hz"), "{}", human.stdout);
    assert!(human.stdout.contains("3 devices"), "{}", human.stdout);

    let json = Hf::new()
        .sim(&sim)
        .args(["devices", "--search", "hf 6324", "--json"])
        .stdout_json();
    assert_eq!(json.as_array().unwrap().len(), 0, "{json}");
    let json = Hf::new()
        .sim(&sim)
        .args([
            "devices",
            "--search",
            "af",
            "--category",
            "HYDROPHONE",
            "--json",
        ])
        .stdout_json();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 1, "{json}");
    assert_eq!(list[0]["code"], "ICLISTENAF2523");
    assert_eq!(list[0]["sample_rate"], 32000.0);
    assert_eq!(list[0]["category"], "HYDROPHONE");
}

#[test]
fn deployments_show_locations_coordinates_and_depth() {
    let sim = Sim::start(&[]);
    let human = Hf::new()
        .sim(&sim)
        .args(["deployments", "ICLISTENHF6324"])
        .run();
    let out = &human.stdout;
    assert!(out.contains("BACND") && out.contains("BACAX"), "{out}");
    assert!(out.contains("2023-11-20T09:00:00.000Z"), "{out}");
    assert!(out.contains("(deployed)"), "{out}");
    assert!(
        out.contains("985m") && out.contains("Barkley Canyon Axis"),
        "{out}"
    );
    assert!(out.contains("2 deployments of ICLISTENHF6324"), "{out}");

    let json = Hf::new()
        .sim(&sim)
        .args(["deployments", "ICLISTENHF6324", "--json"])
        .stdout_json();
    let deps = json.as_array().unwrap();
    assert_eq!(deps.len(), 2, "{json}");
    assert_eq!(deps[0]["location_code"], "BACND");
    assert_eq!(deps[0]["end"], "2023-11-20T09:00:00.000Z");
    assert_eq!(deps[0]["depth"], 649.0);
    assert_eq!(deps[1]["location_code"], "BACAX");
    assert_eq!(deps[1]["location_name"], "Barkley Canyon Axis");
    assert!(deps[1]["end"].is_null());
    assert!((deps[1]["lat"].as_f64().unwrap() - 48.3167).abs() < 1e-6);
    assert!((deps[1]["lon"].as_f64().unwrap() + 126.05).abs() < 1e-6);

    let typo = Hf::new()
        .sim(&sim)
        .args(["deployments", "ICLISTENHF6342"])
        .expect_exit(2)
        .run();
    assert!(
        typo.stderr
            .contains("unknown device ICLISTENHF6342: did you mean ICLISTENHF6324?"),
        "{}",
        typo.stderr
    );
}

#[test]
fn coverage_lists_covered_windows_and_gaps_for_a_device_and_a_manifest() {
    let sim = Sim::start(&[]);
    // The archive gap 2024-04-02 02:57:40–07:20:06: the 02:55 window holds the short file,
    // 03:00 to 07:15 hold nothing, 07:20 holds the first file after the gap.
    let args = [
        "coverage",
        "ICLISTENHF6324",
        "--from",
        "2024-04-02T02:30:00Z",
        "--to",
        "2024-04-02T07:40:00Z",
    ];
    let human = Hf::new().sim(&sim).args(args).run();
    assert!(
        human
            .stdout
            .contains("gap 2024-04-02T03:00:00.000Z – 2024-04-02T07:20:00.000Z (52 windows)"),
        "{}",
        human.stdout
    );
    let json = Hf::new()
        .sim(&sim)
        .args(args)
        .args(["--json"])
        .stdout_json();
    let c = &json[0];
    assert_eq!(c["device"], "ICLISTENHF6324");
    assert_eq!(c["windows"], 62);
    assert_eq!(c["covered_windows"], 10);
    assert_eq!(c["gaps"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(c["covered"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(c["covered"][1]["from"], "2024-04-02T07:20:00.000Z");

    // A manifest: its devices over its plan's span; the end of the deployment is a gap.
    let json = Hf::new()
        .sim(&sim)
        .manifest("across.toml", ACROSS_END)
        .args(["coverage", "across.toml", "--json"])
        .stdout_json();
    let c = &json[0];
    assert_eq!(c["from"], "2023-11-20T08:15:00.000Z");
    assert_eq!(c["to"], "2023-11-20T09:15:00.000Z");
    assert_eq!(c["gaps"][0]["from"], "2023-11-20T08:35:00.000Z", "{json}");
    assert_eq!(c["gaps"][0]["windows"], 8, "{json}");

    // A device needs a span.
    let no_span = Hf::new()
        .sim(&sim)
        .args(["coverage", "ICLISTENHF6324"])
        .expect_exit(2)
        .run();
    assert!(
        no_span.stderr.contains("--from and --to"),
        "{}",
        no_span.stderr
    );
}

#[test]
fn run_with_an_unknown_device_fails_before_submitting_anything() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let typo = ACROSS_END.replace("ICLISTENHF6324", "ICLISTENHF6342");
    let ran = Hf::new()
        .sim(&sim)
        .manifest("typo.toml", &typo)
        .args(["run", "typo.toml"])
        .fast()
        .expect_exit(2)
        .run();
    let lines: Vec<&str> = ran
        .stderr
        .lines()
        .filter(|l| l.contains("ICLISTENHF6342"))
        .collect();
    assert_eq!(lines.len(), 1, "one error:\n{}", ran.stderr);
    assert!(
        lines[0].contains("unknown device ICLISTENHF6342: did you mean ICLISTENHF6324?")
            && lines[0].contains("typo.toml"),
        "{}",
        ran.stderr
    );
    assert_eq!(sim.count("dataProductDelivery/request"), 0);
}

#[test]
fn windows_outside_every_deployment_are_skipped_before_submitting() {
    let sim = Sim::start(&["--time-scale", "0.002"]);
    let ran = Hf::new()
        .sim(&sim)
        .manifest("across.toml", ACROSS_END)
        .args(["run", "across.toml"])
        .fast()
        .run();
    assert!(
        ran.stderr.contains(
            "2023-11-20T09:00:00.000Z – 2023-11-20T09:15:00.000Z: no data (outside deployment), 3 windows skipped"
        ),
        "{}",
        ran.stderr
    );
    // No job reaches past the deployment's end.
    let spans = submitted_spans(&sim);
    assert!(!spans.is_empty());
    for (from, to) in &spans {
        assert!(
            to.as_str() <= "2023-11-20T09:00:00.000Z",
            "{from}–{to} {spans:?}"
        );
    }
    let lock = ran.lockfile("across.toml");
    assert_eq!(
        lock.matches(
            "no data (outside deployment: 2023-03-10T18:20:00.000Z–2023-11-20T09:00:00.000Z"
        )
        .count(),
        3,
        "{lock}"
    );

    // A re-run skips them with no request at all; --retry-no-data tries them again (and
    // still submits nothing past the deployment).
    let before = sim.api_requests();
    let again = ran
        .then()
        .args(["run", "across.toml", "--json"])
        .args(FAST)
        .run();
    assert_eq!(again.json()["http_requests"], 0, "{}", again.stdout);
    assert_eq!(sim.api_requests(), before);
    let retried = again
        .then()
        .args(["run", "across.toml", "--json", "--retry-no-data"])
        .args(FAST)
        .run();
    let summary = retried.json();
    assert_eq!(summary["items"]["done_before"], 3, "{summary}");
    assert_eq!(summary["items"]["no_data"], 9, "{summary}");
    // The windows retried inside the deployment still hold no archived file (the archive
    // listing shows it), so ONC gets no job for them either.
    assert_eq!(submitted_spans(&sim).len(), spans.len());
    for (from, to) in submitted_spans(&sim) {
        assert!(to.as_str() <= "2023-11-20T09:00:00.000Z", "{from}–{to}");
    }
}

#[test]
fn plan_online_checks_devices_and_lists_windows_outside_deployments() {
    let sim = Sim::start(&[]);
    let ran = Hf::new()
        .sim(&sim)
        .manifest("across.toml", ACROSS_END)
        .args(["plan", "--online", "across.toml"])
        .run();
    assert!(
        ran.stderr.contains(
            "online: ICLISTENHF6324 2023-11-20T09:00:00.000Z – 2023-11-20T09:15:00.000Z: no data (outside deployment), 3 windows"
        ),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stdout.contains("12"),
        "the plan is printed: {}",
        ran.stdout
    );

    let typo = ACROSS_END.replace("ICLISTENHF6324", "ICLISTENHF6342");
    let bad = ran
        .then()
        .manifest("typo.toml", &typo)
        .args(["plan", "--online", "typo.toml"])
        .expect_exit(2)
        .run();
    assert!(
        bad.stderr.contains("did you mean ICLISTENHF6324?"),
        "{}",
        bad.stderr
    );
    // Offline, plan asks nothing of ONC.
    let before = sim.api_requests();
    let _ = bad.then().args(["plan", "typo.toml"]).run();
    assert_eq!(sim.api_requests(), before);
    assert_eq!(sim.count("dataProductDelivery/request"), 0);
}
