//! [`System`]: the [`Services`] of a real machine — launchctl, systemctl or
//! compose through a [`Runner`], and the health probes of [`crate::sys::health`].

use super::{ControlPlane, ModelStore, ServiceManager};
use crate::api::ollama::PullProgress;
use crate::output::pull_view::{PullDisplay, PullView};
use crate::render::ModelSource;
use crate::render::units::ServiceUnit;
use crate::state::Install;
use crate::sys::Runner;
use crate::sys::activate::{self, Context};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Service manager commands through a runner, with health probes.
pub struct System {
    runner: Box<dyn Runner>,
    install: Install,
    uid: u32,
    health_timeout: Option<Duration>,
    ollama: Option<crate::api::ollama::Client>,
    headscale: Option<Result<crate::api::headscale::Client, String>>,
    pull_display: PullDisplay,
    check_containers: bool,
}

impl System {
    /// Runs commands through `runner` for `install`. `health_timeout`
    /// overrides each service's own. The operator's uid (the owner of
    /// `$HOME`) names launchd's `gui/<uid>` domain.
    pub fn new(
        runner: Box<dyn Runner>,
        install: Install,
        health_timeout: Option<Duration>,
        ollama_url: Option<String>,
    ) -> anyhow::Result<Self> {
        let ollama = match ollama_url {
            Some(url) => Some(crate::api::ollama::Client::new(&url)?),
            None => None,
        };
        Ok(Self {
            headscale: None,
            pull_display: PullDisplay::for_terminal(),
            check_containers: false,
            ollama,
            runner,
            uid: match install.operator() {
                Some((uid, _)) => uid,
                None => operator_uid()?,
            },
            install,
            health_timeout,
        })
    }

    fn run(&mut self, verb: activate::Verb, unit: &ServiceUnit) -> Result<(), String> {
        let install = self.install.clone();
        let host = unit.host.clone();
        // Service files are privai's own paths (`Layout::service_file`);
        // one refused here was refused, and not written, when files were.
        let resolve = move |path: &str| match install.path(&host, path) {
            Ok(resolved) => resolved.display().to_string(),
            Err(_) => path.to_owned(),
        };
        let cx = Context {
            uid: self.uid,
            resolve: &resolve,
        };
        let steps = activate::steps(verb, unit, &cx);
        activate::run_steps(self.runner.as_mut(), &steps).map_err(|e| format!("{e} ({})", e.hint()))
    }
}

/// Pulls `name` with a progress view on `out`.
fn pull_with_view(
    client: &crate::api::ollama::Client,
    name: &str,
    insecure: bool,
    display: PullDisplay,
    out: &mut dyn Write,
) -> Result<(), String> {
    let mut view = PullView::new(name, display);
    let pulled = client
        .pull_from(name, insecure, &mut |p: &PullProgress| view.on(p, out))
        .map_err(|e| e.to_string());
    view.finish();
    pulled.map(drop)
}

impl ServiceManager for System {
    fn start(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.run(activate::Verb::Start, unit)
    }

    fn restart(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.run(activate::Verb::Restart, unit)
    }

    fn stop(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.run(activate::Verb::Stop, unit)
    }

    fn reload(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.run(activate::Verb::Reload, unit)
    }

    fn health(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        let Some(health) = &unit.health else {
            return Ok(());
        };
        let timeout = self
            .health_timeout
            .unwrap_or(Duration::from_secs(unit.health_timeout_secs));
        crate::sys::health::probe(health, timeout)?;
        // Headscale's own verdict, through its API (TLS checked).
        if unit.id == crate::render::ServiceId::Headscale
            && let Some(Ok(client)) = &self.headscale
        {
            client
                .health()
                .map_err(|e| format!("it answers, but {e}"))?;
        }
        self.check_containers(unit)
    }
}

impl ModelStore for System {
    fn pull_model(
        &mut self,
        model: &str,
        source: &ModelSource,
        out: &mut dyn Write,
    ) -> Result<String, String> {
        let client = self.ollama()?;
        match (source, source.pull_name(model)) {
            (ModelSource::File { path }, _) => {
                let _ = writeln!(out, "    {model}: creating it from {path}");
                let digest = client
                    .create_from_file(model, Path::new(path))
                    .map_err(|e| e.to_string())?;
                let _ = writeln!(out, "    {model}: created from {digest}");
            }
            (ModelSource::Mirror { insecure, .. }, Some(mirrored)) => {
                pull_with_view(client, &mirrored, *insecure, self.pull_display, out)?;
                // Named as the spec and the gateway name it; the mirror's
                // name goes (the weights stay, shared by both names).
                client
                    .copy(&mirrored, model)
                    .and_then(|()| client.delete(&mirrored))
                    .map_err(|e| e.to_string())?;
            }
            _ => pull_with_view(client, model, false, self.pull_display, out)?,
        }
        client
            .manifest_digest(model)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("Ollama does not list {model} after pulling it"))
    }

    fn local_model(&mut self, model: &str) -> Result<Option<String>, String> {
        self.ollama()?
            .manifest_digest(model)
            .map_err(|e| e.to_string())
    }

    fn remove_model(&mut self, model: &str) -> Result<(), String> {
        self.ollama()?.delete(model).map_err(|e| e.to_string())
    }

    fn check_models(&mut self, models: &[String]) -> Result<String, String> {
        let client = self.ollama()?;
        let timeout = self.health_timeout.unwrap_or(Duration::from_secs(120));
        let answers: Vec<(&str, Result<(), String>)> = models
            .iter()
            .map(|model| {
                let answer = client
                    .generate_one_token(model, timeout)
                    .map_err(|e| e.to_string());
                (model.as_str(), answer)
            })
            .collect();
        models_report(&answers)
    }
}

impl ControlPlane for System {
    fn create_user(&mut self, user: &crate::plan::headscale::NewUser) -> Result<(), String> {
        let client = self.headscale()?;
        let users = client.list_users().map_err(|e| e.to_string())?;
        if users.iter().any(|u| u.name == user.name) {
            return Ok(());
        }
        client
            .create_user(user)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn create_key(
        &mut self,
        user: &str,
        tags: &[String],
        ephemeral: bool,
        reusable: bool,
        days: u32,
    ) -> Result<(u64, crate::secret::Secret), String> {
        let client = self.headscale()?;
        let users = client.list_users().map_err(|e| e.to_string())?;
        let id = users
            .iter()
            .find(|u| u.name == user)
            .map(|u| u.id)
            .ok_or_else(|| format!("Headscale has no user {user}"))?;
        let key = crate::api::headscale::NewPreAuthKey {
            user: Some(id),
            reusable,
            ephemeral,
            expiration: std::time::SystemTime::now()
                + Duration::from_secs(u64::from(days) * 86_400),
            acl_tags: tags.to_vec(),
        };
        let created = once_tags_known(|| client.create_preauth_key(&key))?;
        Ok((created.id, created.key))
    }

    fn expire_key(&mut self, id: u64) -> Result<(), String> {
        self.headscale()?
            .expire_preauth_key(id)
            .map_err(|e| e.to_string())
    }

    fn set_node_tags(&mut self, node: u64, tags: &[String]) -> Result<(), String> {
        let client = self.headscale()?;
        once_tags_known(|| client.set_node_tags(node, tags)).map(drop)
    }

    fn delete_user(&mut self, id: u64) -> Result<(), String> {
        self.headscale()?.delete_user(id).map_err(|e| e.to_string())
    }

    fn get_policy(&mut self) -> Result<Option<String>, String> {
        let policy = self.headscale()?.get_policy().map_err(|e| e.to_string())?;
        Ok(Some(policy.policy).filter(|text| !text.trim().is_empty()))
    }

    fn check_policy(&mut self, policy: &str) -> Result<(), String> {
        self.headscale()?
            .check_policy(policy)
            .map_err(|e| e.to_string())
    }

    fn set_policy(&mut self, policy: &str) -> Result<(), String> {
        self.headscale()?
            .set_policy(policy)
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

impl super::AccountDirectory for System {
    fn register(
        &mut self,
        accounts: &crate::render::homeserver::Accounts,
        user: &str,
        password: &crate::secret::Secret,
        admin: bool,
    ) -> Result<crate::api::synapse::Session, crate::api::synapse::Error> {
        use crate::api::synapse::{Client, Error};
        let client = Client::new(&accounts.local_url)?;
        // The secret Synapse reads, as privai wrote it.
        let unreadable = |reason: String| Error::Unreadable {
            what: format!(
                "the registration shared secret `{}`",
                accounts.registration_secret
            ),
            reason,
        };
        let path = self
            .install
            .path(&accounts.host, &accounts.registration_secret)
            .map_err(|e| unreadable(e.to_string()))?;
        let secret = std::fs::read_to_string(&path).map_err(|e| unreadable(e.to_string()))?;
        client.register(&crate::secret::Secret::new(secret), user, password, admin)
    }

    fn login(
        &mut self,
        accounts: &crate::render::homeserver::Accounts,
        user: &str,
        password: &crate::secret::Secret,
    ) -> Result<crate::api::synapse::Session, crate::api::synapse::Error> {
        crate::api::synapse::Client::new(&accounts.local_url)?.login(user, password)
    }

    fn deactivate(
        &mut self,
        accounts: &crate::render::homeserver::Accounts,
        admin: &crate::secret::Secret,
        user_id: &str,
    ) -> Result<(), crate::api::synapse::Error> {
        crate::api::synapse::Client::new(&accounts.local_url)?.deactivate(admin, user_id)
    }
}

impl System {
    /// After a compose project answers its health check, also checks its
    /// containers with the runtime (`ps`, `inspect`): one running container
    /// per declared service, each created from the new definition, none
    /// reported unhealthy by its own health check.
    pub fn with_container_checks(mut self, check: bool) -> Self {
        self.check_containers = check;
        self
    }

    /// The container check of [`Self::with_container_checks`].
    fn check_containers(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        use crate::render::units::Manager;
        let (
            Manager::Compose {
                runtime, project, ..
            },
            Some(definition),
            true,
        ) = (&unit.manager, &unit.definition, self.check_containers)
        else {
            return Ok(());
        };
        let containers = crate::sys::container::observe(self.runner.as_mut(), runtime, project)
            .map_err(|e| format!("reading its containers: {e}"))?;
        let services: Vec<&str> = definition.services.iter().map(String::as_str).collect();
        let mut wrong: Vec<String> =
            crate::plan::containers::label_drift(&services, &definition.sha256, &containers)
                .iter()
                .map(ToString::to_string)
                .collect();
        wrong.extend(
            containers
                .iter()
                .filter(|c| c.health.as_deref() == Some("unhealthy"))
                .map(|c| format!("container {} reports itself unhealthy", c.name)),
        );
        match wrong.is_empty() {
            true => Ok(()),
            false => Err(format!(
                "it answers, but its containers are not right: {}",
                wrong.join("; ")
            )),
        }
    }

    /// Lets it manage Headscale's users and keys as `control` says.
    pub fn with_control(mut self, control: Option<&crate::render::control::Control>) -> Self {
        self.headscale = control.map(|c| crate::observe::live::headscale_client(c, &self.install));
        self
    }

    fn headscale(&self) -> Result<&crate::api::headscale::Client, String> {
        match &self.headscale {
            Some(Ok(client)) => Ok(client),
            Some(Err(e)) => Err(e.clone()),
            None => Err("this host runs no Headscale".to_owned()),
        }
    }

    fn ollama(&self) -> Result<&crate::api::ollama::Client, String> {
        self.ollama
            .as_ref()
            .ok_or_else(|| "this host runs no Ollama".to_owned())
    }
}

/// The uid of the operator: the owner of `$HOME`.
fn operator_uid() -> anyhow::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    let home = std::env::var_os("HOME")
        .ok_or_else(|| anyhow::anyhow!("$HOME is not set; privai needs the operator's home"))?;
    Ok(std::fs::metadata(&home)
        .map_err(|e| anyhow::anyhow!("reading `{}`: {e}", home.to_string_lossy()))?
        .uid())
}

/// What the one-token check of the gateway's models (primary first, then
/// its fallbacks, in order) says: which model the gateway will use, and
/// which do not answer. `Err` when none does.
fn models_report(answers: &[(&str, Result<(), String>)]) -> Result<String, String> {
    let failed = |(model, answer): &&(&str, Result<(), String>)| {
        answer.as_ref().err().map(|e| format!("{model}: {e}"))
    };
    let Some(((primary, first), fallbacks)) = answers.split_first() else {
        return Ok(String::new());
    };
    let answering: Vec<&str> = fallbacks
        .iter()
        .filter(|(_, a)| a.is_ok())
        .map(|(m, _)| *m)
        .collect();
    let failing: Vec<String> = fallbacks.iter().filter_map(|a| failed(&a)).collect();
    if first.is_ok() {
        let mut report = format!("the gateway's primary model {primary} answers");
        match answering.as_slice() {
            [] => {}
            [one] => report.push_str(&format!(", and so does its fallback {one}")),
            many => report.push_str(&format!(", and so do its fallbacks {}", many.join(", "))),
        }
        if !failing.is_empty() {
            report.push_str(&format!(
                "; not answering, so of no use as a fallback: {}",
                failing.join("; ")
            ));
        }
        return Ok(report);
    }
    let primary_failure = failed(&&answers[0]).unwrap_or_default();
    match answering.first() {
        Some(used) => {
            let mut report = format!(
                "the primary model {primary} does not answer ({primary_failure}); the gateway will use its fallback {used}"
            );
            if !failing.is_empty() {
                report.push_str(&format!("; not answering either: {}", failing.join("; ")));
            }
            Ok(report)
        }
        None => Err(format!(
            "no model of the gateway answers: {}",
            answers
                .iter()
                .filter_map(|a| failed(&a))
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

/// How long a tag Headscale does not know yet is waited for.
const TAG_WAIT: Duration = Duration::from_secs(15);

/// Runs `call` until Headscale stops refusing its tags as unknown, up to
/// [`TAG_WAIT`]: Headscale accepts a tag only once its live policy has the
/// tag in `tagOwners`, and a SIGHUP reloads the policy file asynchronously.
fn once_tags_known<T>(
    mut call: impl FnMut() -> Result<T, crate::api::headscale::Error>,
) -> Result<T, String> {
    let deadline = std::time::Instant::now() + TAG_WAIT;
    loop {
        match call() {
            Err(e)
                if e.to_string().contains("invalid or not permitted")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other.map_err(|e| e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::units::{Definition, Health};
    use crate::sys::{Recorder, RunOutput};
    use std::io::Read;

    /// A health endpoint on 127.0.0.1 that answers 200 to everything.
    fn healthy_endpoint() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let _ = stream.read(&mut [0u8; 1024]);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            }
        });
        port
    }

    /// The gateway (as the plan view's tests have it), healthy at `port`,
    /// declaring one service of definition `new`.
    fn gateway(port: u16) -> ServiceUnit {
        ServiceUnit {
            health: Some(Health::Http {
                url: format!("http://127.0.0.1:{port}/healthz"),
            }),
            health_timeout_secs: 2,
            definition: Some(Definition {
                services: vec!["openclaw-gateway".into()],
                sha256: "new".into(),
            }),
            ..crate::output::plan_view::tests::gateway()
        }
    }

    /// `podman ps` and `inspect` answering one container of service
    /// `openclaw-gateway` labelled with definition `label`.
    fn runtime(label: &str, health: &str) -> Recorder {
        let out = |stdout: String| RunOutput {
            status: 0,
            stdout,
            stderr: String::new(),
        };
        let inspect = serde_json::json!([{
            "Id": "c0ffee",
            "Name": "privai-gateway_openclaw-gateway_1",
            "State": {"Status": "running", "Running": true, "Health": {"Status": health}},
            "Config": {"Image": "gateway:ok", "Labels": {
                "com.docker.compose.project": "privai-gateway",
                "com.docker.compose.service": "openclaw-gateway",
                "net.privai.compose-sha256": label,
            }},
        }]);
        Recorder::new()
            .respond_when(vec!["podman".into(), "ps".into()], out("c0ffee\n".into()))
            .respond_when(
                vec!["podman".into(), "container".into()],
                out(inspect.to_string()),
            )
    }

    fn system(runner: Recorder) -> System {
        let root = std::env::temp_dir();
        System::new(Box::new(runner), Install::Staged { root }, None, None)
            .unwrap()
            .with_container_checks(true)
    }

    #[test]
    fn a_gateway_that_answers_from_its_new_containers_is_healthy() {
        let unit = gateway(healthy_endpoint());
        assert_eq!(system(runtime("new", "healthy")).health(&unit), Ok(()));
    }

    #[test]
    fn a_gateway_that_answers_from_a_container_of_another_definition_is_not_healthy() {
        let unit = gateway(healthy_endpoint());
        let error = system(runtime("old", "healthy")).health(&unit).unwrap_err();
        assert!(
            error.starts_with("it answers, but its containers are not right: ")
                && error.contains("net.privai.compose-sha256 is old, the compose file says new"),
            "{error}"
        );
    }

    #[test]
    fn a_container_that_reports_itself_unhealthy_fails_the_check() {
        let unit = gateway(healthy_endpoint());
        let error = system(runtime("new", "unhealthy"))
            .health(&unit)
            .unwrap_err();
        assert!(
            error.contains("container privai-gateway_openclaw-gateway_1 reports itself unhealthy"),
            "{error}"
        );
    }

    fn ok(model: &str) -> (&str, Result<(), String>) {
        (model, Ok(()))
    }

    fn down(model: &str) -> (&str, Result<(), String>) {
        (model, Err("HTTP 500: out of memory".to_owned()))
    }

    #[test]
    fn the_report_names_the_model_the_gateway_will_use_and_those_that_do_not_answer() {
        assert_eq!(
            models_report(&[ok("a:1b")]),
            Ok("the gateway's primary model a:1b answers".to_owned())
        );
        assert_eq!(
            models_report(&[ok("a:1b"), ok("b:1b")]),
            Ok(
                "the gateway's primary model a:1b answers, and so does its fallback b:1b"
                    .to_owned()
            )
        );
        assert_eq!(
            models_report(&[ok("a:1b"), ok("b:1b"), down("c:1b")]),
            Ok("the gateway's primary model a:1b answers, and so does its fallback b:1b; not answering, so of no use as a fallback: c:1b: HTTP 500: out of memory".to_owned())
        );
        assert_eq!(
            models_report(&[ok("a:1b"), ok("b:1b"), ok("c:1b")]),
            Ok(
                "the gateway's primary model a:1b answers, and so do its fallbacks b:1b, c:1b"
                    .to_owned()
            )
        );
        assert_eq!(
            models_report(&[down("a:1b"), down("b:1b"), ok("c:1b")]),
            Ok("the primary model a:1b does not answer (a:1b: HTTP 500: out of memory); the gateway will use its fallback c:1b; not answering either: b:1b: HTTP 500: out of memory".to_owned())
        );
        assert_eq!(
            models_report(&[down("a:1b"), down("b:1b")]),
            Err("no model of the gateway answers: a:1b: HTTP 500: out of memory; b:1b: HTTP 500: out of memory".to_owned())
        );
    }

    fn refusal(message: &str) -> crate::api::headscale::Error {
        crate::api::headscale::Error::Api {
            method: "POST".into(),
            path: "/api/v1/preauthkey".into(),
            url: "https://hs".into(),
            status: 400,
            code: Some(3),
            message: message.into(),
        }
    }

    #[test]
    fn a_tag_headscale_does_not_know_yet_is_retried_until_its_reloaded_policy_has_it() {
        let mut calls = 0;
        let result = once_tags_known(|| {
            calls += 1;
            if calls < 3 {
                Err(refusal(
                    "requested tags [tag:x] are invalid or not permitted",
                ))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(result, Ok(3));
    }

    #[test]
    fn any_other_refusal_is_returned_at_once() {
        let mut calls = 0;
        let result: Result<(), String> = once_tags_known(|| {
            calls += 1;
            Err(refusal("tag should be lowercase"))
        });
        assert!(result.unwrap_err().contains("tag should be lowercase"));
        assert_eq!(calls, 1);
    }
}
