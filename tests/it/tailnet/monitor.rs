//! `privai monitor` on the real Headscale's own log: the seed applied, a
//! device of the spec joining, a stranger joining with a key made by
//! Headscale's CLI for a user the spec does not have, and privai run with a
//! made-up API key; the monitor reads the log Headscale wrote (placed where
//! the seed's Mac writes it) and alerts on the stranger and the refused
//! keys, not on the device.

use super::Tailnet;
use crate::tools::show;

#[test]
fn the_monitor_alerts_on_a_stranger_and_refused_api_keys_in_the_real_headscales_log_not_on_a_device()
 {
    let mut tailnet = Tailnet::seed("database");
    let spec = tailnet.spec.clone();
    tailnet.apply(&spec);
    tailnet.join("laptop");

    // A stranger: a user and a key from Headscale's own CLI.
    let server = tailnet.server.clone();
    tailnet
        .headscale
        .cli(&server, &["users", "create", "intruder"]);
    let users = tailnet.headscale.json(&server, &["users", "list"]);
    let id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "intruder")
        .and_then(|u| u["id"].as_u64())
        .unwrap()
        .to_string();
    let key = tailnet
        .headscale
        .cli(&server, &["preauthkeys", "create", "-u", &id, "-e", "1h"]);
    let key = key.lines().last().unwrap().trim().to_owned();
    tailnet.add_node("rogue-box");
    let argv: Vec<String> = tailnet
        .enroll_command("laptop")
        .into_iter()
        .map(|a| {
            if a.starts_with("--hostname=") {
                "--hostname=rogue-box".to_owned()
            } else {
                a
            }
        })
        .collect();
    let joined = tailnet.join_with("rogue-box", &argv, &key);
    assert!(joined.status.success(), "{}", show(&joined));

    // privai with an API key Headscale never issued, five times.
    let forged = format!("hskey-api-AAAAAAAAAAAA-{}", "B".repeat(64));
    tailnet
        .env
        .push(("PRIVAI_TEST_HS_KEY", std::ffi::OsString::from(&forged)));
    for _ in 0..5 {
        let out = tailnet.privai("plan", &spec, &[]);
        assert_ne!(out.status.code(), Some(0), "{}", show(&out));
    }
    tailnet
        .env
        .retain(|(name, _)| *name != "PRIVAI_TEST_HS_KEY");

    // Headscale's log where the seed's Mac writes it.
    let log = tailnet
        .root()
        .join("openclaw-server/usr/local/var/log/privai/headscale.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, tailnet.headscale.log_text()).unwrap();
    let out = tailnet.privai("monitor", &spec, &["--once", "--json", "--no-desktop"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}\n--- headscale\n{}",
        show(&out),
        tailnet.headscale.log_text()
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let alerts = report["alerts"].as_array().unwrap();
    let kinds: Vec<&str> = alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["unexpected-node", "auth-failures"], "{report:#}");
    assert_eq!(
        alerts[0]["summary"],
        "node `rogue-box` of user `intruder` connected to Headscale, but the spec has no such device",
        "{report:#}"
    );
    let failures = alerts[1]["summary"].as_str().unwrap();
    assert!(
        failures.starts_with("Headscale's API refused ") && failures.contains("with a wrong key"),
        "{failures}"
    );
    // The alert names no key.
    assert!(!report.to_string().contains(&forged[..30]), "{report:#}");
}
