use super::*;
use crate::observe::{FileKey, FileState, Observed};
use crate::plan::describe::short;
use crate::plan::{
    Action, Drift, FileAction, ManagedFile, SecretAction, ServiceAction, TextChange,
};
use crate::render::Owner;
use crate::render::manifest::{Manifest, sha256_hex};
use crate::render::secrets::{SecretFile, SecretSource};
use crate::render::units::{Health, LaunchdDomain, Manager, ServiceUnit};
use crate::render::{Artifact, Rendered, ServiceId};

/// A fake sha256: `c` 64 times.
pub(crate) fn hash(c: char) -> String {
    c.to_string().repeat(64)
}

pub(crate) fn file(path: &str, mode: u32, secret: bool, restarts: &[ServiceId]) -> ManagedFile {
    ManagedFile {
        host: "mac".into(),
        path: path.into(),
        mode,
        owner: if path.starts_with("~/") {
            Owner::User
        } else {
            Owner::Root
        },
        secret,
        restarts: restarts.to_vec(),
        reloads: Vec::new(),
    }
}

pub(crate) fn gateway() -> ServiceUnit {
    ServiceUnit {
        host: "mac".into(),
        id: ServiceId::Gateway,
        manager: Manager::Compose {
            runtime: "podman".into(),
            project: "privai-gateway".into(),
            file: "~/.privai/gateway/compose.yaml".into(),
        },
        health: Some(Health::Http {
            url: "http://127.0.0.1:18789/healthz".into(),
        }),
        health_timeout_secs: 60,
        definition: None,
    }
}

pub(crate) fn headscale() -> ServiceUnit {
    ServiceUnit {
        host: "vps".into(),
        id: ServiceId::Headscale,
        manager: Manager::Systemd {
            unit: "privai-headscale.service".into(),
        },
        health: Some(Health::Tcp {
            addr: "127.0.0.1:443".into(),
        }),
        health_timeout_secs: 30,
        definition: None,
    }
}

pub(crate) fn ollama() -> ServiceUnit {
    ServiceUnit {
        host: "mac".into(),
        id: ServiceId::Ollama,
        manager: Manager::Launchd {
            domain: LaunchdDomain::Gui,
            label: "net.privai.ollama".into(),
            plist: "~/Library/LaunchAgents/net.privai.ollama.plist".into(),
        },
        health: Some(Health::Http {
            url: "http://127.0.0.1:11434/api/version".into(),
        }),
        health_timeout_secs: 60,
        definition: None,
    }
}

/// A plan with every kind of action, in plan order: a service stops;
/// files are created (one a secret that was removed outside privai),
/// updated (one edited outside privai, one whose mode was changed, one
/// a secret) and taken over (one a secret); secrets are written (one
/// generated, one copied from the environment); a file is deleted;
/// services start and restart. Hashes are fake; nothing secret is in it.
pub(crate) fn every_kind() -> Plan {
    Plan {
        actions: vec![
            Action::Service(ServiceAction::Stop { unit: gateway() }),
            Action::File(FileAction::Create {
                file: file("/etc/new", 0o644, false, &[ServiceId::Headscale]),
                sha256: hash('1'),
                drift: None,
            }),
            Action::File(FileAction::Create {
                file: file("~/.privai/token", 0o600, true, &[]),
                sha256: hash('2'),
                drift: Some(Drift::Removed),
            }),
            Action::File(FileAction::Update {
                file: file("/etc/conf", 0o644, false, &[ServiceId::Ollama]),
                old_mode: 0o644,
                old_sha256: hash('3'),
                new_sha256: hash('4'),
                text: Some(TextChange {
                    old: "a\nb\nc\nd\nE\nf\ng\nh\n".into(),
                    new: "a\nb\nc\nd\ne\nf\ng\nh\n".into(),
                }),
                drift: Some(Drift::Edited {
                    recorded_sha256: hash('5'),
                }),
            }),
            Action::File(FileAction::Update {
                file: file("/etc/mode", 0o644, false, &[ServiceId::Ollama]),
                old_mode: 0o666,
                old_sha256: hash('6'),
                new_sha256: hash('6'),
                text: None,
                drift: Some(Drift::ModeChanged {
                    recorded_mode: 0o644,
                }),
            }),
            Action::File(FileAction::Update {
                file: file("~/key", 0o600, true, &[ServiceId::Ollama]),
                old_mode: 0o644,
                old_sha256: hash('7'),
                new_sha256: hash('8'),
                text: None,
                drift: None,
            }),
            Action::File(FileAction::Adopt {
                file: file("/etc/hosts", 0o644, false, &[]),
                old_mode: 0o644,
                old_sha256: hash('9'),
                new_sha256: hash('a'),
                text: Some(TextChange {
                    old: "127.0.0.1 localhost\n".into(),
                    new: "127.0.0.1 localhost\n100.64.0.1 vps\n".into(),
                }),
            }),
            Action::File(FileAction::Adopt {
                file: file("~/.netrc", 0o600, true, &[]),
                old_mode: 0o600,
                old_sha256: hash('b'),
                new_sha256: hash('c'),
                text: None,
            }),
            Action::Secret(SecretAction::Write {
                secret: SecretFile {
                    host: "mac".into(),
                    path: "~/.privai/secrets/openclaw-gateway-token".into(),
                    name: "openclaw.gateway_token".into(),
                    source: SecretSource::Generate,
                    restarts: vec![ServiceId::Gateway],
                    owner: None,
                },
                old_sha256: None,
                new_sha256: None,
            }),
            Action::Secret(SecretAction::Write {
                secret: SecretFile {
                    host: "mac".into(),
                    path: "~/.privai/secrets/telegram-token".into(),
                    name: "openclaw.channels.telegram.token".into(),
                    source: SecretSource::Env {
                        var: "TELEGRAM_TOKEN".into(),
                    },
                    restarts: vec![ServiceId::Gateway],
                    owner: None,
                },
                old_sha256: Some(hash('0')),
                new_sha256: Some(hash('e')),
            }),
            Action::File(FileAction::Delete {
                file: file("/etc/gone", 0o644, false, &[]),
                sha256: hash('d'),
                drift: None,
            }),
            Action::Service(ServiceAction::Start { unit: headscale() }),
            Action::Service(ServiceAction::Restart {
                unit: ollama(),
                because: vec!["/etc/conf".into(), "~/key".into()],
            }),
        ],
        notes: Vec::new(),
    }
}

#[test]
fn an_empty_plan_says_no_changes_and_nothing_else() {
    assert_eq!(
        render(&Plan::default(), &ViewNotes::default()),
        "No changes. Your system matches the spec.\n"
    );
    assert_eq!(
        render(&Plan::default(), &ViewNotes { staged: true }),
        "No changes. Your system matches the spec.\n"
    );
    assert_eq!(summary(&Plan::default()), NO_CHANGES);
}

#[test]
fn a_plan_of_every_kind_renders_exactly() {
    let text = render(&every_kind(), &ViewNotes::default());
    let expected = "\
Note: files changed outside privai

privai detected the following changes made outside privai since it last
wrote these files:

  mac:~/.privai/token: removed
  mac:/etc/conf: edited, sha256 55555555 (written by privai) -> 33333333 (now)
  mac:/etc/mode: mode 0644 (set by privai) -> 0666 (now)

Unless you have made the same changes in the spec, the plan below puts
these files back as the spec says; apply shows each diff before overwriting.

Warning: files privai did not write

These files exist, privai did not write them, and they differ from the spec.
`privai apply --adopt` saves each one, then replaces it:

  mac:/etc/hosts (saved as /etc/hosts.before-privai)
  mac:~/.netrc (saved as ~/.netrc.before-privai)

Actions are indicated with the following symbols:
  + create
  ~ update in place
  ! take over a file privai did not write (needs --adopt)
  - delete
  ↻ restart

privai will perform the following actions:

  - service mac:gateway (podman compose privai-gateway)

  + file mac:/etc/new (mode 0644, owner root)
      restarts: headscale

  + file mac:~/.privai/token (mode 0600, owner user)
      contents: (sensitive) sha256 22222222

  ~ file mac:/etc/conf (mode 0644, owner root)
      --- mac:/etc/conf (installed)
      +++ mac:/etc/conf (planned)
      @@ -2,7 +2,7 @@
       b
       c
       d
      -E
      +e
       f
       g
       h
      restarts: ollama

  ~ file mac:/etc/mode (mode 0644, owner root)
      mode: 0666 -> 0644

  ~ file mac:~/key (mode 0600, owner user)
      mode: 0644 -> 0600
      contents: (sensitive) sha256 77777777 -> 88888888
      restarts: ollama

  ! file mac:/etc/hosts (mode 0644, owner root)
      --- mac:/etc/hosts (installed)
      +++ mac:/etc/hosts (planned)
      @@ -1 +1,2 @@
       127.0.0.1 localhost
      +100.64.0.1 vps

  ! file mac:~/.netrc (mode 0600, owner user)
      contents: (sensitive) sha256 bbbbbbbb -> cccccccc

  + secret mac:~/.privai/secrets/openclaw-gateway-token (mode 0600)
      value: openclaw.gateway_token, generated (sensitive)
      restarts: gateway

  ~ secret mac:~/.privai/secrets/telegram-token (mode 0600)
      value: openclaw.channels.telegram.token, from $TELEGRAM_TOKEN (sensitive) sha256 00000000 -> eeeeeeee
      restarts: gateway

  - file mac:/etc/gone (mode 0644, owner root)

  + service vps:headscale (systemd privai-headscale.service)
      health: TCP connect 127.0.0.1:443 within 30 s

  ↻ service mac:ollama (launchd gui net.privai.ollama)
      because: /etc/conf, ~/key
      health: GET http://127.0.0.1:11434/api/version within 60 s

Plan: 4 to add, 6 to change, 2 to delete, 1 to restart.
";
    assert_eq!(text, expected, "\n{text}");
}

#[test]
fn staged_services_say_they_are_not_started() {
    let plan = Plan {
        actions: vec![
            Action::Service(ServiceAction::Stop { unit: gateway() }),
            Action::Service(ServiceAction::Start { unit: headscale() }),
            Action::Service(ServiceAction::Restart {
                unit: ollama(),
                because: vec!["/etc/conf".into()],
            }),
        ],
        notes: Vec::new(),
    };
    let text = render(&plan, &ViewNotes { staged: true });
    assert_eq!(
        text,
        "\
Actions are indicated with the following symbols:
  + create
  - delete
  ↻ restart

privai will perform the following actions:

  - service mac:gateway (podman compose privai-gateway)
      (staged under --root: not stopped)

  + service vps:headscale (systemd privai-headscale.service)
      health: TCP connect 127.0.0.1:443 within 30 s
      (staged under --root: not started)

  ↻ service mac:ollama (launchd gui net.privai.ollama)
      because: /etc/conf
      health: GET http://127.0.0.1:11434/api/version within 60 s
      (staged under --root: not restarted)

Plan: 1 to add, 0 to change, 1 to delete, 1 to restart.
",
        "\n{text}"
    );
}

#[test]
fn the_legend_lists_only_the_symbols_used() {
    let plan = Plan {
        actions: vec![Action::File(FileAction::Delete {
            file: file("/etc/gone", 0o644, false, &[]),
            sha256: hash('d'),
            drift: None,
        })],
        notes: Vec::new(),
    };
    assert_eq!(
        render(&plan, &ViewNotes::default()),
        "\
Actions are indicated with the following symbols:
  - delete

privai will perform the following actions:

  - file mac:/etc/gone (mode 0644, owner root)

Plan: 0 to add, 0 to change, 1 to delete.
"
    );
    let plan = Plan {
        actions: vec![Action::File(FileAction::Adopt {
            file: file("/etc/hosts", 0o644, false, &[]),
            old_mode: 0o644,
            old_sha256: hash('9'),
            new_sha256: hash('a'),
            text: None,
        })],
        notes: Vec::new(),
    };
    let text = render(&plan, &ViewNotes::default());
    let legend: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Actions are indicated"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(
        legend,
        ["  ! take over a file privai did not write (needs --adopt)"]
    );
    assert!(text.contains("Warning: files privai did not write"));
    assert!(!text.contains("Note: files changed outside privai"));
    assert!(text.ends_with("Plan: 0 to add, 1 to change, 0 to delete.\n"));
}

#[test]
fn the_summary_counts_adoptions_as_changes_and_restarts_only_when_present() {
    assert_eq!(
        summary(&every_kind()),
        "Plan: 4 to add, 6 to change, 2 to delete, 1 to restart."
    );
    let mut plan = every_kind();
    plan.actions
        .retain(|a| !matches!(a, Action::Service(ServiceAction::Restart { .. })));
    assert_eq!(summary(&plan), "Plan: 4 to add, 6 to change, 2 to delete.");
}

fn secret(path: &str, text: &str) -> Artifact {
    Artifact {
        host: "mac".into(),
        path: path.into(),
        contents: text.as_bytes().to_vec(),
        mode: 0o600,
        owner: Owner::User,
        secret: true,
        restarts: vec![ServiceId::Ollama],
        reloads: Vec::new(),
    }
}

fn present(observed: &mut Observed, path: &str, text: &str, mode: u32) {
    observed.files.insert(
        FileKey::new("mac", path),
        FileState::Present {
            contents: text.as_bytes().to_vec(),
            mode,
        },
    );
}

#[test]
fn a_secret_file_never_shows_its_contents() {
    // Planned from real bytes: a created, an updated, a taken-over and a
    // deleted secret.
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
    present(&mut observed, "~/gone", "gone-secret-value\n", 0o600);
    present(&mut observed, "~/updated", "edited-secret-value\n", 0o644);
    present(
        &mut observed,
        "~/adopted",
        "old-adopted-secret-value\n",
        0o600,
    );
    let plan = crate::plan::plan(&desired, &observed);
    assert_eq!(plan.count(Change::Create), 1, "{plan:?}");
    assert_eq!(plan.count(Change::Update), 1, "{plan:?}");
    assert_eq!(plan.count(Change::Adopt), 1, "{plan:?}");
    assert_eq!(plan.count(Change::Delete), 1, "{plan:?}");
    // A plan that (wrongly) carries a secret's text does not leak it either.
    let mut plan = plan;
    plan.actions.push(Action::File(FileAction::Adopt {
        file: file("~/leaky", 0o600, true, &[]),
        old_mode: 0o600,
        old_sha256: hash('e'),
        new_sha256: hash('f'),
        text: Some(TextChange {
            old: "old-leaky-secret-value\n".into(),
            new: "new-leaky-secret-value\n".into(),
        }),
    }));
    for staged in [false, true] {
        let text = render(&plan, &ViewNotes { staged });
        assert!(!text.contains("secret-value"), "{text}");
        assert!(
            text.contains(&format!(
                "contents: (sensitive) sha256 {} -> {}",
                short(&sha256_hex(b"edited-secret-value\n")),
                short(&sha256_hex(b"new-secret-value\n"))
            )),
            "{text}"
        );
        assert!(text.contains("contents: (sensitive) sha256 eeeeeeee -> ffffffff"));
    }
}

#[test]
fn both_views_print_every_action_kind_at_its_description_s_address() {
    use crate::plan::describe::tests::{SECRET_TEXT, every_action};
    use crate::plan::describe::{Context, describe};
    let plan = every_action();
    let described = describe(&plan, &Context::default());
    let text = render(&plan, &ViewNotes::default());
    let json = crate::output::plan_json::to_json(&plan, &Default::default());
    let entries = json["resource_changes"].as_array().unwrap();
    assert_eq!(entries.len(), described.changes.len());
    for (description, entry) in described.changes.iter().zip(entries) {
        let header = format!(
            "\n  {} {}",
            description.change.symbol(),
            description.address
        );
        assert!(text.contains(&header), "{header:?} not in\n{text}");
        assert_eq!(entry["address"], description.address.as_str());
        assert_eq!(
            entry["action_reason"],
            serde_json::json!(description.reason)
        );
        assert_eq!(
            entry["change"]["after_sensitive"],
            description.after_sensitive()
        );
    }
    for drift in &described.drift {
        assert!(text.contains(&format!("  {}: ", drift.location())));
    }
    assert!(!text.contains(SECRET_TEXT), "{text}");
    assert!(!json.to_string().contains(SECRET_TEXT));
}
