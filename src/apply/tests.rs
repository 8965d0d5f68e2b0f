use super::*;
use crate::plan::plan;
use crate::render::secrets::SecretFile;
use crate::render::secrets::SecretSource;
use crate::render::units::ServiceUnit;
use crate::render::units::{Health, LaunchdDomain, Manager};
use crate::render::{Owner, ServiceId};
use crate::state::journal::Backup;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

/// Services that record what they were asked and fail health checks of
/// the services named in `unhealthy`.
#[derive(Default)]
struct Fake {
    calls: Vec<String>,
    unhealthy: Vec<ServiceId>,
    /// Headscale's policy.
    policy: Option<String>,
    /// Headscale refuses every policy with this message.
    refuse_policy: Option<String>,
}

impl ServiceManager for Fake {
    fn start(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.calls.push(format!("start {}", unit.id.name()));
        Ok(())
    }

    fn restart(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.calls.push(format!("restart {}", unit.id.name()));
        Ok(())
    }

    fn stop(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.calls.push(format!("stop {}", unit.id.name()));
        Ok(())
    }

    fn reload(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.calls.push(format!("reload {}", unit.id.name()));
        Ok(())
    }

    fn health(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.calls.push(format!("health {}", unit.id.name()));
        if self.unhealthy.contains(&unit.id) {
            Err("GET http://127.0.0.1:1/api/version: 500".into())
        } else {
            Ok(())
        }
    }
}

impl ModelStore for Fake {
    fn pull_model(
        &mut self,
        model: &str,
        _: &crate::render::ModelSource,
        _: &mut dyn Write,
    ) -> Result<String, String> {
        self.calls.push(format!("pull {model}"));
        Ok("sha256:00".into())
    }

    fn remove_model(&mut self, model: &str) -> Result<(), String> {
        self.calls.push(format!("remove {model}"));
        Ok(())
    }

    fn local_model(&mut self, _: &str) -> Result<Option<String>, String> {
        Ok(None)
    }

    fn check_models(&mut self, models: &[String]) -> Result<String, String> {
        self.calls.push(format!("check {}", models.join(" ")));
        Ok("answers".into())
    }
}

impl ControlPlane for Fake {
    fn delete_user(&mut self, id: u64) -> Result<(), String> {
        self.calls.push(format!("delete user {id}"));
        Ok(())
    }

    fn get_policy(&mut self) -> Result<Option<String>, String> {
        Ok(self.policy.clone())
    }

    fn check_policy(&mut self, policy: &str) -> Result<(), String> {
        self.calls.push(format!("check policy {}", policy.trim()));
        match &self.refuse_policy {
            Some(message) => Err(message.clone()),
            None => Ok(()),
        }
    }

    fn set_policy(&mut self, policy: &str) -> Result<(), String> {
        self.calls.push(format!("set policy {}", policy.trim()));
        if let Some(message) = &self.refuse_policy {
            return Err(message.clone());
        }
        self.policy = Some(policy.to_owned());
        Ok(())
    }

    fn create_user(&mut self, user: &crate::plan::headscale::NewUser) -> Result<(), String> {
        self.calls.push(format!("user {}", user.name));
        Ok(())
    }

    fn create_key(
        &mut self,
        user: &str,
        _: &[String],
        _: bool,
        _: bool,
        _: u32,
    ) -> Result<(u64, crate::secret::Secret), String> {
        self.calls.push(format!("key {user}"));
        Ok((1, crate::secret::Secret::new("key")))
    }

    fn expire_key(&mut self, id: u64) -> Result<(), String> {
        self.calls.push(format!("expire {id}"));
        Ok(())
    }

    fn set_node_tags(&mut self, node: u64, _: &[String]) -> Result<(), String> {
        self.calls.push(format!("tags {node}"));
        Ok(())
    }
}

fn artifact(path: &str, text: &str, service: ServiceId) -> Artifact {
    Artifact {
        host: "mac".into(),
        path: path.into(),
        contents: text.as_bytes().to_vec(),
        mode: 0o644,
        owner: Owner::Root,
        secret: false,
        restarts: vec![service],
        reloads: Vec::new(),
    }
}

fn unit(id: ServiceId) -> ServiceUnit {
    ServiceUnit {
        host: "mac".into(),
        id,
        manager: Manager::Launchd {
            domain: LaunchdDomain::Gui,
            label: format!("net.privai.{}", id.name()),
            plist: format!("~/Library/LaunchAgents/net.privai.{}.plist", id.name()),
        },
        health: Some(Health::Http {
            url: "http://127.0.0.1:1/".into(),
        }),
        health_timeout_secs: 1,
        definition: None,
    }
}

fn system(ollama: &str) -> Rendered {
    Rendered {
        artifacts: vec![
            artifact("/etc/headscale.yaml", "headscale\n", ServiceId::Headscale),
            artifact("~/ollama.plist", ollama, ServiceId::Ollama),
        ],
        models: Vec::new(),
        services: vec![unit(ServiceId::Headscale), unit(ServiceId::Ollama)],
        secrets: Vec::new(),
        gateway_models: Vec::new(),
        control: None,
        matrix: None,
    }
}

fn origin() -> Origin {
    Origin::Rollback { to: 0 }
}

/// Plans `desired` against what is under `root` and applies it.
fn run(root: &Path, desired: &Rendered, services: &mut Fake, adopt: bool) -> Outcome {
    let install = Install::Staged {
        root: root.to_owned(),
    };
    let observed = crate::observe::observe(&install, desired).unwrap();
    let plan = plan(desired, &observed);
    let options = Options {
        adopt,
        ..Options::default()
    };
    apply(
        &install,
        desired,
        &plan,
        origin(),
        Some(services),
        &options,
        &mut crate::output::events::Printer::new(Vec::new(), crate::output::events::Format::Human),
    )
    .unwrap()
}

fn read(root: &Path, tree: &str) -> Option<String> {
    std::fs::read_to_string(root.join(tree)).ok()
}

#[test]
fn applying_writes_the_files_starts_the_services_and_commits_generation_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut fake = Fake::default();
    let outcome = run(dir.path(), &system("v1\n"), &mut fake, false);
    assert_eq!(
        outcome,
        Outcome::Applied {
            generation: 1,
            staged_services: 0
        }
    );
    assert_eq!(
        read(dir.path(), "mac/HOME/ollama.plist").as_deref(),
        Some("v1\n")
    );
    assert_eq!(
        fake.calls,
        [
            "start headscale",
            "health headscale",
            "start ollama",
            "health ollama"
        ]
    );
    let store = Store::new(StateDir::new(dir.path().join(".privai")));
    assert_eq!(store.current().unwrap(), Some(1));
    assert_eq!(store.rendered(1).unwrap(), system("v1\n"));
    assert!(!dir.path().join(".privai/journal.ndjson").exists());
    assert!(!dir.path().join(".privai/run").exists());
}

#[test]
fn a_failed_health_check_puts_every_file_back_and_the_old_service_up_again() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &system("v1\n"), &mut Fake::default(), false);
    let mut fake = Fake {
        unhealthy: vec![ServiceId::Ollama],
        ..Fake::default()
    };
    let outcome = run(dir.path(), &system("v2\n"), &mut fake, false);
    let Outcome::RolledBack {
        failure,
        restored,
        kept,
        current,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(
        failure.starts_with("health check of mac:ollama: GET"),
        "{failure}"
    );
    assert_eq!(current, Some(1));
    assert_eq!(
        read(dir.path(), "mac/HOME/ollama.plist").as_deref(),
        Some("v1\n")
    );
    assert_eq!(
        fake.calls,
        [
            "restart ollama",
            "health ollama",
            "restart ollama",
            "health ollama"
        ]
    );
    assert!(restored[0].starts_with("restored "), "{restored:?}");
    assert_eq!(kept, Vec::<String>::new(), "the run pulled no model");
    let store = Store::new(StateDir::new(dir.path().join(".privai")));
    assert_eq!(store.current().unwrap(), Some(1));
    assert_eq!(store.numbers().unwrap(), vec![1]);
    assert!(!dir.path().join(".privai/journal.ndjson").exists());
}

#[test]
fn a_failed_first_apply_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut fake = Fake {
        unhealthy: vec![ServiceId::Ollama],
        ..Fake::default()
    };
    let outcome = run(dir.path(), &system("v1\n"), &mut fake, false);
    assert!(matches!(outcome, Outcome::RolledBack { current: None, .. }));
    assert_eq!(
        fake.calls,
        [
            "start headscale",
            "health headscale",
            "start ollama",
            "health ollama",
            "stop ollama",
            "stop headscale"
        ]
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, [".privai"], "created directories are removed too");
}

#[test]
fn a_file_privai_did_not_write_is_refused_without_adopt_and_kept_aside_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("mac/etc/headscale.yaml");
    std::fs::create_dir_all(theirs.parent().unwrap()).unwrap();
    std::fs::write(&theirs, "theirs\n").unwrap();
    let install = Install::Staged {
        root: dir.path().to_owned(),
    };
    let desired = system("v1\n");
    let observed = crate::observe::observe(&install, &desired).unwrap();
    let plan = plan(&desired, &observed);
    let err = apply(
        &install,
        &desired,
        &plan,
        origin(),
        None,
        &Options::default(),
        &mut crate::output::events::Printer::new(Vec::new(), crate::output::events::Format::Human),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--adopt"), "{err}");
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "theirs\n");

    run(dir.path(), &desired, &mut Fake::default(), true);
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "headscale\n");
    assert_eq!(
        read(dir.path(), "mac/etc/headscale.yaml.before-privai").as_deref(),
        Some("theirs\n")
    );
}

#[test]
fn recovery_undoes_a_run_that_died_between_its_steps() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &system("v1\n"), &mut Fake::default(), false);
    // What a run killed after writing its first file leaves behind.
    let install = Install::Staged {
        root: dir.path().to_owned(),
    };
    let state = StateDir::new(install.state_dir());
    let path = install.path("mac", "~/ollama.plist").unwrap();
    let copy = state.backups().join("0");
    atomic::write(&copy, b"v1\n", 0o600).unwrap();
    let mut journal = Journal::create(&state.journal()).unwrap();
    journal
        .append(&Record::Begin {
            command: "privai apply".into(),
            from: Some(1),
            to: 2,
            started: now(),
            pid: None,
        })
        .unwrap();
    journal
        .append(&Record::File {
            step: 0,
            action: "update file mac:~/ollama.plist".into(),
            path: path.clone(),
            backup: Some(Backup { copy, mode: 0o644 }),
            saved_as: None,
            created_dirs: Vec::new(),
        })
        .unwrap();
    atomic::write(&path, b"v2\n", 0o644).unwrap();
    // Then a model pulled, and a user whose creation was cut short.
    for record in [
        Record::Model {
            step: 1,
            action: "create model mac:llama3.2:3b".into(),
        },
        Record::Done { step: 1 },
        Record::Control {
            step: 2,
            action: "create headscale user mac:user1".into(),
        },
    ] {
        journal.append(&record).unwrap();
    }
    std::fs::create_dir_all(state.generations().join("2.partial")).unwrap();

    let recovery = recover(&install, None).unwrap().unwrap();
    assert_eq!(
        recovery.outcome,
        Recovered::RolledBack {
            current: Some(1),
            restored: vec![format!("restored {}", path.display())],
            kept: vec!["create model mac:llama3.2:3b".to_owned()],
        }
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "v1\n");
    assert!(!state.journal().exists() && !state.run().exists());
    assert_eq!(Store::new(state).next_number().unwrap(), 2);
    assert_eq!(recover(&install, None).unwrap(), None);
}

/// Every entry under `dir` (recursively), with each file's bytes.
fn tree_of(dir: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.push((path.clone(), None));
            found.extend(tree_of(&path));
        } else {
            found.push((path.clone(), Some(std::fs::read(&path).unwrap())));
        }
    }
    found.sort();
    found
}

#[test]
fn observing_refuses_to_read_a_file_outside_the_root() {
    let scene = tempfile::tempdir().unwrap();
    let root = scene.path().join("root");
    let mut desired = system("v1\n");
    desired.artifacts[0].path = "/../../sentinel".into();
    let install = Install::Staged { root };

    let refused = crate::observe::observe(&install, &desired).unwrap_err();

    assert!(
        refused
            .to_string()
            .contains("refusing the install path `/../../sentinel`"),
        "{refused}"
    );
}

#[test]
fn a_file_or_secret_path_outside_the_root_is_refused_and_nothing_outside_is_written() {
    // The check refuses such specs; this is the layer below it, for a
    // renderer bug or a tampered plan: the step fails and the run is undone.
    let scene = tempfile::tempdir().unwrap();
    let root = scene.path().join("root");
    std::fs::write(scene.path().join("sentinel"), b"not privai's\n").unwrap();
    let mut file = system("v1\n");
    // `ROOT/mac/../../sentinel` would be the sentinel.
    file.artifacts[1].path = "/../../sentinel".into();
    let mut secret = system("v1\n");
    secret.secrets.push(SecretFile {
        host: "mac".into(),
        path: "~/../../../sentinel".into(),
        name: "openclaw.gateway_token".into(),
        source: SecretSource::Generate,
        restarts: vec![ServiceId::Gateway],
        owner: None,
    });
    for desired in [file, secret] {
        let before = tree_of(scene.path());
        let install = Install::Staged { root: root.clone() };
        let plan = plan(&desired, &crate::observe::Observed::default());
        let outcome = apply(
            &install,
            &desired,
            &plan,
            origin(),
            Some(&mut Fake::default()),
            &Options::default(),
            &mut crate::output::events::Printer::new(
                Vec::new(),
                crate::output::events::Format::Human,
            ),
        )
        .unwrap();

        let Outcome::RolledBack { failure, .. } = &outcome else {
            panic!("applied: {outcome:?}");
        };
        assert!(failure.contains("refusing the install path"), "{failure}");
        assert_eq!(
            std::fs::read(scene.path().join("sentinel")).unwrap(),
            b"not privai's\n"
        );
        let outside: Vec<_> = tree_of(scene.path())
            .into_iter()
            .filter(|(p, _)| !p.starts_with(&root))
            .collect();
        let before_outside: Vec<_> = before
            .into_iter()
            .filter(|(p, _)| !p.starts_with(&root))
            .collect();
        assert_eq!(outside, before_outside);
    }
}

impl super::AccountDirectory for Fake {
    fn register(
        &mut self,
        accounts: &crate::render::homeserver::Accounts,
        user: &str,
        _: &crate::secret::Secret,
        admin: bool,
    ) -> Result<crate::api::synapse::Session, crate::api::synapse::Error> {
        self.calls.push(format!("register {user} admin={admin}"));
        Ok(crate::api::synapse::Session {
            user_id: accounts.user_id(user),
            access_token: crate::secret::Secret::new(format!("token-of-{user}")),
        })
    }

    fn login(
        &mut self,
        accounts: &crate::render::homeserver::Accounts,
        user: &str,
        _: &crate::secret::Secret,
    ) -> Result<crate::api::synapse::Session, crate::api::synapse::Error> {
        self.calls.push(format!("login {user}"));
        Ok(crate::api::synapse::Session {
            user_id: accounts.user_id(user),
            access_token: crate::secret::Secret::new(format!("token-of-{user}")),
        })
    }

    fn deactivate(
        &mut self,
        _: &crate::render::homeserver::Accounts,
        _: &crate::secret::Secret,
        user_id: &str,
    ) -> Result<(), crate::api::synapse::Error> {
        self.calls.push(format!("deactivate {user_id}"));
        Ok(())
    }
}
