//! `privai acl` and the policy's meaning in `privai check`.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn privai() -> Command {
    Command::cargo_bin("privai").unwrap()
}

#[test]
fn the_seed_matrix_lets_every_device_reach_the_homeserver_and_the_gateway_and_nothing_else() {
    let out = privai()
        .args(["acl", "--json", "examples/seed-home.ncl"])
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &report["matrix"];
    assert_eq!(
        m["sources"],
        serde_json::json!(["phone", "laptop", "desktop"])
    );
    let columns: Vec<String> = m["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}:{}", s["host"].as_str().unwrap(), s["port"]))
        .collect();
    assert_eq!(
        columns,
        [
            "openclaw-server:443",
            "openclaw-server:11434",
            "openclaw-server:8008",
            "openclaw-server:18789"
        ]
    );
    // Every device: Headscale's port and Ollama's denied, the homeserver by
    // rule 0, the gateway by rule 1.
    for row in m["cells"].as_array().unwrap() {
        assert_eq!(row, &serde_json::json!([null, null, 0, 1]));
    }
}

#[test]
fn the_seed_policy_tests_pass_and_its_policy_raises_no_acl_finding() {
    let outcome = privai::check::check_file(&repo("examples/seed-home.ncl"));
    let acl: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| ("PRV070"..="PRV075").contains(&d.code))
        .collect();
    assert!(acl.is_empty(), "{acl:#?}");
}

#[test]
fn the_seeds_star_star_rule_is_flagged_with_a_tighter_rule() {
    let outcome = privai::check::check_file(&repo("examples/seed-as-written.ncl"));
    let d = outcome
        .diagnostics
        .iter()
        .find(|d| d.code == "PRV071")
        .unwrap();
    assert_eq!(d.path.as_ref().unwrap().to_string(), "acl.rules[0].dst[0]");
    assert!(
        d.hint
            .as_deref()
            .unwrap()
            .contains(r#"dst = ["openclaw-server:18789"]"#),
        "{:?}",
        d.hint
    );
}

#[test]
fn check_warns_of_a_port_nothing_listens_on_and_of_a_gateway_no_rule_reaches() {
    let out = privai()
        .args(["check", "tests/corpus/acl/port-nothing-listens.ncl"])
        .current_dir(repo(""))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "warnings only");
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn a_listener_the_host_declares_in_toml_lets_a_rule_open_its_port_without_a_warning() {
    privai()
        .args(["check", "tests/fixtures/acl/declared-ssh.toml"])
        .current_dir(repo(""))
        .assert()
        .success()
        .stdout("tests/fixtures/acl/declared-ssh.toml: no problems found\n");
}

#[test]
fn a_failing_acl_test_fails_check_with_the_assertion_and_the_rule_responsible() {
    privai()
        .args(["check", "tests/corpus/acl/failing-deny-test.toml"])
        .current_dir(repo(""))
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "ACL test fails: `group:trusted` must not reach `server:22`, but `laptop` can: acl.rules[0]: group:trusted -> server:* accepts it",
        ))
        .stdout(predicates::str::contains("the rule responsible: acl.rules[0]"));
}

#[test]
fn filters_keep_one_device_and_one_service_and_rules_name_the_rule() {
    let out = privai()
        .args([
            "acl",
            "examples/linux-homelab.ncl",
            "--from",
            "kim-laptop",
            "--to",
            "homelab:18789",
            "--rules",
        ])
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "DEVICE      homelab:18789 (gateway)\n\
         kim-laptop  yes (acl.rules[0])\n\
         acl.rules[0]: group:family -> homelab:18789\n"
    );
}

#[test]
fn an_unknown_device_filter_lists_the_devices() {
    privai()
        .args(["acl", "examples/seed-home.ncl", "--from", "tablet"])
        .current_dir(repo(""))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("phone, laptop, desktop"));
}

/// `privai acl --json` prints, byte for byte, what it printed before the
/// policy was compiled into indexes: on the examples, and on specs made by
/// `bench/scale.py` (10 and 100 devices, in TOML and in Nickel). The
/// expected outputs in `tests/fixtures/scale/` were printed by the
/// evaluator that scanned every rule and node (an example added since, by
/// the indexed one, which answers every question on every example like
/// that evaluator: `acl::eval` tests).
#[test]
fn acl_json_is_byte_identical_to_the_scanning_evaluators_output() {
    let fixtures = repo("tests/fixtures/scale");
    let mut cases: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(repo("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|spec| {
            let name = spec.file_name().unwrap().to_string_lossy().into_owned();
            (spec, fixtures.join(format!("example-{name}.acl.json")))
        })
        .collect();
    for n in [10, 100] {
        for format in ["toml", "ncl"] {
            cases.push((
                fixtures.join(format!("scale-{n}.{format}")),
                fixtures.join(format!("scale-{n}.acl.json")),
            ));
        }
    }
    assert!(cases.len() >= 9, "{} cases", cases.len());
    for (spec, expected) in cases {
        let out = privai()
            .args(["acl", "--json"])
            .arg(&spec)
            .current_dir(repo(""))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", spec.display());
        let expected = std::fs::read(&expected).unwrap();
        assert!(
            out.stdout == expected,
            "{}: the output differs from {}",
            spec.display(),
            String::from_utf8_lossy(&expected)
        );
    }
}

#[test]
fn privai_acl_shows_the_homeserver_and_who_reaches_it() {
    let out = privai()
        .args(["acl", "--json", "tests/fixtures/homeserver/home.ncl"])
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &report["matrix"];
    let services = m["services"].as_array().unwrap();
    let column = services
        .iter()
        .position(|s| s["what"] == "homeserver")
        .unwrap_or_else(|| panic!("no homeserver column: {m}"));
    assert_eq!(services[column]["host"], "chat");
    assert_eq!(services[column]["port"], 8008);
    // The phone reaches it through rule 0.
    assert_eq!(m["cells"][0][column], 0, "{m}");
}
