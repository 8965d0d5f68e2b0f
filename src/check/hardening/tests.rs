use super::{normalize, sensitive};
use crate::check::testing::{
    BASE, diagnostics_of, findings, findings_of, pairs, seed_findings, with_gateway,
};
use crate::diagnostic::{Diagnostic, Severity};

fn is_hardening(code: &str) -> bool {
    ("PRV030"..="PRV039").contains(&code)
}

/// `(code, path)` of this pass's findings for `case`.
fn found(case: &str) -> Vec<(&'static str, String)> {
    findings_of(&with_gateway(case), is_hardening)
}

/// This pass's diagnostics for `case`.
fn reported(case: &str) -> Vec<Diagnostic> {
    diagnostics_of(&with_gateway(case), is_hardening)
}

#[test]
fn the_hardened_defaults_give_no_finding() {
    assert_eq!(found("{}"), vec![]);
}

#[test]
fn the_seed_gives_no_finding() {
    assert_eq!(seed_findings(is_hardening), vec![]);
}

#[test]
fn a_spec_without_gateway_gives_no_finding() {
    let codes: Vec<_> = findings(BASE)
        .into_iter()
        .filter(|(code, _)| is_hardening(code))
        .collect();
    assert_eq!(codes, vec![]);
}

#[test]
fn each_weakening_is_an_error_at_its_setting() {
    let cases = [
        ("privileged = true", "PRV030", "privileged"),
        (r#"cap_add = ["NET_ADMIN"]"#, "PRV031", "cap_add"),
        (r#"cap_drop = ["NET_RAW"]"#, "PRV031", "cap_drop"),
        ("no_new_privileges = false", "PRV032", "no_new_privileges"),
        ("read_only_root = false", "PRV033", "read_only_root"),
        (r#"user = "0:0""#, "PRV034", "user"),
        ("network = 'bridge", "PRV035", "network"),
        ("network = 'host", "PRV035", "network"),
        ("memory_mb = 512", "PRV039", "memory_mb"),
        ("cpus = 0", "PRV039", "cpus"),
    ];
    for (setting, code, key) in cases {
        let case = format!("{{ openclaw.container.{setting} }}");
        let reported = reported(&case);
        let path = format!("openclaw.container.{key}");
        assert_eq!(
            reported
                .iter()
                .map(|d| (d.code, d.path.as_ref().unwrap().to_string(), d.severity))
                .collect::<Vec<_>>(),
            vec![(code, path, Severity::Error)],
            "{setting}"
        );
        assert!(reported[0].message.contains('`'), "{setting}");
        assert!(reported[0].hint.is_some(), "{setting}");
    }
}

#[test]
fn an_exception_turns_the_error_into_a_warning_that_quotes_the_reason() {
    let reported = reported(
        r#"{ openclaw.container = {
             network = 'bridge,
             exceptions = [ { setting = 'network, reason = "The Signal plugin must reach the Signal servers." } ],
           } }"#,
    );
    assert_eq!(reported.len(), 1, "{reported:#?}");
    assert_eq!(reported[0].code, "PRV035");
    assert_eq!(reported[0].severity, Severity::Warning);
    assert!(
        reported[0]
            .message
            .contains("The Signal plugin must reach the Signal servers.")
    );
}

#[test]
fn an_exception_for_one_setting_does_not_allow_another() {
    let reported = reported(
        r#"{ openclaw.container = {
             privileged = true,
             read_only_root = false,
             exceptions = [ { setting = 'read_only_root, reason = "The image writes its caches next to the binary." } ],
           } }"#,
    );
    let severities: Vec<_> = reported.iter().map(|d| (d.code, d.severity)).collect();
    assert_eq!(
        severities,
        vec![("PRV030", Severity::Error), ("PRV033", Severity::Warning)]
    );
}

#[test]
fn host_network_says_it_shares_the_hosts_loopback() {
    let reported = reported("{ openclaw.container.network = 'host }");
    assert!(reported[0].message.contains("loopback"));
    assert!(reported[0].message.contains("Ollama"));
}

#[test]
fn added_capabilities_and_a_partial_drop_are_two_findings() {
    assert_eq!(
        found(r#"{ openclaw.container = { cap_add = ["SYS_ADMIN"], cap_drop = [] } }"#),
        pairs(&[
            ("PRV031", "openclaw.container.cap_add"),
            ("PRV031", "openclaw.container.cap_drop"),
        ])
    );
}

#[test]
fn root_is_uid_zero_the_name_root_or_no_uid() {
    for user in ["0", "root", "0:1000", "root:root", ":1000", "", "00:0"] {
        assert_eq!(
            found(&format!(r#"{{ openclaw.container.user = "{user}" }}"#)),
            pairs(&[("PRV034", "openclaw.container.user")]),
            "{user}"
        );
    }
    for user in ["1000:1000", "1000", "node", "65534:65534"] {
        assert_eq!(
            found(&format!(r#"{{ openclaw.container.user = "{user}" }}"#)),
            vec![],
            "{user}"
        );
    }
}

#[test]
fn sensitive_host_paths_are_recognised() {
    for path in [
        "/",
        "~/",
        "/Users/alice",
        "/home/alice/",
        "/root",
        "/home",
        "/etc",
        "/proc",
        "/proc/1/root",
        "/sys/fs/cgroup",
        "/dev",
        "/boot",
        "/lib",
        "/usr",
        "/var",
        "/var/run",
        "/run",
        "/var/run/docker.sock",
        "/run/podman/podman.sock",
        "/run/user/1000/podman/podman.sock",
        "/run/user/1000",
        "~/.docker/run/docker.sock",
        "~/.ssh",
        "~/.ssh/id_ed25519",
        "/Users/alice/.ssh",
        "~/.config",
        "~/.config/privai",
        "~/.config/privai/secrets",
        "/private/etc",
        "/home/alice/work/../../bob",
    ] {
        assert!(sensitive(path).is_some(), "{path} should be sensitive");
    }
    for path in [
        "~/.openclaw/workspace",
        "/Users/alice/.openclaw/config",
        "/srv/openclaw",
        "/var/lib/openclaw",
        "/etc/../srv/openclaw",
        "~/.config/openclaw",
        "/data/runbooks",
    ] {
        assert_eq!(sensitive(path), None, "{path} should not be sensitive");
    }
}

#[test]
fn home_directories_written_out_are_home_directories() {
    assert_eq!(
        normalize("/Users/alice/.ssh"),
        (true, vec![".ssh".to_string()])
    );
    assert_eq!(normalize("/root"), (true, vec![]));
    assert_eq!(
        normalize("/private/etc/hosts"),
        (false, vec!["etc".to_string(), "hosts".to_string()])
    );
}

#[test]
fn a_sensitive_mount_is_reported_at_its_host_path() {
    assert_eq!(
        found(
            r#"{ openclaw.folders = [
                 { name = "workspace", host_path = "~/.openclaw/workspace", container_path = "/home/node/.openclaw/workspace", mode = 'rw },
                 { name = "engine", host_path = "/var/run/docker.sock", container_path = "/var/run/docker.sock", mode = 'ro },
               ] }"#
        ),
        pairs(&[("PRV036", "openclaw.folders[1].host_path")])
    );
}

#[test]
fn a_mount_exception_makes_a_sensitive_mount_a_warning() {
    let reported = reported(
        r#"{ openclaw = {
             folders = [ { name = "keys", host_path = "~/.ssh", container_path = "/home/node/.ssh", mode = 'ro } ],
             container.exceptions = [ { setting = 'mount, reason = "The agent pushes to our git server over SSH." } ],
           } }"#,
    );
    assert_eq!(reported.len(), 1, "{reported:#?}");
    assert_eq!(reported[0].severity, Severity::Warning);
}

#[test]
fn two_folders_at_one_mount_point_are_an_error() {
    let reported = reported(
        r#"{ openclaw.folders = [
             { name = "notes", host_path = "~/notes", container_path = "/data", mode = 'ro },
             { name = "docs", host_path = "~/docs", container_path = "/data/", mode = 'ro },
           ] }"#,
    );
    assert_eq!(reported.len(), 1, "{reported:#?}");
    assert_eq!(reported[0].code, "PRV036");
    assert_eq!(reported[0].severity, Severity::Error);
    assert_eq!(
        reported[0].path.as_ref().unwrap().to_string(),
        "openclaw.folders[1].container_path"
    );
}

#[test]
fn a_writable_config_folder_is_a_warning() {
    let reported = reported(
        r#"{ openclaw.folders = [
             { name = "config", host_path = "~/.openclaw/config", container_path = "/home/node/.openclaw/config", mode = 'rw },
           ] }"#,
    );
    assert_eq!(reported.len(), 1, "{reported:#?}");
    assert_eq!(reported[0].severity, Severity::Warning);
    assert_eq!(
        reported[0].path.as_ref().unwrap().to_string(),
        "openclaw.folders[0].mode"
    );
    assert!(reported[0].hint.as_ref().unwrap().contains("'ro"));
}

#[test]
fn an_exception_needs_a_real_reason() {
    for reason in [
        "todo",
        "TBD.",
        "n/a",
        "needed",
        "it is required",
        "TODO: write down why we need this one",
    ] {
        let case = format!(
            r#"{{ openclaw.container = {{ privileged = true, exceptions = [ {{ setting = 'privileged, reason = "{reason}" }} ] }} }}"#
        );
        assert_eq!(
            found(&case),
            pairs(&[
                ("PRV030", "openclaw.container.privileged"),
                ("PRV037", "openclaw.container.exceptions[0].reason"),
            ]),
            "{reason}"
        );
    }
}

#[test]
fn a_stale_exception_is_a_warning_at_its_setting() {
    let reported = reported(
        r#"{ openclaw.container.exceptions = [ { setting = 'privileged, reason = "We once needed a FUSE mount inside it." } ] }"#,
    );
    assert_eq!(reported.len(), 1, "{reported:#?}");
    assert_eq!(reported[0].code, "PRV037");
    assert_eq!(reported[0].severity, Severity::Warning);
    assert_eq!(
        reported[0].path.as_ref().unwrap().to_string(),
        "openclaw.container.exceptions[0].setting"
    );
}

#[test]
fn a_second_exception_for_one_setting_is_a_warning() {
    assert_eq!(
        found(
            r#"{ openclaw.container = {
                 read_only_root = false,
                 exceptions = [
                   { setting = 'read_only_root, reason = "The image writes its caches next to the binary." },
                   { setting = 'read_only_root, reason = "And the plugin installer writes under /app too." },
                 ],
               } }"#
        ),
        pairs(&[
            ("PRV033", "openclaw.container.read_only_root"),
            ("PRV037", "openclaw.container.exceptions[1].setting"),
        ])
    );
}

#[test]
fn an_image_without_digest_is_an_error_that_mentions_latest() {
    let reported = reported(r#"{ openclaw.image | force = "ghcr.io/openclaw/openclaw:latest" }"#);
    assert_eq!(reported.len(), 1, "{reported:#?}");
    assert_eq!(reported[0].code, "PRV038");
    assert_eq!(
        reported[0].path.as_ref().unwrap().to_string(),
        "openclaw.image"
    );
    assert!(reported[0].message.contains(":latest"));
    assert!(reported[0].hint.as_ref().unwrap().contains("Digest"));
}

#[test]
fn a_malformed_digest_is_an_error() {
    let upper = "3F4B2C1D8E9A7B6C5D4E3F2A1B0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B2C";
    let short = "3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2";
    for digest in [
        format!("sha256:{upper}"),
        format!("sha256:{short}"),
        format!("sha512:{short}c"),
    ] {
        assert_eq!(
            found(&format!(
                r#"{{ openclaw.image | force = "ghcr.io/openclaw/openclaw:2026.9.6@{digest}" }}"#
            )),
            pairs(&[("PRV038", "openclaw.image")]),
            "{digest}"
        );
    }
}

#[test]
fn small_limits_are_reported_with_their_severity() {
    let reported = reported(
        "{ openclaw.container = { memory_mb = 768, pids_limit = 32, cpus = -1, tmpfs_mb = 8 } }",
    );
    let summary: Vec<_> = reported
        .iter()
        .map(|d| (d.path.as_ref().unwrap().to_string(), d.severity))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("openclaw.container.cpus".to_string(), Severity::Error),
            ("openclaw.container.memory_mb".to_string(), Severity::Error),
            (
                "openclaw.container.pids_limit".to_string(),
                Severity::Warning
            ),
            ("openclaw.container.tmpfs_mb".to_string(), Severity::Warning),
        ]
    );
    assert!(reported.iter().all(|d| d.code == "PRV039"));
}
