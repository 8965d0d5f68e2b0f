use super::*;
use crate::output::plan_view::tests::{every_kind, file, gateway, hash, headscale, ollama};
use crate::plan::{Action, FileAction, ServiceAction, TextChange};
use crate::render::Owner;
use crate::render::ServiceId;
use crate::render::manifest::sha256_hex;

fn context() -> JsonContext {
    JsonContext {
        generation: Some(7),
        fingerprint: hash('f'),
        staged: false,
    }
}

#[test]
fn an_empty_plan_has_empty_lists_and_zero_counts() {
    let value = to_json(
        &Plan::default(),
        &JsonContext {
            generation: None,
            fingerprint: "fp".into(),
            staged: true,
        },
    );
    assert_eq!(
        value,
        json!({
            "format_version": "1.1",
            "privai_version": env!("CARGO_PKG_VERSION"),
            "prior_generation": null,
            "observed_fingerprint": "fp",
            "staged": true,
            "resource_changes": [],
            "resource_drift": [],
            "restarts": [],
            "summary": {"add": 0, "change": 0, "delete": 0, "restart": 0, "reload": 0},
        })
    );
}

#[test]
fn a_plan_of_every_kind_round_trips_and_matches_exactly() {
    let value = to_json(&every_kind(), &context());
    let text = serde_json::to_string_pretty(&value).expect("serializes");
    let back: Value = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, value);
    let h = hash;
    let expected = json!({
        "format_version": "1.1",
        "privai_version": env!("CARGO_PKG_VERSION"),
        "prior_generation": 7,
        "observed_fingerprint": h('f'),
        "staged": false,
        "resource_changes": [
            {
                "address": "service mac:gateway",
                "type": "service",
                "host": "mac",
                "name": "gateway",
                "change": {
                    "actions": ["delete"],
                    "before": {
                        "manager": {
                            "kind": "compose",
                            "runtime": "podman",
                            "project": "privai-gateway",
                            "file": "~/.privai/gateway/compose.yaml",
                        },
                        "health": {
                            "kind": "http",
                            "url": "http://127.0.0.1:18789/healthz",
                            "timeout_secs": 60,
                        },
                    },
                    "after": null,
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": "service_removed",
            },
            {
                "address": "file mac:/etc/new",
                "type": "file",
                "host": "mac",
                "name": "/etc/new",
                "change": {
                    "actions": ["create"],
                    "before": null,
                    "after": {"sha256": h('1'), "mode": "0644", "owner": "root"},
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": "file_absent",
            },
            {
                "address": "file mac:~/.privai/token",
                "type": "file",
                "host": "mac",
                "name": "~/.privai/token",
                "change": {
                    "actions": ["create"],
                    "before": null,
                    "after": {"sha256": h('2'), "mode": "0600", "owner": "user"},
                    "before_sensitive": false,
                    "after_sensitive": true,
                },
                "action_reason": "file_absent",
            },
            {
                "address": "file mac:/etc/conf",
                "type": "file",
                "host": "mac",
                "name": "/etc/conf",
                "change": {
                    "actions": ["update"],
                    "before": {
                        "sha256": h('3'),
                        "mode": "0644",
                        "text": "a\nb\nc\nd\nE\nf\ng\nh\n",
                    },
                    "after": {
                        "sha256": h('4'),
                        "mode": "0644",
                        "owner": "root",
                        "text": "a\nb\nc\nd\ne\nf\ng\nh\n",
                    },
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": "contents_differ",
            },
            {
                "address": "file mac:/etc/mode",
                "type": "file",
                "host": "mac",
                "name": "/etc/mode",
                "change": {
                    "actions": ["update"],
                    "before": {"sha256": h('6'), "mode": "0666"},
                    "after": {"sha256": h('6'), "mode": "0644", "owner": "root"},
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": "mode_differs",
            },
            {
                "address": "file mac:~/key",
                "type": "file",
                "host": "mac",
                "name": "~/key",
                "change": {
                    "actions": ["update"],
                    "before": {"sha256": h('7'), "mode": "0644"},
                    "after": {"sha256": h('8'), "mode": "0600", "owner": "user"},
                    "before_sensitive": true,
                    "after_sensitive": true,
                },
                "action_reason": "contents_differ",
            },
            {
                "address": "file mac:/etc/hosts",
                "type": "file",
                "host": "mac",
                "name": "/etc/hosts",
                "change": {
                    "actions": ["adopt"],
                    "before": {
                        "sha256": h('9'),
                        "mode": "0644",
                        "text": "127.0.0.1 localhost\n",
                    },
                    "after": {
                        "sha256": h('a'),
                        "mode": "0644",
                        "owner": "root",
                        "text": "127.0.0.1 localhost\n100.64.0.1 vps\n",
                    },
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": "not_written_by_privai",
            },
            {
                "address": "file mac:~/.netrc",
                "type": "file",
                "host": "mac",
                "name": "~/.netrc",
                "change": {
                    "actions": ["adopt"],
                    "before": {"sha256": h('b'), "mode": "0600"},
                    "after": {"sha256": h('c'), "mode": "0600", "owner": "user"},
                    "before_sensitive": true,
                    "after_sensitive": true,
                },
                "action_reason": "not_written_by_privai",
            },
            {
                "address": "secret mac:~/.privai/secrets/openclaw-gateway-token",
                "type": "secret",
                "host": "mac",
                "name": "~/.privai/secrets/openclaw-gateway-token",
                "change": {
                    "actions": ["create"],
                    "before": null,
                    "after": {"mode": "0600", "source": {"kind": "generate"}},
                    "before_sensitive": false,
                    "after_sensitive": true,
                },
                "action_reason": "secret_absent",
                "secret_name": "openclaw.gateway_token",
            },
            {
                "address": "secret mac:~/.privai/secrets/telegram-token",
                "type": "secret",
                "host": "mac",
                "name": "~/.privai/secrets/telegram-token",
                "change": {
                    "actions": ["update"],
                    "before": {"sha256": h('0')},
                    "after": {
                        "sha256": h('e'),
                        "mode": "0600",
                        "source": {"kind": "env", "var": "TELEGRAM_TOKEN"},
                    },
                    "before_sensitive": true,
                    "after_sensitive": true,
                },
                "action_reason": "secret_differs",
                "secret_name": "openclaw.channels.telegram.token",
            },
            {
                "address": "file mac:/etc/gone",
                "type": "file",
                "host": "mac",
                "name": "/etc/gone",
                "change": {
                    "actions": ["delete"],
                    "before": {"sha256": h('d'), "mode": "0644", "owner": "root"},
                    "after": null,
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": "no_longer_in_spec",
            },
            {
                "address": "service vps:headscale",
                "type": "service",
                "host": "vps",
                "name": "headscale",
                "change": {
                    "actions": ["create"],
                    "before": null,
                    "after": {
                        "manager": {"kind": "systemd", "unit": "privai-headscale.service"},
                        "health": {"kind": "tcp", "addr": "127.0.0.1:443", "timeout_secs": 30},
                    },
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": "new_service",
            },
            {
                "address": "service mac:ollama",
                "type": "service",
                "host": "mac",
                "name": "ollama",
                "change": {
                    "actions": ["restart"],
                    "before": {
                        "manager": {
                            "kind": "launchd",
                            "domain": "gui",
                            "label": "net.privai.ollama",
                            "plist": "~/Library/LaunchAgents/net.privai.ollama.plist",
                        },
                        "health": {
                            "kind": "http",
                            "url": "http://127.0.0.1:11434/api/version",
                            "timeout_secs": 60,
                        },
                    },
                    "after": {
                        "manager": {
                            "kind": "launchd",
                            "domain": "gui",
                            "label": "net.privai.ollama",
                            "plist": "~/Library/LaunchAgents/net.privai.ollama.plist",
                        },
                        "health": {
                            "kind": "http",
                            "url": "http://127.0.0.1:11434/api/version",
                            "timeout_secs": 60,
                        },
                    },
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": "files_changed",
                "because": ["/etc/conf", "~/key"],
            },
        ],
        "resource_drift": [
            {
                "address": "file mac:~/.privai/token",
                "type": "file",
                "host": "mac",
                "name": "~/.privai/token",
                "change": {
                    "actions": ["delete"],
                    "before": {},
                    "after": null,
                    "before_sensitive": true,
                    "after_sensitive": false,
                },
                "action_reason": "removed",
            },
            {
                "address": "file mac:/etc/conf",
                "type": "file",
                "host": "mac",
                "name": "/etc/conf",
                "change": {
                    "actions": ["update"],
                    "before": {"sha256": h('5')},
                    "after": {"sha256": h('3'), "mode": "0644"},
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": "edited",
            },
            {
                "address": "file mac:/etc/mode",
                "type": "file",
                "host": "mac",
                "name": "/etc/mode",
                "change": {
                    "actions": ["update"],
                    "before": {"sha256": h('6'), "mode": "0644"},
                    "after": {"sha256": h('6'), "mode": "0666"},
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": "mode_changed",
            },
        ],
        "restarts": ["headscale", "ollama"],
        "summary": {"add": 4, "change": 6, "delete": 2, "restart": 1, "reload": 0},
    });
    assert_eq!(value, expected, "\n{text}");
    // Keys come out in schema order (serde_json's `preserve_order`).
    let keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "format_version",
            "privai_version",
            "prior_generation",
            "observed_fingerprint",
            "staged",
            "resource_changes",
            "resource_drift",
            "restarts",
            "summary",
        ]
    );
}

#[test]
fn a_service_whose_manager_changed_stops_and_starts_for_that_reason() {
    let mut old = ollama();
    old.manager = crate::render::units::Manager::Systemd {
        unit: "privai-ollama.service".into(),
    };
    let plan = Plan {
        actions: vec![
            Action::Service(ServiceAction::Stop { unit: old }),
            Action::Service(ServiceAction::Stop { unit: gateway() }),
            Action::Service(ServiceAction::Start { unit: ollama() }),
            Action::Service(ServiceAction::Start { unit: headscale() }),
        ],
        notes: Vec::new(),
    };
    let value = to_json(&plan, &context());
    let reasons: Vec<(&str, &str)> = value["resource_changes"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap_or_default(),
                c["action_reason"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("service mac:ollama", "manager_changed"),
            ("service mac:gateway", "service_removed"),
            ("service mac:ollama", "manager_changed"),
            ("service vps:headscale", "new_service"),
        ]
    );
    assert_eq!(value["restarts"], json!(["headscale", "ollama"]));
    assert_eq!(
        value["summary"],
        json!({"add": 2, "change": 0, "delete": 2, "restart": 0, "reload": 0})
    );
}

#[test]
fn a_secret_never_appears_in_the_document() {
    use crate::observe::{FileKey, FileState, Observed};
    use crate::render::manifest::Manifest;
    use crate::render::{Artifact, Rendered};
    let secret = |path: &str, text: &str| Artifact {
        host: "mac".into(),
        path: path.into(),
        contents: text.as_bytes().to_vec(),
        mode: 0o600,
        owner: Owner::User,
        secret: true,
        restarts: vec![ServiceId::Ollama],
        reloads: Vec::new(),
    };
    let old = Rendered {
        artifacts: vec![
            secret("~/gone", "gone-secret-value\n"),
            secret("~/updated", "old-secret-value\n"),
        ],
        ..Rendered::default()
    };
    let desired = Rendered {
        artifacts: vec![
            secret("~/adopted", "new-adopted-secret-value\n"),
            secret("~/created", "created-secret-value\n"),
            secret("~/updated", "new-secret-value\n"),
        ],
        ..Rendered::default()
    };
    let mut observed = Observed {
        previous: Manifest::of(&old).files,
        ..Observed::default()
    };
    for (path, text, mode) in [
        ("~/gone", "gone-secret-value\n", 0o600),
        ("~/updated", "edited-secret-value\n", 0o644),
        ("~/adopted", "old-adopted-secret-value\n", 0o600),
    ] {
        observed.files.insert(
            FileKey::new("mac", path),
            FileState::Present {
                contents: text.as_bytes().to_vec(),
                mode,
            },
        );
    }
    let mut plan = crate::plan::plan(&desired, &observed);
    assert_eq!(plan.drifted().count(), 1, "{plan:?}");
    // A plan that (wrongly) carries a secret's text does not leak it either.
    plan.actions.push(Action::File(FileAction::Update {
        file: file("~/leaky", 0o600, true, &[]),
        old_mode: 0o600,
        old_sha256: hash('e'),
        new_sha256: hash('f'),
        text: Some(TextChange {
            old: "old-leaky-secret-value\n".into(),
            new: "new-leaky-secret-value\n".into(),
        }),
        drift: None,
    }));
    let value = to_json(&plan, &context());
    let text = serde_json::to_string(&value).expect("serializes");
    assert!(!text.contains("secret-value"), "{text}");
    assert!(!text.contains("\"text\""), "{text}");
    assert!(text.contains(&sha256_hex(b"new-secret-value\n")));
    for entry in value["resource_changes"].as_array().expect("a list") {
        let change = &entry["change"];
        assert_eq!(change["before_sensitive"], !change["before"].is_null());
        assert_eq!(change["after_sensitive"], !change["after"].is_null());
    }
}
