//! `privai init`: a first spec for this machine.
//!
//! [`detect`] reads the facts of the machine (I/O); everything else is a pure
//! function of [`MachineFacts`]: [`choose_models`] picks a primary and a
//! fallback model of the catalog that fit the machine, [`render`] writes the
//! commented `privai.ncl`.

pub mod detect;

use crate::model::{Arch, Host, Platform, Role};
use crate::sizing::budget::{HEADSCALE_RESERVE, pool};
use crate::sizing::catalog::{Catalog, Kind};
use crate::sizing::estimate::{RunSettings, estimate};
use crate::sizing::fit::TIGHT_HEADROOM;
use crate::sizing::{MIB, gib};
use serde::Serialize;

/// Memory the gateway container is given by default (`openclaw.container.memory_mb`).
pub const GATEWAY_MEMORY_MB: u32 = 2048;

/// What `privai init` knows about the machine it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineFacts {
    /// Operating system.
    pub platform: Platform,
    /// CPU architecture.
    pub arch: Arch,
    /// Installed memory, GB (rounded).
    pub ram_gb: u32,
    /// Processor name, when the OS tells it.
    pub chip: Option<String>,
    /// A GPU with its own memory (Linux): its name and memory in GB.
    pub gpu: Option<Gpu>,
    /// The machine's host name, as the OS gives it.
    pub hostname: String,
    /// The user running `privai init` (`$USER`).
    pub user: String,
}

/// A discrete GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpu {
    /// e.g. `NVIDIA GeForce RTX 4090`.
    pub name: String,
    /// Its memory, GB.
    pub memory_gb: u32,
}

/// The models chosen for a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The largest chat model that fits with room to spare.
    pub primary: String,
    /// The smallest other chat model that fits: what answers when the
    /// primary cannot. `None` when only one fits.
    pub fallback: Option<String>,
    /// Context length the models run with.
    pub context_length: u32,
    /// Memory left for models, bytes, after the gateway and Headscale.
    pub available: u64,
}

/// Why no model can be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no chat model of privai's catalog fits the {available} this machine can give to models; \
     run Ollama on a host with more memory and list it in `hosts`"
)]
pub struct NothingFits {
    /// The memory there is, in words.
    pub available: String,
}

/// The host `facts` describe, running Headscale and Ollama as the spec says.
fn host(facts: &MachineFacts) -> Host {
    Host {
        name: host_name(&facts.hostname),
        platform: facts.platform,
        arch: facts.arch,
        ram_gb: facts.ram_gb,
        chip: facts.chip.clone(),
        gpu_memory_gb: facts.gpu.as_ref().map(|g| g.memory_gb),
        gpu_wired_limit_mb: None,
        roles: vec![Role::Headscale, Role::Ollama],
        tailnet_ip: None,
        tags: Vec::new(),
        other_services: Vec::new(),
        deploy: None,
    }
}

/// The settings the chosen models run with: a 16k context, 8k on 8 GB and less.
fn settings(facts: &MachineFacts) -> RunSettings {
    RunSettings {
        context: if facts.ram_gb <= 8 && facts.gpu.is_none() {
            8192
        } else {
            16384
        },
        parallel: 1,
        kv_cache: crate::model::KvCacheType::Q8_0,
    }
}

/// Picks the primary and fallback models for the machine: the memory for
/// models is the host's budget less the gateway container and Headscale
/// where they share it; the primary is the largest chat model of the catalog
/// that leaves at least 10 % of it free, the fallback the smallest other.
pub fn choose_models(facts: &MachineFacts, catalog: &Catalog) -> Result<Choice, NothingFits> {
    let (_, pool_bytes, shared) = pool(&host(facts));
    let taken = if shared {
        (f64::from(GATEWAY_MEMORY_MB) * MIB) as u64 + HEADSCALE_RESERVE
    } else {
        0
    };
    let available = pool_bytes.saturating_sub(taken);
    let settings = settings(facts);
    let limit = ((1.0 - TIGHT_HEADROOM) * available as f64) as u64;
    let mut fitting: Vec<_> = catalog
        .model
        .iter()
        .filter(|m| m.is(Kind::Chat) && m.native_context >= settings.context)
        .filter(|m| estimate(&m.facts(), &settings).total <= limit)
        .collect();
    fitting.sort_by(|a, b| {
        b.parameters_b
            .total_cmp(&a.parameters_b)
            .then(a.tag.cmp(&b.tag))
    });
    let primary = fitting.first().ok_or_else(|| NothingFits {
        available: gib(available),
    })?;
    let fallback = fitting
        .iter()
        .rev()
        .find(|m| m.tag != primary.tag && m.parameters_b < primary.parameters_b);
    Ok(Choice {
        primary: primary.tag.clone(),
        fallback: fallback.map(|m| m.tag.clone()),
        context_length: settings.context,
        available,
    })
}

/// A spec name (lower-case letters, digits and dashes, starting with a
/// letter) made from `raw`, e.g. `Anna's MacBook.local` → `annas-macbook`.
pub fn name_from(raw: &str, fallback: &str) -> String {
    let raw = raw.split('.').next().unwrap_or(raw);
    let mut name = String::new();
    for c in raw.chars() {
        match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => name.push(c),
            ' ' | '-' | '_' if !name.ends_with('-') && !name.is_empty() => name.push('-'),
            _ => {}
        }
    }
    let name = name.trim_matches('-');
    let name = name.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    let mut name: String = name.chars().take(40).collect();
    while name.ends_with('-') {
        name.pop();
    }
    if name.is_empty() {
        fallback.to_owned()
    } else {
        name
    }
}

fn host_name(hostname: &str) -> String {
    name_from(hostname, "server")
}

/// The commented `privai.ncl` for the machine: the host with its facts
/// running Headscale and Ollama, the user and their group, the ACL rule
/// for the gateway, the chosen models, and the gateway to add once its
/// image is pinned. `profile` adds the import of a bundled profile.
pub fn render(facts: &MachineFacts, choice: &Choice, profile: Option<&str>) -> String {
    #[derive(Serialize)]
    struct GpuFacts {
        name: String,
        memory_gb: u32,
    }
    #[derive(Serialize)]
    struct Context<'a> {
        host: String,
        user: String,
        /// A bundled profile imported before `hardened`.
        profile: Option<&'a str>,
        platform: &'static str,
        arch: &'static str,
        ram_gb: u32,
        chip: Option<String>,
        gpu: Option<GpuFacts>,
        context_length: u32,
        /// Memory for models, e.g. `24.0 GiB`.
        budget: String,
        primary: &'a str,
        fallbacks: Vec<&'a str>,
    }
    let context = Context {
        host: host_name(&facts.hostname),
        user: name_from(&facts.user, "owner"),
        profile: profile.filter(|p| *p != "hardened"),
        platform: match facts.platform {
            Platform::Darwin => "darwin",
            Platform::Linux => "linux",
        },
        arch: match facts.arch {
            Arch::Aarch64 => "aarch64",
            Arch::X86_64 => "x86_64",
        },
        ram_gb: facts.ram_gb,
        chip: facts.chip.as_deref().map(one_line),
        gpu: facts.gpu.as_ref().map(|gpu| GpuFacts {
            name: one_line(&gpu.name),
            memory_gb: gpu.memory_gb,
        }),
        context_length: choice.context_length,
        budget: gib(choice.available),
        primary: &choice.primary,
        fallbacks: choice.fallback.as_deref().into_iter().collect(),
    };
    crate::render::template::render("privai.ncl.j2", context)
}

/// `text` on one line, without control characters, at most 80 characters.
fn one_line(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The three commands to run next.
pub fn next_commands(path: &str) -> [String; 3] {
    let arg = if path == "privai.ncl" {
        String::new()
    } else {
        format!(" {path}")
    };
    [
        format!("privai check{arg}"),
        format!("privai plan{arg}"),
        format!("privai apply{arg}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(platform: Platform, ram_gb: u32, gpu: Option<Gpu>) -> MachineFacts {
        MachineFacts {
            platform,
            arch: match platform {
                Platform::Darwin => Arch::Aarch64,
                Platform::Linux => Arch::X86_64,
            },
            ram_gb,
            chip: None,
            gpu,
            hostname: "box".into(),
            user: "anna".into(),
        }
    }

    #[test]
    fn a_36_gb_mac_gets_a_32b_primary_and_a_3b_fallback() {
        let choice = choose_models(&facts(Platform::Darwin, 36, None), Catalog::bundled()).unwrap();
        assert!(choice.primary.ends_with(":32b"), "{choice:?}");
        assert_eq!(choice.fallback.as_deref(), Some("llama3.2:3b"));
        assert_eq!(choice.context_length, 16384);
    }

    #[test]
    fn an_8_gb_linux_machine_gets_a_small_model_and_an_8k_context() {
        let choice = choose_models(&facts(Platform::Linux, 8, None), Catalog::bundled()).unwrap();
        assert_eq!(choice.primary, "llama3.2:3b", "{choice:?}");
        assert_eq!(choice.fallback, None);
        assert_eq!(choice.context_length, 8192);
    }

    #[test]
    fn a_gpu_s_memory_decides_on_linux() {
        let gpu = Gpu {
            name: "NVIDIA GeForce RTX 4090".into(),
            memory_gb: 24,
        };
        let with =
            choose_models(&facts(Platform::Linux, 8, Some(gpu)), Catalog::bundled()).unwrap();
        let without = choose_models(&facts(Platform::Linux, 8, None), Catalog::bundled()).unwrap();
        assert_eq!(with.available, 24 * 1024 * 1024 * 1024);
        assert_ne!(with.primary, without.primary);
    }

    #[test]
    fn a_machine_too_small_for_any_model_is_told_to_use_a_bigger_host() {
        let error =
            choose_models(&facts(Platform::Linux, 4, None), Catalog::bundled()).unwrap_err();
        assert!(
            error.to_string().contains("host with more memory"),
            "{error}"
        );
    }

    #[test]
    fn names_are_made_spec_safe() {
        assert_eq!(
            name_from("Anna's MacBook-Pro.local", "x"),
            "annas-macbook-pro"
        );
        assert_eq!(name_from("42box", "x"), "box");
        assert_eq!(name_from("...", "server"), "server");
        assert_eq!(name_from("JOHN_DOE", "x"), "john-doe");
    }

    #[test]
    fn the_spec_names_the_machine_its_facts_and_the_chosen_models() {
        let mut facts = facts(Platform::Darwin, 36, None);
        facts.chip = Some("Apple M3 Pro".into());
        let choice = choose_models(&facts, Catalog::bundled()).unwrap();
        let text = render(&facts, &choice, None);
        assert!(text.contains("name = \"box\""));
        assert!(text.contains("platform = 'darwin"));
        assert!(text.contains("ram_gb = 36,"));
        assert!(text.contains("chip = \"Apple M3 Pro\","));
        assert!(text.contains(&format!(
            "{{ name = \"{}\", role = 'primary }}",
            choice.primary
        )));
        assert!(text.contains("{ name = \"llama3.2:3b\", role = 'fallback }"));
        assert!(text.contains("users = [ { name = \"anna\" } ]"));
    }

    #[test]
    fn a_hostile_chip_name_stays_a_string() {
        let mut facts = facts(Platform::Linux, 16, None);
        facts.chip = Some("x\" , roles = [] %{ evil }\n#".into());
        let choice = choose_models(&facts, Catalog::bundled()).unwrap();
        let text = render(&facts, &choice, None);
        assert!(
            text.contains(r#"chip = "x\" , roles = [] \%{ evil }#","#),
            "{text}"
        );
    }

    /// The errors and warnings `privai check` finds in `text`.
    fn check_findings(text: &str) -> Vec<String> {
        crate::check::testing::diagnostics(text)
            .into_iter()
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect()
    }

    #[test]
    fn privai_check_accepts_the_spec_written_for_a_36_gb_mac() {
        let facts = facts(Platform::Darwin, 36, None);
        let choice = choose_models(&facts, Catalog::bundled()).unwrap();
        assert_eq!(
            check_findings(&render(&facts, &choice, None)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn privai_check_accepts_the_spec_written_for_an_8_gb_linux_machine() {
        let facts = facts(Platform::Linux, 8, None);
        let choice = choose_models(&facts, Catalog::bundled()).unwrap();
        assert_eq!(
            check_findings(&render(&facts, &choice, None)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn privai_check_accepts_the_spec_written_with_a_profile_and_a_gpu() {
        let mut facts = facts(Platform::Linux, 64, None);
        facts.gpu = Some(Gpu {
            name: "NVIDIA GeForce RTX 4090".into(),
            memory_gb: 24,
        });
        let choice = choose_models(&facts, Catalog::bundled()).unwrap();
        let text = render(&facts, &choice, Some("linux-server"));
        assert!(text.contains("gpu_memory_gb = 24,"));
        assert_eq!(check_findings(&text), Vec::<String>::new());
    }

    /// `text` with its commented gateway, devices and rule uncommented, the
    /// image pinned and `'openclaw` added to the host's roles, as the
    /// comments ask.
    fn with_the_gateway(text: &str) -> String {
        let code_starts = ["devices =", "acl.rules =", "openclaw =", "  ", "]", "}"];
        text.lines()
            .map(|line| match line.strip_prefix("  # ") {
                Some(rest) if code_starts.iter().any(|c| rest.starts_with(c)) => {
                    format!("  {rest}")
                }
                _ => line.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            .replace(
                "roles = ['headscale, 'ollama]",
                "roles = ['headscale, 'ollama, 'openclaw]",
            )
            .replace(
                "VERSION@sha256:DIGEST",
                "2026.9.6@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
            )
    }

    #[test]
    fn with_its_commented_gateway_phone_and_rule_taken_in_the_spec_still_checks_cleanly() {
        let facts = facts(Platform::Darwin, 36, None);
        let choice = choose_models(&facts, Catalog::bundled()).unwrap();
        let text = with_the_gateway(&render(&facts, &choice, None));
        let loaded = crate::check::testing::load(&text, "ncl");
        assert_eq!(loaded.spec.devices.len(), 1, "{text}");
        assert_eq!(loaded.spec.acl.rules.len(), 1, "{text}");
        assert!(loaded.spec.gateway().is_some(), "{text}");
        assert_eq!(check_findings(&text), Vec::<String>::new());
    }

    #[test]
    fn privai_check_reads_a_hostile_chip_name_as_the_string_it_is() {
        let mut facts = facts(Platform::Linux, 16, None);
        facts.chip = Some("x\" , roles = [] %{ evil }".into());
        let choice = choose_models(&facts, Catalog::bundled()).unwrap();
        let text = render(&facts, &choice, None);
        let loaded = crate::check::testing::load(&text, "ncl");
        let chip = loaded.spec.hosts[0].chip.clone();
        assert_eq!(chip.as_deref(), Some("x\" , roles = [] %{ evil }"));
    }

    #[test]
    fn the_hardened_profile_is_imported_once() {
        let facts = facts(Platform::Linux, 16, None);
        let choice = choose_models(&facts, Catalog::bundled()).unwrap();
        let text = render(&facts, &choice, Some("hardened"));
        assert_eq!(text.matches("privai/profiles/hardened.ncl").count(), 1);
        let with_other = render(&facts, &choice, Some("linux-server"));
        assert_eq!(with_other.matches("(import \"privai/profiles/").count(), 2);
    }

    #[test]
    fn next_commands_name_the_file_unless_it_is_the_default() {
        assert_eq!(next_commands("privai.ncl")[0], "privai check");
        assert_eq!(next_commands("a/b.ncl")[2], "privai apply a/b.ncl");
    }
}
