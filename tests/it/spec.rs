//! The spec language: one pipeline for Nickel, TOML and JSON; bundled
//! modules and profiles; priorities; the Rust model in step with the modules.

use privai::model::Spec;
use privai::spec::{LoadedSpec, load};
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn load_ok(path: &Path) -> LoadedSpec {
    match load(path) {
        Ok(loaded) => loaded,
        Err(e) => panic!("{} does not load: {:#?}", path.display(), e.diagnostics),
    }
}

fn load_text(text: &str, extension: &str) -> Result<LoadedSpec, privai::spec::LoadError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("spec.{extension}"));
    std::fs::write(&path, text).unwrap();
    load(&path)
}

#[test]
fn toml_json_and_nickel_forms_of_one_spec_give_the_same_model() {
    let ncl = load_ok(&repo("tests/fixtures/equivalence/home.ncl")).spec;
    let toml = load_ok(&repo("tests/fixtures/equivalence/home.toml")).spec;
    let json = load_ok(&repo("tests/fixtures/equivalence/home.json")).spec;
    assert_eq!(ncl, toml);
    assert_eq!(ncl, json);
    // And the model is the spec, not an empty default.
    assert_eq!(ncl.hosts[0].name, "server");
    assert_eq!(ncl.devices.len(), 2);
    assert_eq!(
        ncl.hosts[0].other_services,
        [privai::model::OtherService {
            name: "ssh".into(),
            port: 22
        }]
    );
}

#[test]
fn the_rust_model_and_the_option_modules_agree_on_every_option() {
    // Every option set: deserializing denies unknown fields (an option the
    // model lacks), and serializing back must give the evaluated JSON exactly
    // (an option the modules lack, or a differently named one, would differ).
    let loaded = load_ok(&repo("tests/fixtures/schema/every-option.ncl"));
    let back = serde_json::to_value(&loaded.spec).unwrap();
    assert_eq!(back, loaded.json);
}

#[test]
fn every_option_of_the_modules_is_documented_and_known_to_the_model() {
    let index = privai::spec::docs::DocIndex::bundled();
    let documented: Vec<&str> = index.options().map(|o| o.name.as_str()).collect();
    let loaded = load_ok(&repo("tests/fixtures/schema/every-option.ncl"));
    let mut keys = Vec::new();
    collect_keys(&loaded.json, &mut keys);
    for key in &keys {
        // Keys under maps (groups, tag owners, aliases) are the user's names.
        if ["trusted", "server", "mobile", "ollama-server"].contains(&key.as_str()) {
            continue;
        }
        assert!(
            documented.contains(&key.as_str()),
            "option `{key}` has no doc string"
        );
    }
    assert!(
        documented.len() > 80,
        "only {} documented options",
        documented.len()
    );
}

fn collect_keys(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                collect_keys(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_keys(v, out)),
        _ => {}
    }
}

const HOST: &str =
    r#"hosts = [ { name = "box", platform = 'darwin, ram_gb = 16, roles = ['ollama] } ]"#;

#[test]
fn a_profile_value_beats_the_module_default() {
    // The module default of keep_alive is "5m"; the profile says "15m".
    let spec: Spec = load_text(
        &format!(r#"(import "privai/profiles/m3-pro-36gb.ncl") & {{ {HOST} }}"#),
        "ncl",
    )
    .unwrap()
    .spec;
    assert_eq!(spec.ollama.keep_alive, "15m");
    assert_eq!(spec.ollama.max_loaded_models, 2);
}

#[test]
fn a_user_value_beats_the_profile() {
    let spec = load_text(
        &format!(
            r#"(import "privai/profiles/m3-pro-36gb.ncl") & {{ {HOST}, ollama.keep_alive = "10m" }}"#
        ),
        "ncl",
    )
    .unwrap()
    .spec;
    assert_eq!(spec.ollama.keep_alive, "10m");
}

#[test]
fn force_beats_a_user_value() {
    let spec = load_text(
        &format!(
            r#"(import "privai/profiles/m3-pro-36gb.ncl")
            & {{ {HOST}, ollama.keep_alive = "10m" }}
            & {{ ollama.keep_alive | force = "1h" }}"#
        ),
        "ncl",
    )
    .unwrap()
    .spec;
    assert_eq!(spec.ollama.keep_alive, "1h");
}

#[test]
fn the_hardened_profile_forces_its_switches_over_the_user() {
    let spec = load_text(
        &format!(
            r#"(import "privai/profiles/hardened.ncl") & {{
              {HOST},
              openclaw = {{
                image = "x@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
                model.primary = "m",
                container.privileged = true,
              }},
            }}"#
        ),
        "ncl",
    )
    .unwrap()
    .spec;
    assert!(!spec.openclaw.container.privileged);
}

#[test]
fn hosts_inherit_hardware_from_the_profile_unless_they_state_their_own() {
    let spec = load_text(
        r#"(import "privai/profiles/mac-16gb.ncl") & {
          hosts = [
            { name = "a", roles = ['ollama] },
            { name = "b", platform = 'linux, arch = 'x86_64, ram_gb = 64 },
          ],
        }"#,
        "ncl",
    )
    .unwrap()
    .spec;
    assert_eq!(spec.hosts[0].ram_gb, 16);
    assert_eq!(spec.hosts[0].platform, privai::model::Platform::Darwin);
    assert_eq!(spec.hosts[1].ram_gb, 64);
    assert_eq!(spec.hosts[1].platform, privai::model::Platform::Linux);
}

#[test]
fn every_bundled_profile_evaluates_and_is_importable() {
    let names: Vec<&str> = privai::spec::bundle::profile_names().collect();
    for wanted in [
        "m3-pro-36gb",
        "mac-16gb",
        "mac-8gb",
        "linux-server",
        "hardened",
    ] {
        assert!(names.contains(&wanted), "profile {wanted} is not bundled");
    }
    for name in names {
        let text = format!(
            r#"(import "privai/profiles/{name}.ncl") & {{
              hosts = [ {{ name = "box", platform | priority -20 = 'linux, ram_gb | priority -20 = 32, roles = ['ollama] }} ],
              openclaw = {{ image = "x@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c", model.primary = "m" }},
            }}"#
        );
        if let Err(e) = load_text(&text, "ncl") {
            panic!("profile {name} does not evaluate: {:#?}", e.diagnostics);
        }
    }
}

#[test]
fn a_broken_contract_quotes_the_options_documentation_from_the_modules() {
    let error = load_text(
        r#"{ hosts = [ { name = "box", platform = 'linux, ram_gb = "lots" } ] }"#,
        "ncl",
    )
    .unwrap_err();
    let d = &error.diagnostics[0];
    assert_eq!(d.code, "PRV004");
    let doc = "Installed memory of the host in GB (as the vendor sells it, e.g. 36 for a 36 GB MacBook Pro). Model sizing uses it.";
    assert!(include_str!("../../modules/hosts.ncl").contains(doc));
    assert!(
        d.notes.iter().any(|n| n.contains(doc)),
        "notes do not quote the doc: {:?}",
        d.notes
    );
}

#[test]
fn a_misspelt_option_in_toml_points_at_its_line_and_suggests_the_name() {
    let error = load_text(
        "[[hosts]]\nname = \"box\"\nplatform = \"linux\"\nram_gb = 16\n\n[ollama]\nkeep_alvie = \"5m\"\n",
        "toml",
    )
    .unwrap_err();
    let d = &error.diagnostics[0];
    assert_eq!(d.code, "PRV003");
    assert_eq!(d.location.as_ref().unwrap().line, 7);
    assert_eq!(d.path.as_ref().unwrap().to_string(), "ollama.keep_alvie");
    assert_eq!(d.hint.as_deref(), Some("did you mean `keep_alive`?"));
}

#[test]
fn the_hardened_profile_does_not_require_a_gateway() {
    let loaded = load_text(
        &format!(r#"(import "privai/profiles/hardened.ncl") & {{ {HOST} }}"#),
        "ncl",
    )
    .unwrap();
    let errors: Vec<_> = privai::check::run(&loaded)
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(loaded.spec.gateway().is_none());
}

#[test]
fn a_homeserver_name_with_a_scheme_is_refused_with_the_form_it_needs() {
    let host =
        r#"hosts = [ { name = "box", platform = 'linux, ram_gb = 16, roles = ['homeserver] } ]"#;
    let error = load_text(
        &format!(r#"{{ {host}, homeserver.server_name = "https://chat.example.org" }}"#),
        "ncl",
    )
    .unwrap_err();
    let d = &error.diagnostics[0];
    assert_eq!(d.code, "PRV004");
    assert!(
        d.message.contains("expected a server name")
            || d.notes.iter().any(|n| n.contains("expected a server name")),
        "{d:?}"
    );
    for good in [
        "chat.tailnet.home.arpa",
        "box",
        "matrix.example.org:8448",
        "100.64.0.1",
    ] {
        let spec = load_text(
            &format!(r#"{{ {host}, homeserver.server_name = "{good}" }}"#),
            "ncl",
        )
        .unwrap()
        .spec;
        assert_eq!(spec.homeserver.server_name.as_deref(), Some(good));
    }
}

#[test]
fn a_spec_using_any_part_of_nickels_std_loads_as_written() {
    // privai hands Nickel only the part of `std` a spec names; one naming a
    // function the modules never use, and one using `std` as a value (which
    // keeps it whole), give the same model as the spec written plainly.
    let plain = std::fs::read_to_string(repo("tests/fixtures/equivalence/home.ncl")).unwrap();
    let expected = load_ok(&repo("tests/fixtures/equivalence/home.ncl")).spec;
    for name in [
        r#"std.string.lowercase (std.array.first (std.string.split "," "SERVER,x"))"#,
        r#"(let s = std in s.string.lowercase "SERVER")"#,
        r#"std.string.lowercase (std.record.get "n" { n = "SERVER" })"#,
    ] {
        let text = plain.replacen(r#"name = "server","#, &format!("name = {name},"), 1);
        assert_ne!(text, plain);
        match load_text(&text, "ncl") {
            Ok(loaded) => assert_eq!(loaded.spec, expected, "{name}"),
            Err(e) => panic!("{name}: {:#?}", e.diagnostics),
        }
    }
}
