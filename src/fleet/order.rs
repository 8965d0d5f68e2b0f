//! The order hosts are applied in: a graph of which host needs which,
//! from the roles and the wiring between them, and a scheduler that hands
//! out the hosts whose needs are met, as many at once as allowed. Pure.

use crate::model::{Role, Spec};
use std::collections::{BTreeMap, BTreeSet};

/// Which host needs which, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// Every host of the spec, in spec order.
    pub hosts: Vec<String>,
    /// For each host, the hosts it needs applied first, each with why.
    pub needs: BTreeMap<String, BTreeMap<String, &'static str>>,
}

/// Two or more hosts that need each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle(pub Vec<String>);

impl std::fmt::Display for Cycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "hosts {} need each other (through Headscale, Ollama or the homeserver), so none can be applied first; move the gateway to the host that runs Ollama or the homeserver, or Headscale to a host of its own, or apply them one by one with `--host NAME`",
            self.0.join(" → ")
        )
    }
}

impl std::error::Error for Cycle {}

/// Why a host needs another.
pub const JOINS_THROUGH_HEADSCALE: &str = "joins the tailnet through Headscale";
/// The gateway uses the other host's Ollama.
pub const USES_OLLAMA: &str = "the gateway uses its Ollama";
/// The gateway signs in to the other host's homeserver.
pub const USES_HOMESERVER: &str = "the gateway signs in to its homeserver";

impl Graph {
    /// The graph of `spec`: every host needs the Headscale host (it joins
    /// the tailnet through it); the gateway's host needs Ollama's and the
    /// homeserver's. `Err` when hosts need each other.
    pub fn of(spec: &Spec) -> Result<Self, Cycle> {
        let hosts: Vec<String> = spec.hosts.iter().map(|h| h.name.clone()).collect();
        let mut needs: BTreeMap<String, BTreeMap<String, &'static str>> =
            hosts.iter().map(|h| (h.clone(), BTreeMap::new())).collect();
        let host_of = |role| {
            spec.deploys(role)
                .then(|| spec.service_host(role))
                .flatten()
                .map(|h| h.name.clone())
        };
        let mut add = |from: &str, to: &Option<String>, why: &'static str| {
            if let Some(to) = to
                && to != from
                && let Some(entry) = needs.get_mut(from)
            {
                entry.entry(to.clone()).or_insert(why);
            }
        };
        let headscale = host_of(Role::Headscale);
        for host in &hosts {
            add(host, &headscale, JOINS_THROUGH_HEADSCALE);
        }
        if let Some(gateway) = host_of(Role::Openclaw) {
            add(&gateway, &host_of(Role::Ollama), USES_OLLAMA);
            if spec
                .openclaw
                .channels
                .matrix
                .as_ref()
                .is_some_and(|m| m.enabled)
            {
                add(&gateway, &host_of(Role::Homeserver), USES_HOMESERVER);
            }
        }
        let graph = Self { hosts, needs };
        graph.waves()?;
        Ok(graph)
    }

    /// The hosts in waves: each wave's hosts need only hosts of earlier
    /// waves, so a wave's hosts can be applied at once.
    pub fn waves(&self) -> Result<Vec<Vec<String>>, Cycle> {
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut waves = Vec::new();
        while done.len() < self.hosts.len() {
            let wave: Vec<String> = self
                .hosts
                .iter()
                .filter(|h| !done.contains(h.as_str()))
                .filter(|h| self.needs[*h].keys().all(|n| done.contains(n.as_str())))
                .cloned()
                .collect();
            if wave.is_empty() {
                let rest = self
                    .hosts
                    .iter()
                    .filter(|h| !done.contains(h.as_str()))
                    .cloned()
                    .collect();
                return Err(Cycle(rest));
            }
            done.extend(
                self.hosts
                    .iter()
                    .filter(|h| wave.contains(h))
                    .map(|h| h.as_str()),
            );
            waves.push(wave);
        }
        Ok(waves)
    }

    /// Every host that needs `host`, directly or through others.
    pub fn dependents(&self, host: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut queue = vec![host.to_owned()];
        while let Some(next) = queue.pop() {
            for (dependent, needs) in &self.needs {
                if needs.contains_key(&next) && found.insert(dependent.clone()) {
                    queue.push(dependent.clone());
                }
            }
        }
        found
    }
}

/// Where a host stands in a fleet run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Not started: some host it needs is not applied yet.
    Waiting,
    /// Handed out by [`Scheduler::next`], not finished.
    Running,
    /// Applied (or already as the spec says).
    Applied,
    /// It failed (rolled back, unreachable or an error).
    Failed,
    /// Not applied because a host it needs failed.
    Skipped {
        /// The host whose failure stopped it.
        because: String,
    },
}

/// Hands out hosts whose needs are applied, at most `parallel` at once.
#[derive(Debug, Clone)]
pub struct Scheduler {
    graph: Graph,
    parallel: usize,
    states: BTreeMap<String, State>,
}

impl Scheduler {
    /// A run over `graph`'s hosts, at most `parallel` (at least 1) at once.
    pub fn new(graph: Graph, parallel: usize) -> Self {
        let states = graph
            .hosts
            .iter()
            .map(|h| (h.clone(), State::Waiting))
            .collect();
        Self {
            graph,
            parallel: parallel.max(1),
            states,
        }
    }

    /// The next host to start, if one may start now: all it needs is
    /// applied and fewer than `parallel` are running. Spec order among
    /// the ready ones.
    pub fn start_next(&mut self) -> Option<String> {
        let running = self
            .states
            .values()
            .filter(|s| **s == State::Running)
            .count();
        if running >= self.parallel {
            return None;
        }
        let ready = self.graph.hosts.iter().find(|h| {
            self.states[*h] == State::Waiting
                && self.graph.needs[*h]
                    .keys()
                    .all(|n| self.states[n] == State::Applied)
        })?;
        let ready = ready.clone();
        self.states.insert(ready.clone(), State::Running);
        Some(ready)
    }

    /// Records how `host` ended; a failure skips every host that needs
    /// it (and has not started). Returns the hosts skipped now.
    pub fn finish(&mut self, host: &str, applied: bool) -> Vec<String> {
        if applied {
            self.states.insert(host.to_owned(), State::Applied);
            return Vec::new();
        }
        self.states.insert(host.to_owned(), State::Failed);
        let mut skipped = Vec::new();
        for dependent in self.graph.dependents(host) {
            if self.states[&dependent] == State::Waiting {
                self.states.insert(
                    dependent.clone(),
                    State::Skipped {
                        because: host.to_owned(),
                    },
                );
                skipped.push(dependent);
            }
        }
        skipped
    }

    /// Whether every host has ended (applied, failed or skipped).
    pub fn is_done(&self) -> bool {
        self.states
            .values()
            .all(|s| !matches!(s, State::Waiting | State::Running))
    }

    /// Where `host` stands.
    pub fn state(&self, host: &str) -> Option<&State> {
        self.states.get(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(hosts: &str, extra: &str) -> Spec {
        let text = format!(
            r#"{{ hosts = [{hosts}], ollama.models = [ {{ name = "qwen2.5:14b", role = 'primary }}, {{ name = "llama3.2:3b", role = 'fallback }} ],
  openclaw = {{ image = "ghcr.io/openclaw/openclaw:2026.9.6@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
    model = {{ primary = "qwen2.5:14b", fallbacks = ["llama3.2:3b"] }} }} }} & {extra}"#
        );
        crate::check::testing::load(&text, "ncl").spec
    }

    fn host(name: &str, roles: &str) -> String {
        format!(
            r#"{{ name = "{name}", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = [{roles}] }}"#
        )
    }

    fn split() -> Spec {
        spec(
            &[
                host("gw", "'openclaw"),
                host("gpu", "'ollama"),
                host("hs", "'headscale"),
                host("spare", ""),
            ]
            .join(", "),
            "{}",
        )
    }

    #[test]
    fn headscale_first_then_ollama_before_the_gateway_that_uses_it() {
        let graph = Graph::of(&split()).unwrap();
        assert_eq!(
            graph.waves().unwrap(),
            vec![
                vec!["hs".to_owned()],
                vec!["gpu".to_owned(), "spare".to_owned()],
                vec!["gw".to_owned()],
            ]
        );
        assert_eq!(graph.needs["gw"]["gpu"], USES_OLLAMA);
        assert_eq!(graph.needs["gw"]["hs"], JOINS_THROUGH_HEADSCALE);
        assert!(graph.needs["hs"].is_empty());
    }

    #[test]
    fn the_gateway_waits_for_the_homeserver_only_when_its_matrix_channel_uses_it() {
        let hosts = [
            host("hs", "'headscale, 'ollama, 'openclaw"),
            host("chat", "'homeserver"),
        ]
        .join(", ");
        let without = Graph::of(&spec(&hosts, "{}")).unwrap();
        assert_eq!(without.needs["hs"].len(), 0);
        let with = Graph::of(&spec(
            &hosts,
            r#"{ openclaw.channels.matrix = { enabled = true, allow_from = ["@user1:chat.tailnet.home.arpa"], token = "env:T" } }"#,
        ));
        // chat joins through hs; hs's gateway needs chat's homeserver.
        let cycle = with.unwrap_err();
        assert_eq!(cycle.0, vec!["hs".to_owned(), "chat".to_owned()]);
        assert!(cycle.to_string().contains("--host NAME"), "{cycle}");
    }

    #[test]
    fn one_host_alone_is_one_wave() {
        let graph = Graph::of(&spec(&host("box", "'headscale, 'ollama, 'openclaw"), "{}")).unwrap();
        assert_eq!(graph.waves().unwrap(), vec![vec!["box".to_owned()]]);
    }

    #[test]
    fn the_scheduler_keeps_to_the_limit_and_follows_the_needs() {
        let graph = Graph::of(&split()).unwrap();
        let mut run = Scheduler::new(graph.clone(), 1);
        assert_eq!(run.start_next().as_deref(), Some("hs"));
        assert_eq!(run.start_next(), None, "gpu needs hs applied");
        run.finish("hs", true);
        assert_eq!(run.start_next().as_deref(), Some("gpu"));
        assert_eq!(run.start_next(), None, "the limit is 1");
        run.finish("gpu", true);
        // Spec order among the ready ones: gw is listed first.
        assert_eq!(run.start_next().as_deref(), Some("gw"));
        run.finish("gw", true);
        assert_eq!(run.start_next().as_deref(), Some("spare"));
        run.finish("spare", true);
        assert!(run.is_done());

        let mut wide = Scheduler::new(graph, 4);
        assert_eq!(wide.start_next().as_deref(), Some("hs"));
        wide.finish("hs", true);
        assert_eq!(wide.start_next().as_deref(), Some("gpu"));
        assert_eq!(
            wide.start_next().as_deref(),
            Some("spare"),
            "independent: at once"
        );
        assert_eq!(wide.start_next(), None, "gw needs gpu");
    }

    #[test]
    fn a_failure_skips_what_needs_it_and_nothing_else() {
        let graph = Graph::of(&split()).unwrap();
        assert_eq!(graph.dependents("gpu"), BTreeSet::from(["gw".to_owned()]));
        let mut run = Scheduler::new(graph, 4);
        run.start_next();
        run.finish("hs", true);
        let (a, b) = (run.start_next().unwrap(), run.start_next().unwrap());
        assert_eq!((a.as_str(), b.as_str()), ("gpu", "spare"));
        assert_eq!(run.finish("gpu", false), vec!["gw".to_owned()]);
        run.finish("spare", true);
        assert_eq!(run.start_next(), None);
        assert!(run.is_done());
        assert_eq!(
            run.state("gw"),
            Some(&State::Skipped {
                because: "gpu".to_owned()
            })
        );

        let mut first = Scheduler::new(Graph::of(&split()).unwrap(), 4);
        first.start_next();
        let mut skipped = first.finish("hs", false);
        skipped.sort();
        assert_eq!(skipped, vec!["gpu", "gw", "spare"]);
        assert!(first.is_done());
    }
}
