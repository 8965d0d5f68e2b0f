//! Headscale's rendered artifacts: `config.yaml` against the v0.29.2 key
//! tree, the policy against policy v2, the service description, goldens and
//! determinism.

use privai::model::{Role, Spec};
use privai::render::headscale::service_spec;
use privai::render::paths::Layout;
use privai::render::{Artifact, Owner, ServiceId, render};
use privai::spec::load;
use serde_yaml_ng::Value;
use std::collections::BTreeSet;
use std::path::Path;

const SEED: &str = "examples/seed-home.ncl";
const HOMELAB: &str = "examples/linux-homelab.ncl";
const ACME: &str = "tests/fixtures/headscale/letsencrypt-tailscale-derp.ncl";
const ALL: [&str; 3] = [SEED, HOMELAB, ACME];

/// Every leaf key of Headscale v0.29.2's `config.yaml`, dotted, from
/// Headscale's `config-example.yaml` and `hscontrol/types/config.go` (groups "Top level / network",
/// `derp`, `node`, `database`, TLS, "log / policy / dns", `oidc`, misc).
/// Lists and empty maps are leaves.
const ALLOWED_KEYS: &[&str] = &[
    // top level / network
    "server_url",
    "listen_addr",
    "metrics_listen_addr",
    "grpc_listen_addr",
    "grpc_allow_insecure",
    "trusted_proxies",
    "noise.private_key_path",
    "prefixes.v4",
    "prefixes.v6",
    "prefixes.allocation",
    "disable_check_updates",
    "unix_socket",
    "unix_socket_permission",
    // derp
    "derp.server.enabled",
    "derp.server.region_id",
    "derp.server.region_code",
    "derp.server.region_name",
    "derp.server.verify_clients",
    "derp.server.stun_listen_addr",
    "derp.server.private_key_path",
    "derp.server.automatically_add_embedded_derp_region",
    "derp.server.ipv4",
    "derp.server.ipv6",
    "derp.urls",
    "derp.paths",
    "derp.auto_update_enabled",
    "derp.update_frequency",
    // node
    "node.expiry",
    "node.ephemeral.inactivity_timeout",
    "node.routes.ha.probe_interval",
    "node.routes.ha.probe_timeout",
    // database
    "database.type",
    "database.debug",
    "database.gorm.prepare_stmt",
    "database.gorm.parameterized_queries",
    "database.gorm.skip_err_record_not_found",
    "database.gorm.slow_threshold",
    "database.sqlite.path",
    "database.sqlite.write_ahead_log",
    "database.sqlite.wal_autocheckpoint",
    "database.postgres.host",
    "database.postgres.port",
    "database.postgres.name",
    "database.postgres.user",
    "database.postgres.pass",
    "database.postgres.ssl",
    "database.postgres.max_open_conns",
    "database.postgres.max_idle_conns",
    "database.postgres.conn_max_idle_time_secs",
    // TLS
    "acme_url",
    "acme_email",
    "tls_letsencrypt_hostname",
    "tls_letsencrypt_cache_dir",
    "tls_letsencrypt_challenge_type",
    "tls_letsencrypt_listen",
    "tls_cert_path",
    "tls_key_path",
    // log / policy / dns
    "log.level",
    "log.format",
    "policy.mode",
    "policy.path",
    "dns.magic_dns",
    "dns.base_domain",
    "dns.override_local_dns",
    "dns.nameservers.global",
    "dns.nameservers.split",
    "dns.search_domains",
    "dns.extra_records",
    "dns.extra_records_path",
    // oidc
    "oidc.only_start_if_oidc_is_available",
    "oidc.issuer",
    "oidc.client_id",
    "oidc.client_secret",
    "oidc.client_secret_path",
    "oidc.use_expiry_from_token",
    "oidc.scope",
    "oidc.email_verified_required",
    "oidc.extra_params",
    "oidc.allowed_domains",
    "oidc.allowed_users",
    "oidc.allowed_groups",
    "oidc.pkce.enabled",
    "oidc.pkce.method",
    // misc
    "logtail.enabled",
    "taildrop.enabled",
    "auto_update.enabled",
    "cli.address",
    "cli.api_key",
    "cli.timeout",
    "cli.insecure",
    "tuning.notifier_send_timeout",
    "tuning.batch_change_delay",
    "tuning.node_mapsession_buffered_chan_size",
    "tuning.batcher_workers",
    "tuning.register_cache_expiration",
    "tuning.register_cache_max_entries",
    "tuning.node_store_batch_size",
    "tuning.node_store_batch_timeout",
];

/// Keys privai writes in every config: Headscale's required keys (§1.3:
/// `server_url`, `noise.private_key_path`, a prefix, `database.type`, a
/// DERP source, the DNS pair) and the ones whose code default differs from
/// what privai wants, so nothing rests on a default.
const REQUIRED_KEYS: &[&str] = &[
    "server_url",
    "listen_addr",
    "metrics_listen_addr",
    "grpc_listen_addr",
    "grpc_allow_insecure",
    "noise.private_key_path",
    "prefixes.v4",
    "prefixes.v6",
    "prefixes.allocation",
    "database.type",
    "database.sqlite.path",
    "database.sqlite.write_ahead_log",
    "derp.server.enabled",
    "derp.urls",
    "derp.auto_update_enabled",
    "derp.update_frequency",
    "disable_check_updates",
    "node.expiry",
    "node.ephemeral.inactivity_timeout",
    "dns.magic_dns",
    "dns.base_domain",
    "dns.override_local_dns",
    "dns.nameservers.global",
    "dns.search_domains",
    "dns.extra_records",
    "log.level",
    "log.format",
    "policy.mode",
    "policy.path",
    "unix_socket",
    "unix_socket_permission",
    "logtail.enabled",
];

/// Keys removed or renamed before v0.29.2 (§1.2, §1.3): fatal or ignored.
/// A key matches when it is one of these or lies under one.
const REMOVED_KEYS: &[&str] = &[
    "randomize_client_port",
    "dns_config",
    "acl_policy_path",
    "ip_prefixes",
    "db_type",
    "db_path",
    "db_host",
    "db_port",
    "db_name",
    "db_user",
    "db_pass",
    "private_key_path",
    "ephemeral_node_inactivity_timeout",
    "oidc.expiry",
    "oidc.strip_email_domain",
    "oidc.map_legacy_users",
    "dns.use_username_in_magic_dns",
    "tls_client_auth_mode",
];

/// Top-level sections policy v2 accepts in v0.29.2 (§2.1).
const POLICY_SECTIONS: &[&str] = &[
    "groups",
    "hosts",
    "tagOwners",
    "acls",
    "grants",
    "nodeAttrs",
    "autoApprovers",
    "ssh",
    "tests",
    "sshTests",
    "randomizeClientPort",
];

fn spec_of(path: &str) -> Spec {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    match load(&full) {
        Ok(loaded) => loaded.spec,
        Err(e) => panic!("{path} does not load: {:#?}", e.diagnostics),
    }
}

fn artifact<'a>(artifacts: &'a [Artifact], suffix: &str) -> &'a Artifact {
    let found: Vec<_> = artifacts
        .iter()
        .filter(|a| a.path.ends_with(suffix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one artifact ending in {suffix}: {found:#?}"
    );
    found[0]
}

fn text(a: &Artifact) -> &str {
    std::str::from_utf8(&a.contents).expect("utf-8")
}

fn config_of(path: &str) -> (String, Value) {
    let rendered = render(&spec_of(path));
    let a = artifact(&rendered.artifacts, "/headscale/config.yaml");
    let value = serde_yaml_ng::from_slice::<Value>(&a.contents)
        .unwrap_or_else(|e| panic!("{path}: config.yaml does not parse: {e}"));
    (text(a).to_owned(), value)
}

fn policy_of(path: &str) -> serde_json::Value {
    let rendered = render(&spec_of(path));
    let a = artifact(&rendered.artifacts, "/headscale/policy.hujson");
    let json: String = text(a)
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{path}: policy is not JSON: {e}"))
}

/// Dotted paths of the leaves of `value` (lists and empty maps are leaves).
fn flatten(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = k.as_str().expect("string keys");
                let path = if prefix.is_empty() {
                    key.to_owned()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(v, &path, out);
            }
        }
        _ => {
            out.insert(prefix.to_owned());
        }
    }
}

fn keys(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    flatten(value, "", &mut out);
    out
}

/// `value` at the dotted `path`.
fn get<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |v, k| {
        v.get(k).unwrap_or_else(|| panic!("no key {path}"))
    })
}

fn str_at<'a>(value: &'a Value, path: &str) -> &'a str {
    get(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

fn bool_at(value: &Value, path: &str) -> bool {
    get(value, path)
        .as_bool()
        .unwrap_or_else(|| panic!("{path} is not a boolean"))
}

fn list_len(value: &Value, path: &str) -> usize {
    get(value, path)
        .as_sequence()
        .unwrap_or_else(|| panic!("{path} is not a list"))
        .len()
}

#[test]
fn config_keys_lie_in_the_v0_29_2_tree_and_include_every_required_key() {
    let allowed: BTreeSet<&str> = ALLOWED_KEYS.iter().copied().collect();
    for path in ALL {
        let (_, config) = config_of(path);
        let keys = keys(&config);
        let unknown: Vec<_> = keys
            .iter()
            .filter(|k| !allowed.contains(k.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "{path}: keys outside v0.29.2: {unknown:?}"
        );
        let missing: Vec<_> = REQUIRED_KEYS
            .iter()
            .filter(|k| !keys.contains(**k))
            .collect();
        assert!(
            missing.is_empty(),
            "{path}: required keys missing: {missing:?}"
        );
        for removed in REMOVED_KEYS {
            let hit = keys
                .iter()
                .find(|k| *k == removed || k.starts_with(&format!("{removed}.")));
            assert!(hit.is_none(), "{path}: removed key {hit:?}");
        }
    }
}

#[test]
fn dns_settings_are_ones_headscale_starts_with() {
    for path in ALL {
        let (_, config) = config_of(path);
        if bool_at(&config, "dns.magic_dns") {
            assert!(
                !str_at(&config, "dns.base_domain").is_empty(),
                "{path}: MagicDNS without base_domain"
            );
        }
        let nameservers = list_len(&config, "dns.nameservers.global");
        assert_eq!(
            bool_at(&config, "dns.override_local_dns"),
            nameservers > 0,
            "{path}: override_local_dns must be set exactly when there are global nameservers"
        );
    }
    // The fixture pushes resolvers, the examples keep each device's own DNS.
    let (_, acme) = config_of(ACME);
    assert!(bool_at(&acme, "dns.override_local_dns"));
    let (_, seed) = config_of(SEED);
    assert!(!bool_at(&seed, "dns.override_local_dns"));
}

#[test]
fn config_values_follow_the_spec_and_the_layout() {
    // Seed: macOS, self-signed with the spec's files, embedded DERP.
    let (text, seed) = config_of(SEED);
    assert!(!text.contains("randomize_client_port"));
    assert_eq!(str_at(&seed, "server_url"), "https://headscale.home.arpa");
    assert_eq!(str_at(&seed, "grpc_listen_addr"), "127.0.0.1:50443");
    assert!(!bool_at(&seed, "grpc_allow_insecure"));
    assert_eq!(
        str_at(&seed, "unix_socket_permission"),
        "0770",
        "a string, not an octal number"
    );
    assert_eq!(
        str_at(&seed, "tls_cert_path"),
        "/etc/privai/tls/headscale.crt"
    );
    assert_eq!(
        str_at(&seed, "tls_key_path"),
        "/etc/privai/tls/headscale.key"
    );
    assert_eq!(str_at(&seed, "database.type"), "sqlite");
    assert!(bool_at(&seed, "database.sqlite.write_ahead_log"));
    assert!(
        str_at(&seed, "database.sqlite.path").starts_with("/usr/local/var/lib/privai/headscale/")
    );
    assert!(
        str_at(&seed, "noise.private_key_path").starts_with("/usr/local/var/lib/privai/headscale/")
    );
    assert!(bool_at(&seed, "derp.server.enabled"));
    assert_eq!(
        str_at(&seed, "derp.server.stun_listen_addr"),
        "0.0.0.0:3478"
    );
    assert_eq!(get(&seed, "derp.server.region_id").as_u64(), Some(999));
    assert!(bool_at(
        &seed,
        "derp.server.automatically_add_embedded_derp_region"
    ));
    assert_eq!(list_len(&seed, "derp.urls"), 0);
    assert_eq!(str_at(&seed, "node.expiry"), "180d");
    assert_eq!(str_at(&seed, "policy.mode"), "file");
    assert_eq!(
        str_at(&seed, "policy.path"),
        "/usr/local/etc/privai/headscale/policy.hujson"
    );
    assert!(!bool_at(&seed, "logtail.enabled"));
    assert!(bool_at(&seed, "disable_check_updates"));

    // Home lab: Linux, TLS terminated by a proxy on loopback.
    let (_, lab) = config_of(HOMELAB);
    assert_eq!(str_at(&lab, "tls_cert_path"), "");
    assert_eq!(str_at(&lab, "tls_key_path"), "");
    assert_eq!(str_at(&lab, "listen_addr"), "127.0.0.1:8080");
    assert_eq!(
        str_at(&lab, "policy.path"),
        "/etc/privai/headscale/policy.hujson"
    );
    assert!(str_at(&lab, "database.sqlite.path").starts_with("/var/lib/privai/headscale/"));
    assert_eq!(list_len(&lab, "trusted_proxies"), 2);

    // Fixture: Let's Encrypt (TLS-ALPN-01), Tailscale's DERP map, policy in the database.
    let (_, acme) = config_of(ACME);
    assert_eq!(
        str_at(&acme, "acme_url"),
        "https://acme-v02.api.letsencrypt.org/directory"
    );
    assert_eq!(str_at(&acme, "acme_email"), "ops@example.net");
    assert_eq!(str_at(&acme, "tls_letsencrypt_hostname"), "hs.example.net");
    assert_eq!(
        str_at(&acme, "tls_letsencrypt_challenge_type"),
        "TLS-ALPN-01"
    );
    assert_eq!(str_at(&acme, "tls_letsencrypt_listen"), ":http");
    assert!(str_at(&acme, "tls_letsencrypt_cache_dir").starts_with("/var/lib/privai/headscale/"));
    assert!(
        acme.get("tls_cert_path").is_none(),
        "cert files and Let's Encrypt exclude each other"
    );
    assert!(!bool_at(&acme, "derp.server.enabled"));
    assert_eq!(
        get(&acme, "derp.urls").as_sequence().map(|s| s[0].as_str()),
        Some(Some("https://controlplane.tailscale.com/derpmap/default"))
    );
    assert_eq!(str_at(&acme, "policy.mode"), "database");
    assert_eq!(str_at(&acme, "log.level"), "debug");
    assert_eq!(str_at(&acme, "node.expiry"), "90d");
}

#[test]
fn policy_is_json_with_v2_sections_and_users_written_with_at() {
    for path in ALL {
        let policy = policy_of(path);
        let top = policy.as_object().expect("an object");
        for key in top.keys() {
            assert!(
                POLICY_SECTIONS.contains(&key.as_str()),
                "{path}: section {key}"
            );
        }
        for (group, members) in top["groups"].as_object().expect("groups") {
            assert!(group.starts_with("group:"), "{path}: {group}");
            for m in members.as_array().expect("members") {
                let m = m.as_str().expect("member");
                assert!(
                    m.ends_with('@') || m.contains('@'),
                    "{path}: {group} member {m}"
                );
            }
        }
        for (tag, owners) in top["tagOwners"].as_object().expect("tagOwners") {
            assert!(tag.starts_with("tag:"), "{path}: {tag}");
            for o in owners.as_array().expect("owners") {
                let o = o.as_str().expect("owner");
                let alias =
                    o.starts_with("group:") || o.starts_with("tag:") || o.starts_with("autogroup:");
                assert!(alias || o.contains('@'), "{path}: {tag} owner {o}");
            }
        }
        for rule in top["acls"].as_array().expect("acls") {
            let rule = rule.as_object().expect("rule");
            assert_eq!(rule["action"], "accept");
            for key in rule.keys() {
                let known = ["action", "proto", "src", "dst"].contains(&key.as_str());
                assert!(known || key.starts_with('#'), "{path}: rule key {key}");
            }
        }
        for test in top
            .get("tests")
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
        {
            for key in test.as_object().expect("test").keys() {
                assert!(
                    ["src", "proto", "accept", "deny"].contains(&key.as_str()),
                    "{path}: test key {key}"
                );
            }
        }
    }
}

#[test]
fn seed_policy_names_its_hosts_groups_and_tests() {
    let policy = policy_of(SEED);
    assert_eq!(
        policy["groups"]["group:trusted"],
        serde_json::json!(["user1@", "user2@"])
    );
    assert_eq!(policy["hosts"]["openclaw-server"], "100.64.0.1");
    assert_eq!(policy["hosts"]["ollama-server"], "100.64.0.1");
    let acls = policy["acls"].as_array().expect("acls");
    assert_eq!(acls.len(), 2);
    assert_eq!(acls[0]["src"], serde_json::json!(["group:trusted"]));
    assert_eq!(acls[0]["dst"], serde_json::json!(["openclaw-server:8008"]));
    assert_eq!(
        acls[0]["#comment"],
        "Trusted people chat on the private Matrix homeserver."
    );
    assert_eq!(acls[1]["src"], serde_json::json!(["group:trusted"]));
    assert_eq!(acls[1]["dst"], serde_json::json!(["openclaw-server:18789"]));
    assert_eq!(acls[1]["proto"], "tcp");
    assert_eq!(
        acls[1]["#comment"],
        "Trusted people talk to the AI gateway."
    );
    let tests = policy["tests"].as_array().expect("the seed's tests");
    assert_eq!(tests.len(), 2);
    assert_eq!(tests[0]["src"], "user1@");

    // Devices with a pinned address are host aliases too; comments escape.
    let lab = policy_of(HOMELAB);
    assert_eq!(lab["hosts"]["nas"], "100.64.0.20");
    assert_eq!(lab["hosts"]["homelab"], "100.64.0.10");
    assert_eq!(
        lab["tagOwners"]["tag:storage"],
        serde_json::json!(["group:admins"])
    );
    let acme = policy_of(ACME);
    assert_eq!(
        acme["groups"]["group:everyone"],
        serde_json::json!(["ops@", "dev@"])
    );
    assert_eq!(
        acme["tagOwners"]["tag:server"],
        serde_json::json!(["ops@", "group:ops"])
    );
    assert_eq!(acme["hosts"]["ops-laptop"], "100.64.0.10");
    assert!(acme["hosts"].get("dev-phone").is_none());
    assert_eq!(acme["acls"][1]["#comment"], "Ops \"only\": SSH.");
}

#[test]
fn artifacts_are_root_owned_readable_and_restart_or_reload_headscale() {
    let rendered = render(&spec_of(SEED));
    let config = artifact(&rendered.artifacts, "/headscale/config.yaml");
    assert_eq!(config.path, "/usr/local/etc/privai/headscale/config.yaml");
    let policy = artifact(&rendered.artifacts, "/headscale/policy.hujson");
    assert_eq!(policy.path, "/usr/local/etc/privai/headscale/policy.hujson");
    for a in [config, policy] {
        assert_eq!(a.host, "openclaw-server");
        assert_eq!(a.owner, Owner::Root);
        assert_eq!(a.mode, 0o644);
        assert!(!a.secret);
    }
    assert_eq!(config.restarts, vec![ServiceId::Headscale]);
    // Headscale re-reads its policy file on SIGHUP (file mode).
    assert_eq!(policy.restarts, vec![]);
    assert_eq!(policy.reloads, vec![ServiceId::Headscale]);
    let lab = render(&spec_of(HOMELAB));
    assert_eq!(
        artifact(&lab.artifacts, "/headscale/config.yaml").path,
        "/etc/privai/headscale/config.yaml"
    );
}

#[test]
fn the_service_runs_headscale_serve_with_the_rendered_config() {
    let seed = spec_of(SEED);
    let host = seed.service_host(Role::Headscale).expect("headscale host");
    let s = service_spec(&seed, &Layout::of(host));
    assert_eq!(
        s.program,
        [
            "/opt/homebrew/bin/headscale",
            "serve",
            "--config",
            "/usr/local/etc/privai/headscale/config.yaml"
        ]
    );
    assert!(s.system && s.network && !s.gpu);
    assert!(s.binds_privileged_port, "0.0.0.0:443");
    assert_eq!(s.writable_paths, ["/usr/local/var/lib/privai/headscale"]);
    assert!(
        s.readable_paths
            .contains(&"/usr/local/etc/privai/headscale".to_owned())
    );
    assert!(
        s.readable_paths
            .contains(&"/etc/privai/tls/headscale.crt".to_owned())
    );
    assert_eq!(
        s.log_file.as_deref(),
        Some("/usr/local/var/log/privai/headscale.log")
    );
    assert_eq!(s.id, ServiceId::Headscale);

    let lab = spec_of(HOMELAB);
    let host = lab.service_host(Role::Headscale).expect("headscale host");
    let s = service_spec(&lab, &Layout::of(host));
    assert_eq!(s.program[0], "/usr/bin/headscale");
    assert!(!s.binds_privileged_port, "127.0.0.1:8080 behind a proxy");
    assert_eq!(s.log_file, None);

    let acme = spec_of(ACME);
    let host = acme.service_host(Role::Headscale).expect("headscale host");
    let s = service_spec(&acme, &Layout::of(host));
    assert!(s.binds_privileged_port);
    assert!(
        s.writable_paths
            .contains(&"/var/lib/privai/headscale/cache".to_owned())
    );
}

#[test]
fn seed_config_golden() {
    let (text, _) = config_of(SEED);
    insta::assert_snapshot!("seed_config_yaml", text);
}

#[test]
fn seed_policy_golden() {
    let rendered = render(&spec_of(SEED));
    let policy = artifact(&rendered.artifacts, "/headscale/policy.hujson");
    insta::assert_snapshot!("seed_policy_hujson", text(policy));
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    for path in ALL {
        let spec = spec_of(path);
        let (a, b) = (render(&spec), render(&spec));
        let pick = |r: &privai::render::Rendered| {
            r.artifacts
                .iter()
                .filter(|x| x.path.contains("/headscale/"))
                .map(|x| (x.path.clone(), x.contents.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(pick(&a), pick(&b), "{path}");
        assert!(!pick(&a).is_empty());
    }
}

#[test]
fn on_linux_the_dynamic_user_reads_the_root_only_tls_key_as_a_credential() {
    let mut lab = spec_of(HOMELAB);
    lab.headscale.tls.mode = privai::model::TlsMode::SelfSigned;
    let rendered = render(&lab);
    let unit = text(artifact(&rendered.artifacts, "/privai-headscale.service"));
    assert!(unit.contains("DynamicUser=yes"), "{unit}");
    assert!(
        unit.contains("\nLoadCredential=tls.key:/etc/privai/headscale/tls/headscale.key\n"),
        "{unit}"
    );
    let config: Value = serde_yaml_ng::from_slice(
        &artifact(&rendered.artifacts, "/headscale/config.yaml").contents,
    )
    .unwrap();
    assert_eq!(
        config["tls_key_path"].as_str(),
        Some("/run/credentials/privai-headscale.service/tls.key")
    );
    assert_eq!(
        config["tls_cert_path"].as_str(),
        Some("/etc/privai/headscale/tls/headscale.crt")
    );

    // On macOS Headscale runs as root and reads the key where it is.
    let (_, seed) = config_of(SEED);
    assert_eq!(
        seed["tls_key_path"].as_str(),
        Some("/etc/privai/tls/headscale.key")
    );
}
