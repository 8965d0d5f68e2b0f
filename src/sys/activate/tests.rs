use super::*;
use crate::render::ServiceId;
use crate::render::units::{Health, LaunchdDomain};
use crate::sys::Recorder;

fn resolve(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) => format!("/Users/x/{rest}"),
        None => path.to_owned(),
    }
}

fn cx() -> Context<'static> {
    Context {
        uid: 501,
        resolve: &resolve,
    }
}

fn unit(manager: Manager) -> ServiceUnit {
    ServiceUnit {
        host: "mac".into(),
        id: ServiceId::Ollama,
        manager,
        health: Some(Health::Http {
            url: "http://127.0.0.1:11434/api/version".into(),
        }),
        health_timeout_secs: 60,
        definition: None,
    }
}

fn agent() -> ServiceUnit {
    unit(Manager::Launchd {
        domain: LaunchdDomain::Gui,
        label: "net.privai.ollama".into(),
        plist: "~/Library/LaunchAgents/net.privai.ollama.plist".into(),
    })
}

fn daemon() -> ServiceUnit {
    unit(Manager::Launchd {
        domain: LaunchdDomain::System,
        label: "net.privai.headscale".into(),
        plist: "/Library/LaunchDaemons/net.privai.headscale.plist".into(),
    })
}

fn systemd(name: &str) -> ServiceUnit {
    unit(Manager::Systemd { unit: name.into() })
}

fn gateway() -> ServiceUnit {
    unit(Manager::Compose {
        runtime: "podman".into(),
        project: "privai-gateway".into(),
        file: "~/.config/privai/openclaw/compose.yaml".into(),
    })
}

/// The steps as command lines, a tolerated step marked `?`, a retried
/// one `↻`.
fn lines(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .map(|step| match step.on_failure {
            OnFailure::Fail => step.to_string(),
            OnFailure::TolerateNotLoaded => format!("{step} ?"),
            OnFailure::Retry { .. } => format!("{step} ↻"),
        })
        .collect()
}

#[test]
fn agents_are_booted_out_enabled_then_bootstrapped_into_the_gui_domain() {
    assert_eq!(
        lines(&start(&agent(), &cx())),
        [
            "launchctl bootout gui/501/net.privai.ollama ?",
            "launchctl enable gui/501/net.privai.ollama",
            "launchctl bootstrap gui/501 /Users/x/Library/LaunchAgents/net.privai.ollama.plist ↻",
        ]
    );
}

#[test]
fn daemons_are_bootstrapped_into_the_system_domain() {
    assert_eq!(
        lines(&start(&daemon(), &cx())),
        [
            "launchctl bootout system/net.privai.headscale ?",
            "launchctl enable system/net.privai.headscale",
            "launchctl bootstrap system /Library/LaunchDaemons/net.privai.headscale.plist ↻",
        ]
    );
}

#[test]
fn the_bootstrap_retries_launchds_error_5_while_the_old_job_exits() {
    let steps = start(&agent(), &cx());
    assert_eq!(
        steps[2].on_failure,
        OnFailure::Retry {
            status: 5,
            every: Duration::from_millis(500),
            within: Duration::from_secs(25),
        }
    );
}

#[test]
fn a_launchd_restart_is_a_fresh_bootstrap_so_the_changed_plist_is_read() {
    assert_eq!(restart(&agent(), &cx()), start(&agent(), &cx()));
    assert_eq!(restart(&daemon(), &cx()), start(&daemon(), &cx()));
    assert!(
        !lines(&restart(&agent(), &cx()))
            .iter()
            .any(|line| line.contains("kickstart"))
    );
}

#[test]
fn stopping_a_launchd_job_only_boots_it_out_and_tolerates_it_being_gone() {
    assert_eq!(
        lines(&stop(&agent(), &cx())),
        ["launchctl bootout gui/501/net.privai.ollama ?"]
    );
    assert_eq!(
        lines(&stop(&daemon(), &cx())),
        ["launchctl bootout system/net.privai.headscale ?"]
    );
}

#[test]
fn systemd_start_reloads_enables_then_starts_the_unit() {
    assert_eq!(
        lines(&start(&systemd("privai-ollama.service"), &cx())),
        [
            "systemctl daemon-reload",
            "systemctl enable privai-ollama.service",
            "systemctl start privai-ollama.service",
        ]
    );
}

#[test]
fn a_periodic_job_is_started_through_its_timer() {
    assert_eq!(
        lines(&start(&systemd("privai-rotate-keys.timer"), &cx())),
        [
            "systemctl daemon-reload",
            "systemctl enable privai-rotate-keys.timer",
            "systemctl start privai-rotate-keys.timer",
        ]
    );
}

#[test]
fn systemd_restart_reloads_then_restarts_the_unit() {
    assert_eq!(
        lines(&restart(&systemd("privai-headscale.service"), &cx())),
        [
            "systemctl daemon-reload",
            "systemctl restart privai-headscale.service",
        ]
    );
}

#[test]
fn a_reload_sends_sighup_through_the_service_manager() {
    assert_eq!(
        lines(&reload(&daemon(), &cx())),
        ["launchctl kill SIGHUP system/net.privai.headscale"]
    );
    assert_eq!(
        lines(&reload(&agent(), &cx())),
        ["launchctl kill SIGHUP gui/501/net.privai.ollama"]
    );
    assert_eq!(
        lines(&reload(&systemd("privai-headscale.service"), &cx())),
        ["systemctl reload privai-headscale.service"]
    );
}

#[test]
fn a_compose_project_cannot_reload_so_it_is_recreated() {
    assert_eq!(reload(&gateway(), &cx()), restart(&gateway(), &cx()));
}

#[test]
fn systemd_stop_stops_then_disables_tolerating_a_missing_unit() {
    assert_eq!(
        lines(&stop(&systemd("privai-headscale.service"), &cx())),
        [
            "systemctl stop privai-headscale.service ?",
            "systemctl disable privai-headscale.service ?",
        ]
    );
}

#[test]
fn the_gateway_is_recreated_on_start_and_restart_and_brought_down_on_stop() {
    let up = "podman compose -p privai-gateway -f /Users/x/.config/privai/openclaw/compose.yaml \
              up -d --force-recreate --remove-orphans";
    assert_eq!(lines(&start(&gateway(), &cx())), [up]);
    assert_eq!(lines(&restart(&gateway(), &cx())), [up]);
    assert_eq!(
        lines(&stop(&gateway(), &cx())),
        [
            "podman compose -p privai-gateway -f /Users/x/.config/privai/openclaw/compose.yaml \
          down --remove-orphans"
        ]
    );
}

#[test]
fn steps_dispatches_on_the_verb() {
    let unit = systemd("privai-ollama.service");
    assert_eq!(steps(Verb::Start, &unit, &cx()), start(&unit, &cx()));
    assert_eq!(steps(Verb::Restart, &unit, &cx()), restart(&unit, &cx()));
    assert_eq!(steps(Verb::Stop, &unit, &cx()), stop(&unit, &cx()));
    assert_eq!(steps(Verb::Reload, &unit, &cx()), reload(&unit, &cx()));
}

#[test]
fn every_step_runs_in_order() {
    let mut recorder = Recorder::new();
    run_steps(&mut recorder, &start(&agent(), &cx())).unwrap();
    assert_eq!(
        recorder.command_lines(),
        [
            "launchctl bootout gui/501/net.privai.ollama",
            "launchctl enable gui/501/net.privai.ollama",
            "launchctl bootstrap gui/501 /Users/x/Library/LaunchAgents/net.privai.ollama.plist",
        ]
    );
}

#[test]
fn a_bootout_of_a_job_that_is_not_loaded_does_not_stop_the_start() {
    for (status, stderr) in [
        (3, "Boot-out failed: 3: No such process"),
        (113, "Could not find specified service"),
    ] {
        let mut recorder = Recorder::new().fail_when(
            launchctl::bootout(
                Target {
                    domain: LaunchdDomain::Gui,
                    uid: 501,
                },
                "net.privai.ollama",
            ),
            status,
            stderr,
        );
        run_steps(&mut recorder, &start(&agent(), &cx())).unwrap();
        assert_eq!(recorder.calls().len(), 3);
    }
}

#[test]
fn stopping_a_systemd_unit_that_is_not_there_succeeds() {
    let mut recorder = Recorder::new()
        .fail_when(
            systemctl::stop("privai-x.service"),
            5,
            "Failed to stop privai-x.service: Unit privai-x.service not loaded.",
        )
        .fail_when(
            systemctl::disable("privai-x.service"),
            1,
            "Failed to disable unit: Unit file privai-x.service does not exist.",
        );
    run_steps(&mut recorder, &stop(&systemd("privai-x.service"), &cx())).unwrap();
    assert_eq!(recorder.calls().len(), 2);
}

#[test]
fn a_failed_bootout_that_is_not_not_loaded_stops_the_start_with_a_sudo_hint() {
    let mut recorder = Recorder::new().fail_when(
        crate::sys::argv(["launchctl", "bootout"]),
        1,
        "Boot-out failed: 1: Operation not permitted\n",
    );
    let err = run_steps(&mut recorder, &start(&daemon(), &cx())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`launchctl bootout system/net.privai.headscale` failed with exit status 1: \
         Boot-out failed: 1: Operation not permitted"
    );
    assert_eq!(
        err.command(),
        "launchctl bootout system/net.privai.headscale"
    );
    assert!(
        err.hint().contains("run `sudo privai apply`"),
        "{}",
        err.hint()
    );
    assert_eq!(recorder.calls().len(), 1, "nothing runs after the failure");
}

#[test]
fn a_failing_step_is_reported_with_its_command_status_output_and_hint() {
    let mut recorder = Recorder::new().fail_when(
        systemctl::start("privai-ollama.service"),
        1,
        "Job for privai-ollama.service failed because the control process exited.\n",
    );
    let err = run_steps(
        &mut recorder,
        &start(&systemd("privai-ollama.service"), &cx()),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`systemctl start privai-ollama.service` failed with exit status 1: \
         Job for privai-ollama.service failed because the control process exited."
    );
    assert_eq!(
        err.hint(),
        "see `systemctl status privai-ollama.service` and \
         `journalctl -u privai-ollama.service -n 50`"
    );
}

#[test]
fn a_failure_without_output_says_so() {
    let mut recorder = Recorder::new().fail_when(crate::sys::argv(["podman"]), 125, "");
    let err = run_steps(&mut recorder, &start(&gateway(), &cx())).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("failed with exit status 125: (no output)"),
        "{err}"
    );
}

fn quick_retry(mut steps: Vec<Step>, within: Duration) -> Vec<Step> {
    for step in &mut steps {
        if let OnFailure::Retry {
            every, within: w, ..
        } = &mut step.on_failure
        {
            *every = Duration::from_millis(1);
            *w = within;
        }
    }
    steps
}

#[test]
fn a_bootstrap_io_error_is_retried_until_the_old_job_has_gone() {
    let bootstrap = crate::sys::argv(["launchctl", "bootstrap"]);
    let mut recorder =
        Recorder::new().fail_times(bootstrap, 2, 5, "Bootstrap failed: 5: Input/output error");
    let steps = quick_retry(start(&agent(), &cx()), Duration::from_secs(10));
    run_steps(&mut recorder, &steps).unwrap();
    assert_eq!(
        recorder.command_lines()[2..],
        [
            "launchctl bootstrap gui/501 /Users/x/Library/LaunchAgents/net.privai.ollama.plist",
            "launchctl bootstrap gui/501 /Users/x/Library/LaunchAgents/net.privai.ollama.plist",
            "launchctl bootstrap gui/501 /Users/x/Library/LaunchAgents/net.privai.ollama.plist",
        ]
    );
}

#[test]
fn a_bootstrap_io_error_that_persists_fails_with_the_attempts_and_a_hint() {
    let bootstrap = crate::sys::argv(["launchctl", "bootstrap"]);
    let mut recorder =
        Recorder::new().fail_when(bootstrap, 5, "Bootstrap failed: 5: Input/output error");
    let steps = quick_retry(start(&agent(), &cx()), Duration::from_millis(30));
    let err = run_steps(&mut recorder, &steps).unwrap_err();
    let ActivationError::Failed { attempts, .. } = &err else {
        panic!("{err:?}")
    };
    let attempts = *attempts;
    assert!(attempts > 1);
    assert_eq!(
        err.to_string(),
        format!(
            "`launchctl bootstrap gui/501 /Users/x/Library/LaunchAgents/net.privai.ollama.plist` \
             failed with exit status 5 after {attempts} attempts: \
             Bootstrap failed: 5: Input/output error"
        )
    );
    assert!(
        err.hint()
            .contains("`launchctl enable gui/501/net.privai.ollama`")
    );
}

#[test]
fn other_bootstrap_errors_are_not_retried() {
    let bootstrap = crate::sys::argv(["launchctl", "bootstrap"]);
    let mut recorder = Recorder::new().fail_when(
        bootstrap,
        125,
        "Bootstrap failed: 125: Domain does not support specified action",
    );
    let err = run_steps(&mut recorder, &start(&agent(), &cx())).unwrap_err();
    assert_eq!(recorder.calls().len(), 3);
    assert!(
        err.hint().contains("logged in to the Mac's desktop"),
        "{}",
        err.hint()
    );
}

/// A runner whose programs are all missing.
struct Missing;

impl Runner for Missing {
    fn run(&mut self, _: &[String]) -> io::Result<RunOutput> {
        Err(io::Error::from(io::ErrorKind::NotFound))
    }
}

#[test]
fn a_missing_program_is_reported_with_what_to_install() {
    let err = run_steps(&mut Missing, &start(&gateway(), &cx())).unwrap_err();
    assert!(matches!(err, ActivationError::Spawn { .. }));
    assert!(
        err.to_string()
            .starts_with("could not run `podman compose -p privai-gateway")
    );
    assert_eq!(
        err.hint(),
        "`podman` is not installed (or not on PATH): install it, or choose the other \
         container runtime in the spec"
    );
}

#[test]
fn no_steps_is_nothing_to_do() {
    let mut recorder = Recorder::new();
    run_steps(&mut recorder, &[]).unwrap();
    assert!(recorder.calls().is_empty());
}
