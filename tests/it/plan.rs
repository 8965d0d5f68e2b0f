//! `privai plan`: exit codes, refusals, `--json`.

use crate::apply::{Seed, privai, stdout};
use crate::tools::repo;
use assert_cmd::Command;
use std::ffi::OsStr;

#[test]
fn plan_on_an_empty_root_creates_every_file_and_starts_every_service() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let out = seed.plan(&spec);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(
        text.starts_with("Actions are indicated with the following symbols:\n  + create\n\n"),
        "{text}"
    );
    assert_eq!(text.matches("\n  + file ").count(), 13, "{text}");
    assert_eq!(text.matches("\n  + service ").count(), 5, "{text}");
    assert_eq!(text.matches("\n  + secret ").count(), 1, "{text}");
    // What the stand-in Ollama and Headscale lack.
    assert_eq!(text.matches("\n  + headscale user ").count(), 2, "{text}");
    assert_eq!(text.matches("\n  + pre-auth key ").count(), 2, "{text}");
    assert_eq!(text.matches("\n  + model ").count(), 2, "{text}");
    // In the order apply runs them: Headscale and what lives in it, Ollama
    // and its models, then the gateway that needs both.
    let order = [
        "\n  + service openclaw-server:headscale ",
        "\n  + headscale user openclaw-server:user1",
        "\n  + pre-auth key openclaw-server:laptop ",
        "\n  + service openclaw-server:ollama ",
        "\n  + model openclaw-server:codellama:13b ",
        "\n  + model openclaw-server:llama3.2:3b ",
        "\n  + service openclaw-server:gateway ",
        "\n  + service openclaw-server:key-rotation ",
        "\n  + service openclaw-server:monitor ",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|line| {
            text.find(line)
                .unwrap_or_else(|| panic!("{line:?}: {text}"))
        })
        .collect();
    assert!(at.is_sorted(), "{order:?} at {at:?}: {text}");
    assert!(
        text.ends_with("Plan: 25 to add, 0 to change, 0 to delete.\n"),
        "{text}"
    );
    assert!(
        !seed.root().join(".privai/generations").exists(),
        "plan changes nothing"
    );
}

#[test]
fn plan_on_the_live_system_needs_to_know_which_host_this_is() {
    Command::cargo_bin("privai")
        .unwrap()
        .arg("plan")
        .arg(repo("examples/seed-home.ncl"))
        .arg("--host")
        .arg("no-such-host")
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "is none of the spec's hosts (openclaw-server); pass --host NAME, or --root DIR",
        ));
}

#[test]
fn plan_without_detailed_exitcode_exits_0_with_changes() {
    let root = tempfile::tempdir().unwrap();
    Command::cargo_bin("privai")
        .unwrap()
        .arg("plan")
        .arg(repo("examples/seed-home.ncl"))
        .arg("--root")
        .arg(root.path())
        .assert()
        .code(0)
        .stdout(predicates::str::contains("to add"));
}

#[test]
fn a_spec_with_errors_plans_nothing() {
    let root = tempfile::tempdir().unwrap();
    Command::cargo_bin("privai")
        .unwrap()
        .arg("plan")
        .arg(repo("examples/seed-as-written.ncl"))
        .arg("--root")
        .arg(root.path())
        .arg("--detailed-exitcode")
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains("nothing planned"));
}

#[test]
fn plan_json_is_versioned_and_lists_every_change() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let root = seed.root();
    let out = privai(
        [
            OsStr::new("plan"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--json".as_ref(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format_version"], "1.1");
    assert_eq!(json["prior_generation"], serde_json::Value::Null);
    assert_eq!(json["resource_changes"].as_array().unwrap().len(), 19);
    assert_eq!(json["summary"]["add"], 19);
}

/// Writes an executable `name` into `dir` that runs `script` (sh).
fn fake_program(dir: &std::path::Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_spec_without_a_container_engine_gets_the_one_found_here_or_an_error_naming_the_fix() {
    let seed = Seed::new();
    let seed_spec = std::fs::read_to_string(repo("examples/seed-home.ncl")).unwrap();
    let without = seed.dir.path().join("no-engine.ncl");
    std::fs::write(
        &without,
        seed_spec.replace("      runtime = 'podman,\n", ""),
    )
    .unwrap();
    let spec = seed.spec_on(&without, "a.ncl", "");
    // Podman without a compose provider; Docker with its compose plugin.
    let bin = seed.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    fake_program(
        &bin,
        "podman",
        "echo 'Error: looking up compose provider failed' >&2; exit 125",
    );
    fake_program(&bin, "docker", "exit 0");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let root = seed.root();
    let plan = |pass_through: &str| {
        privai(
            [
                OsStr::new("plan"),
                spec.as_os_str(),
                "--root".as_ref(),
                root.as_os_str(),
            ],
            &[
                ("PATH", OsStr::new(&path)),
                ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
                ("PRIVAI_TEST_PASS_THROUGH", OsStr::new(pass_through)),
                (
                    "PRIVAI_TEST_HS_KEY",
                    OsStr::new(crate::apply::HEADSCALE_KEY),
                ),
            ],
        )
    };
    let out = plan("podman,docker");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", crate::tools::show(&out));
    assert!(
        text.contains("  + service openclaw-server:gateway (docker compose privai-gateway)"),
        "{text}"
    );
    assert!(
        text.contains("Note: the spec names no container engine (`openclaw.container.runtime`): the gateway runs under docker, the first found here of podman and docker; set it in the spec to choose"),
        "{text}"
    );

    fake_program(
        &bin,
        "docker",
        "echo \"docker: 'compose' is not a docker command.\" >&2; exit 1",
    );
    let out = plan("podman,docker");
    assert_eq!(out.status.code(), Some(1), "{}", crate::tools::show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no container engine can run the gateway here (`podman compose version` exited 125: Error: looking up compose provider failed; `docker compose version` exited 1: docker: 'compose' is not a docker command.)")
            && err.contains("or set `openclaw.container.runtime` in the spec; nothing was changed"),
        "{err}"
    );
}

#[test]
fn the_plan_says_the_seeds_ollama_server_alias_follows_the_server_to_its_real_address() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let applied = seed.apply(&spec, &[]);
    assert_eq!(applied.status.code(), Some(0), "{}", stdout(&applied));
    // The stand-in hands out 100.64.0.ID: the server is not at its pinned
    // 100.64.0.1, which the seed's `ollama-server` alias names too.
    let node = seed.headscale.join("openclaw-server", "user1", &[]);
    let actual = format!("100.64.0.{node}");
    assert_ne!(actual, "100.64.0.1");
    let text = stdout(&seed.plan(&spec)).replace('\n', " ");
    for said in [
        format!(
            "`openclaw-server` is on the tailnet at {actual}, not at its `tailnet_ip` 100.64.0.1"
        ),
        format!(
            "the `acl.hosts` alias `ollama-server` is 100.64.0.1, the `tailnet_ip` of `openclaw-server`, which is on the tailnet at {actual}"
        ),
    ] {
        assert!(
            text.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .contains(&said),
            "{said}\nnot in: {text}"
        );
    }
}
