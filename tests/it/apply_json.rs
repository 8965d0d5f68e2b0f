//! `privai apply --json`: the run as JSON lines, one event each, from the
//! plan to the outcome.

use crate::apply::{Seed, privai, stdout};
use crate::tools::show;
use serde_json::Value;
use std::ffi::OsStr;

/// Every line of stdout, parsed; fails on a line that is not JSON.
fn events(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
        })
        .collect()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

#[test]
fn each_step_is_started_then_done_in_plan_order_between_the_plan_and_the_outcome() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let out = seed.apply(&spec, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let events = events(&stdout(&out));
    let kinds = kinds(&events);
    assert_eq!(kinds.first(), Some(&"planned"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"applied"), "{kinds:?}");
    assert_eq!(events.last().unwrap()["generation"], 1);
    let planned: Vec<&str> = events[0]["plan"]["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    let started: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "started")
        .map(|e| e["address"].as_str().unwrap())
        .collect();
    let done: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "done")
        .map(|e| e["address"].as_str().unwrap())
        .collect();
    assert_eq!(started, planned);
    assert_eq!(done, planned);
    // Each step's done follows its start, before the next starts.
    let steps: Vec<(&str, u64)> = events
        .iter()
        .filter(|e| e["event"] == "started" || e["event"] == "done")
        .map(|e| (e["event"].as_str().unwrap(), e["step"].as_u64().unwrap()))
        .collect();
    for (i, pair) in steps.chunks(2).enumerate() {
        assert_eq!(pair, [("started", i as u64), ("done", i as u64)]);
    }
    // The models' pull view arrives as progress lines, not raw text.
    assert!(kinds.contains(&"progress"), "{kinds:?}");
}

#[test]
fn a_failed_health_check_is_reported_as_failed_rolling_back_and_rolled_back() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    seed.gateway.answer(500);
    let b = seed.spec("b.ncl", "  openclaw.container.memory_mb | force = 3072,");
    let out = seed.apply(&b, &["--json", "--health-timeout", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let events = events(&stdout(&out));
    let kinds = kinds(&events);
    let tail = &kinds[kinds.len() - 3..];
    assert_eq!(tail, ["failed", "rolling_back", "rolled_back"], "{kinds:?}");
    let failed = &events[events.len() - 3];
    assert!(
        failed["failure"]
            .as_str()
            .unwrap()
            .starts_with("health check of openclaw-server:gateway: "),
        "{failed}"
    );
    assert_eq!(events.last().unwrap()["current"], 1);
}

#[test]
fn json_without_auto_approve_or_a_saved_plan_is_refused_and_changes_nothing() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let root = seed.root();
    let out = privai(
        [
            OsStr::new("apply"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--json".as_ref(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Pass --auto-approve, or apply a saved plan"),
        "{}",
        show(&out)
    );
    assert!(!root.join(".privai/generations").exists());
}
