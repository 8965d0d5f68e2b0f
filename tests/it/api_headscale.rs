//! The Headscale client against the stand-in Headscale: every call, the
//! errors that name their fix, and reconciliation that writes nothing the
//! second time.

use crate::standin::Tls;
use crate::standin::headscale::{Standin, TAGGED_DEVICES_ID};
use privai::api::headscale::{Client, Error, NewPreAuthKey};
use privai::model::{Device, DeviceKind, DeviceOs, User};
use privai::plan::headscale::{
    ExpiryReason, Kept, KeyDecisions, KeyExpiry, KeyRecords, NewUser, TagChange, key_decisions,
    tag_changes, users_to_create, users_to_delete,
};
use privai::secret::ApiKey;
use serde_json::json;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

const API_KEY: &str = "hskey-api-abcdefghijkl-0123456789abcdef";
const REFERENCE: &str = "env:HEADSCALE_API_KEY";
const DAY: Duration = Duration::from_secs(86_400);

fn client(standin: &Standin) -> Client {
    Client::new(&standin.url, ApiKey::new(API_KEY, REFERENCE)).unwrap()
}

fn spec_user(name: &str) -> User {
    User {
        name: name.to_owned(),
        display_name: None,
        email: None,
    }
}

fn device(name: &str, user: &str, tags: &[&str]) -> Device {
    Device {
        name: name.to_owned(),
        user: user.to_owned(),
        kind: DeviceKind::Laptop,
        os: DeviceOs::Linux,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        tailnet_ip: None,
        ephemeral: false,
        reusable: false,
    }
}

/// What `apply` will do for users: create the missing ones.
fn reconcile_users(client: &Client, spec: &[User]) {
    let existing = client.list_users().unwrap();
    for user in users_to_create(spec, &existing) {
        client.create_user(&user).unwrap();
    }
}

/// What `apply` will do for keys: create the missing ones (recording them)
/// and expire the ones to expire; the whole keys, by device.
fn reconcile_keys(client: &Client, devices: &[Device], records: &mut KeyRecords) -> KeyDecisions {
    let now = SystemTime::now();
    let users = client.list_users().unwrap();
    let decisions = key_decisions(
        devices,
        &client.list_nodes(None).unwrap(),
        &client.list_preauth_keys().unwrap(),
        records,
        now,
    );
    for name in &decisions.create {
        let device = devices.iter().find(|d| &d.name == name).unwrap();
        let user = users.iter().find(|u| u.name == device.user).unwrap();
        let key = NewPreAuthKey::for_device(device, user.id, now + DAY);
        let created = client.create_preauth_key(&key).unwrap();
        records.insert(name.clone(), created.id);
    }
    for expiry in &decisions.expire {
        client.expire_preauth_key(expiry.key).unwrap();
    }
    for name in &decisions.forget {
        records.remove(name);
    }
    decisions
}

#[test]
fn health_passes_and_a_failing_database_is_unhealthy() {
    let standin = Standin::start(API_KEY);
    let client = client(&standin);
    client.health().unwrap();
    standin.set_healthy(false);
    let error = client.health().unwrap_err();
    assert!(
        matches!(error, Error::Unhealthy { status: 500, .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "Headscale at {} is unhealthy (`/health` reports HTTP 500: its database does not answer): see Headscale's log",
            standin.url
        )
    );
}

#[test]
fn users_are_created_once_and_a_second_run_writes_nothing() {
    let standin = Standin::start(API_KEY);
    standin.add_user("bob");
    let client = client(&standin);
    let mut alice = spec_user("alice");
    alice.display_name = Some("Alice".to_owned());
    alice.email = Some("alice@example.org".to_owned());
    let spec = [alice, spec_user("bob"), spec_user("carol")];

    reconcile_users(&client, &spec);
    let writes: Vec<_> = standin
        .writes()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(writes, ["POST /api/v1/user", "POST /api/v1/user"]);
    assert_eq!(standin.users(), ["bob", "alice", "carol"]);
    let alice = client
        .list_users()
        .unwrap()
        .into_iter()
        .find(|u| u.name == "alice")
        .unwrap();
    assert_eq!(
        (alice.display_name.as_str(), alice.email.as_str()),
        ("Alice", "alice@example.org")
    );

    standin.clear_log();
    reconcile_users(&client, &spec);
    assert_eq!(standin.writes(), vec![]);
    assert_eq!(standin.log().len(), 1, "one list, nothing else");
}

#[test]
fn creating_an_existing_user_is_an_api_error_with_headscales_message() {
    let standin = Standin::start(API_KEY);
    standin.add_user("alice");
    let error = client(&standin)
        .create_user(&NewUser::of(&spec_user("alice")))
        .unwrap_err();
    let Error::Api {
        status, message, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*status, 500);
    assert!(message.contains("UNIQUE constraint failed"), "{message}");
}

#[test]
fn a_device_key_carries_user_tags_and_expiration_and_is_shown_whole_once() {
    let standin = Standin::start(API_KEY);
    let alice = standin.add_user("alice");
    let client = client(&standin);
    let mut server = device("nas", "alice", &["tag:server", "tag:backup"]);
    server.ephemeral = true;
    let expiration = SystemTime::UNIX_EPOCH + Duration::from_secs(4_000_000_000);

    let created = client
        .create_preauth_key(&NewPreAuthKey::for_device(&server, alice, expiration))
        .unwrap();
    let whole = created.key.expose().to_owned();
    assert!(
        whole.starts_with("hskey-auth-") && !whole.ends_with("***"),
        "{whole}"
    );
    assert_eq!(created.user_name(), Some("alice"));
    assert_eq!(created.acl_tags, ["tag:backup", "tag:server"]);
    assert!(created.ephemeral && !created.reusable && !created.used);
    assert_eq!(
        created.expiration.map(|t| t.rfc3339()).as_deref(),
        Some("2096-10-02T07:06:40Z")
    );

    let listed = client.list_preauth_keys().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.id);
    assert!(
        listed[0].key.expose().ends_with("-***"),
        "listed keys are masked"
    );
    assert_eq!(listed[0].expiration, created.expiration);

    // The key joins the device as a tagged node.
    let node = standin.join_with_key("nas", &whole).unwrap();
    let node = client.get_node(node).unwrap();
    assert_eq!(node.tags, ["tag:backup", "tag:server"]);
    assert_eq!(node.user.as_ref().map(|u| u.id), Some(TAGGED_DEVICES_ID));
    assert_eq!(node.pre_auth_key.as_ref().map(|k| k.id), Some(created.id));
    assert_eq!(node.ip_addresses.len(), 2);
    assert!(client.list_preauth_keys().unwrap()[0].used);
}

#[test]
fn keys_are_reconciled_idempotently_through_join_and_removal() {
    let standin = Standin::start(API_KEY);
    standin.add_user("alice");
    let client = client(&standin);
    let laptop = device("laptop", "alice", &[]);
    let server = device("server", "alice", &["tag:server"]);
    let mut records = KeyRecords::new();

    // First run: a key for each device.
    let first = reconcile_keys(&client, &[laptop.clone(), server.clone()], &mut records);
    assert_eq!(first.create, ["laptop", "server"]);
    assert_eq!(records.len(), 2);
    assert_eq!(standin.keys().len(), 2);

    // Second run: nothing to do, nothing written.
    standin.clear_log();
    let second = reconcile_keys(&client, &[laptop.clone(), server.clone()], &mut records);
    assert!(second.is_empty(), "{second:?}");
    assert_eq!(standin.writes(), vec![]);

    // The laptop joins (interactively here, so its key stays unused and is
    // expired: it is no longer needed); the server leaves the spec.
    standin.join("laptop", "alice", &[]);
    standin.clear_log();
    let third = reconcile_keys(&client, std::slice::from_ref(&laptop), &mut records);
    assert_eq!(
        third.expire,
        vec![
            KeyExpiry {
                key: first_key(&standin, 0),
                device: "laptop".to_owned(),
                reason: ExpiryReason::Joined,
            },
            KeyExpiry {
                key: first_key(&standin, 1),
                device: "server".to_owned(),
                reason: ExpiryReason::DeviceRemoved,
            },
        ]
    );
    assert_eq!(third.create, Vec::<String>::new());
    assert_eq!(third.forget, ["server"]);
    assert_eq!(standin.writes().len(), 2);
    assert!(
        client
            .list_preauth_keys()
            .unwrap()
            .iter()
            .all(|k| k.is_expired(SystemTime::now()))
    );

    // Fourth run: the expired keys need no write.
    standin.clear_log();
    let fourth = reconcile_keys(&client, &[laptop], &mut records);
    assert!(fourth.is_empty(), "{fourth:?}");
    assert_eq!(standin.writes(), vec![]);
}

/// The ID of the `index`-th key the stand-in holds.
fn first_key(standin: &Standin, index: usize) -> u64 {
    standin.keys()[index]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn an_expired_key_no_longer_joins_and_expiring_an_unknown_key_succeeds() {
    let standin = Standin::start(API_KEY);
    let alice = standin.add_user("alice");
    let client = client(&standin);
    let key = client
        .create_preauth_key(&NewPreAuthKey::for_device(
            &device("a", "alice", &[]),
            alice,
            SystemTime::now() + DAY,
        ))
        .unwrap();
    client.expire_preauth_key(key.id).unwrap();
    let listed = &client.list_preauth_keys().unwrap()[0];
    assert!(listed.is_expired(SystemTime::now() + Duration::from_secs(1)));
    assert!(!listed.is_usable(SystemTime::now() + Duration::from_secs(1)));
    assert_eq!(
        standin.join_with_key("a", key.key.expose()),
        Err("authkey expired".to_owned())
    );
    client.expire_preauth_key(9_999).unwrap();
    client.delete_preauth_key(key.id).unwrap();
    assert_eq!(client.list_preauth_keys().unwrap(), vec![]);
}

#[test]
fn a_device_joining_with_a_key_while_advertising_tags_is_refused_as_headscale_0_29_2_refuses_it() {
    let standin = Standin::start(API_KEY);
    let alice = standin.add_user("alice");
    let client = client(&standin);
    let key = client
        .create_preauth_key(&NewPreAuthKey::for_device(
            &device("laptop", "alice", &[]),
            alice,
            SystemTime::now() + DAY,
        ))
        .unwrap();
    assert_eq!(
        standin.join_advertising("laptop", key.key.expose(), &["tag:server", "tag:laptop"]),
        Err("handling register with auth key: creating new node: requested tags [tag:server tag:laptop] are invalid or not permitted".to_owned())
    );
    assert_eq!(standin.nodes(), Vec::<serde_json::Value>::new(), "no node");
    assert!(!client.list_preauth_keys().unwrap()[0].used, "key unused");
    // The key is checked first: an unknown key is refused as such.
    assert_eq!(
        standin.join_advertising("laptop", "hskey-auth-nosuchkey00-0", &["tag:server"]),
        Err("invalid authkey".to_owned())
    );
    // Without advertising tags the same single-use key joins.
    let node = standin.join_with_key("laptop", key.key.expose()).unwrap();
    assert_eq!(client.get_node(node).unwrap().tags, Vec::<String>::new());
}

#[test]
fn a_wrong_api_key_is_rejected_with_the_fix_and_changes_nothing() {
    let standin = Standin::start(API_KEY);
    let wrong = Client::new(
        &standin.url,
        ApiKey::new("hskey-api-wrong-SECRETVALUE", REFERENCE),
    )
    .unwrap();
    let error = wrong
        .create_user(&NewUser::of(&spec_user("alice")))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "the Headscale API key in `env:HEADSCALE_API_KEY` was rejected by {} (HTTP 401): create one with `headscale apikeys create` and store it there",
            standin.url
        )
    );
    assert!(!format!("{error:?}").contains("SECRETVALUE"));
    assert!(matches!(
        wrong.list_preauth_keys(),
        Err(Error::Unauthorized { status: 401, .. })
    ));
    assert!(matches!(
        wrong.set_policy("{}"),
        Err(Error::Unauthorized { .. })
    ));
    assert_eq!(standin.users(), Vec::<String>::new());
    assert_eq!(standin.policy(), None);
    // `/health` needs no key.
    wrong.health().unwrap();
}

#[test]
fn a_stopped_headscale_is_reported_as_not_running() {
    let url = {
        let standin = Standin::start(API_KEY);
        standin.url.clone()
    };
    let client = Client::new(&url, ApiKey::new(API_KEY, REFERENCE)).unwrap();
    let error = client.list_users().unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Headscale is not running at {url} (connection refused): start it (`privai apply` on its host) or check `headscale.server_url` and `headscale.listen_addr`"
        )
    );
}

#[test]
fn unknown_nodes_and_endpoints_are_not_found() {
    let standin = Standin::start(API_KEY);
    let client = client(&standin);
    let error = client.get_node(999).unwrap_err();
    assert!(matches!(&error, Error::NotFound { message, .. } if message == "node not found"));
    assert_eq!(
        error.to_string(),
        format!(
            "GET /api/v1/node/999 on {}: not found: node not found",
            standin.url
        )
    );
    assert!(matches!(
        client.set_node_tags(999, &["tag:x".to_owned()]),
        Err(Error::NotFound { .. })
    ));
    // A base URL with a path Headscale does not serve.
    let elsewhere = Client::new(
        &format!("{}/headscale", standin.url),
        ApiKey::new(API_KEY, REFERENCE),
    )
    .unwrap();
    let error = elsewhere.list_users().unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

#[test]
fn nodes_are_listed_by_user_with_tags_and_addresses_and_tags_are_set() {
    let standin = Standin::start(API_KEY);
    standin.add_user("alice");
    standin.add_user("bob");
    let client = client(&standin);
    let laptop = standin.join("laptop", "alice", &[]);
    standin.join("phone", "bob", &[]);
    standin.set_online(laptop, false);

    let alices = client.list_nodes(Some("alice")).unwrap();
    assert_eq!(alices.len(), 1);
    let node = &alices[0];
    assert_eq!(
        (
            node.name.as_str(),
            node.given_name.as_str(),
            node.owner(),
            node.online
        ),
        ("laptop", "laptop", Some("alice"), false)
    );
    assert_eq!(node.ip_addresses.len(), 2);
    assert_eq!(client.list_nodes(None).unwrap().len(), 2);
    assert_eq!(client.list_nodes(Some("nobody")).unwrap(), vec![]);

    let devices = [device("laptop", "alice", &["tag:work"])];
    let changes = tag_changes(
        &devices,
        &client.list_nodes(None).unwrap(),
        &KeyRecords::new(),
    );
    assert_eq!(
        changes,
        vec![TagChange::Set {
            node: laptop,
            device: "laptop".to_owned(),
            tags: vec!["tag:work".to_owned()],
        }]
    );
    let tagged = client
        .set_node_tags(laptop, &["tag:work".to_owned()])
        .unwrap();
    assert_eq!(tagged.tags, ["tag:work"]);
    assert!(tagged.is_tagged());
    assert_eq!(
        tag_changes(
            &devices,
            &client.list_nodes(None).unwrap(),
            &KeyRecords::new()
        ),
        vec![]
    );
    let error = client.set_node_tags(laptop, &[]).unwrap_err();
    assert!(matches!(error, Error::Api { status: 400, .. }), "{error:?}");
}

#[test]
fn a_user_who_owns_nodes_is_kept_and_headscale_refuses_to_delete_it() {
    let standin = Standin::start(API_KEY);
    standin.add_user("alice");
    standin.add_user("bob");
    standin.add_user("carol");
    standin.join("bobs-laptop", "bob", &[]);
    let client = client(&standin);
    let users = client.list_users().unwrap();
    let nodes = client.list_nodes(None).unwrap();
    let spec = [spec_user("alice")];

    let decided = users_to_delete(&spec, &users, &nodes, true);
    let deleted: Vec<_> = decided.delete.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(deleted, ["carol"]);
    assert_eq!(decided.kept.len(), 1);
    assert_eq!(decided.kept[0].0.name, "bob");
    assert_eq!(
        decided.kept[0].1,
        Kept::OwnsNodes(vec!["bobs-laptop".to_owned()])
    );
    assert!(
        users_to_delete(&spec, &users, &nodes, false)
            .delete
            .is_empty()
    );

    for user in &decided.delete {
        client.delete_user(user.id).unwrap();
    }
    assert_eq!(standin.users(), ["alice", "bob"]);
    let bob = users.iter().find(|u| u.name == "bob").unwrap();
    let error = client.delete_user(bob.id).unwrap_err();
    assert!(
        matches!(&error, Error::Api { status: 500, message, .. } if message == "user not empty: node(s) found"),
        "{error:?}"
    );
}

#[test]
fn the_policy_round_trips_and_headscales_refusals_are_carried_verbatim() {
    let standin = Standin::start(API_KEY);
    let client = client(&standin);
    // A database that never held a policy answers HTTP 500 `acl policy not
    // found`: no policy.
    let raw = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/api/v1/policy", standin.url))
        .bearer_auth(API_KEY)
        .send()
        .unwrap();
    assert_eq!(raw.status(), 500);
    assert!(raw.text().unwrap().contains("acl policy not found"));
    assert_eq!(client.get_policy().unwrap().policy, "");

    let policy = r#"{"tagOwners":{"tag:server":["alice@"]},"acls":[{"action":"accept","src":["alice@"],"dst":["tag:server:22"]}]}"#;
    client.check_policy(policy).unwrap();
    assert_eq!(standin.policy(), None, "a check sets nothing");
    let set = client.set_policy(policy).unwrap();
    assert_eq!(set.policy, policy);
    assert!(set.updated_at.is_some());
    assert_eq!(client.get_policy().unwrap().policy, policy);

    let error = client.set_policy(r#"{"postures":{}}"#).unwrap_err();
    assert!(
        matches!(&error, Error::PolicyRejected { message } if message == r#"unknown field: "postures""#),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        r#"Headscale rejected the policy: unknown field: "postures""#
    );

    let failing = "test(s) failed: alice@ -> tag:server:22: expected accept, got deny";
    standin.reject_policies(Some(failing));
    let error = client.check_policy(policy).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("Headscale rejected the policy: {failing}")
    );
    assert!(matches!(
        client.set_policy("{}"),
        Err(Error::PolicyRejected { .. })
    ));
    assert_eq!(
        standin.policy().as_deref(),
        Some(policy),
        "a refused policy is not set"
    );
}

#[test]
fn a_policy_in_file_mode_cannot_be_set_through_the_api() {
    let standin = Standin::start(API_KEY);
    standin.use_policy_file("{}\n");
    let client = client(&standin);
    assert_eq!(client.get_policy().unwrap().policy, "{}\n");
    let error = client.set_policy("{}").unwrap_err();
    assert_eq!(
        error.to_string(),
        "Headscale keeps its policy in a file, so the API cannot set it (update is disabled for modes other than 'database'): set `headscale.policy_mode = 'database` in the spec and apply it"
    );
    client.check_policy("{}").unwrap();
}

#[test]
fn every_request_went_to_the_documented_paths() {
    let standin = Standin::start(API_KEY);
    let alice = standin.add_user("alice@example.org");
    let client = client(&standin);
    client.list_nodes(Some("alice@example.org")).unwrap();
    client
        .create_preauth_key(&NewPreAuthKey::for_device(
            &device("a", "alice@example.org", &[]),
            alice,
            SystemTime::now() + DAY,
        ))
        .unwrap();
    client.expire_preauth_key(1).unwrap();
    client.delete_preauth_key(1).unwrap();
    client.get_policy().unwrap();
    let log: Vec<_> = standin
        .log()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        log,
        [
            "GET /api/v1/node?user=alice%40example.org",
            "POST /api/v1/preauthkey",
            "POST /api/v1/preauthkey/expire",
            "DELETE /api/v1/preauthkey?id=1",
            "GET /api/v1/policy",
        ]
    );
}

/// The host of `server_url` in the TLS tests: the seed's. It is never
/// looked up: the client connects to 127.0.0.1 ([`Builder::resolve_to`]).
///
/// [`Builder::resolve_to`]: privai::api::headscale::Builder::resolve_to
const TLS_HOST: &str = "headscale.home.arpa";

/// A self-signed certificate for `host` (its subject alternative name and
/// common name) and its private key, both PEM: what `headscale.tls.cert_path`
/// and `key_path` hold in `'self_signed` mode, as `openssl req -x509
/// -subj /CN=HOST -addext subjectAltName=DNS:HOST` makes them (privai
/// makes its own when neither file exists: see
/// [`apply_makes_the_self_signed_pair_headscale_serves_and_keeps_it`]).
fn self_signed(host: &str) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![host.to_owned()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, host);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// A client of `https://headscale.home.arpa:PORT` (the stand-in's port),
/// connected on 127.0.0.1, trusting the certificate `trusted` (PEM) besides
/// the public roots: as `observe` builds it in `'self_signed` mode.
fn tls_client(standin: &Standin, trusted: &str) -> Client {
    Client::builder(
        &format!("https://{TLS_HOST}:{}", standin.port()),
        ApiKey::new(API_KEY, REFERENCE),
    )
    .root_certificate_pem(trusted)
    .resolve_to(IpAddr::from([127, 0, 0, 1]))
    .build()
    .unwrap()
}

#[test]
fn over_tls_the_self_signed_certificate_is_trusted_and_the_loopback_listener_answers() {
    let (cert, key) = self_signed(TLS_HOST);
    let standin = Standin::start_tls(API_KEY, &cert, &key);
    standin.add_user("alice");
    let client = tls_client(&standin, &cert);
    assert_eq!(
        client.url(),
        format!("https://{TLS_HOST}:{}", standin.port())
    );

    client.health().unwrap();
    let users = client.list_users().unwrap();
    assert_eq!(
        users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["alice"]
    );
    client.create_user(&NewUser::of(&spec_user("bob"))).unwrap();
    assert_eq!(standin.users(), ["alice", "bob"]);

    // Every request came over TLS, for the name of `server_url` (SNI).
    let log = standin.log();
    assert_eq!(
        log.iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>(),
        ["GET /health", "GET /api/v1/user", "POST /api/v1/user"]
    );
    let tls = Tls {
        server_name: Some(TLS_HOST.to_owned()),
        version: "TLSv1_3".to_owned(),
    };
    for request in &log {
        assert_eq!(request.tls.as_ref(), Some(&tls), "{request:?}");
    }
}

#[test]
fn another_self_signed_certificate_is_refused_naming_the_fix_before_the_key_is_sent() {
    let (served, key) = self_signed(TLS_HOST);
    let standin = Standin::start_tls(API_KEY, &served, &key);
    // The same name, another key: a certificate made again, on one side only.
    let (trusted, _) = self_signed(TLS_HOST);
    let error = tls_client(&standin, &trusted).list_users().unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "Headscale at https://{TLS_HOST}:{} presented a TLS certificate privai does not trust (invalid peer certificate: BadSignature): with `headscale.tls.mode = 'self_signed` privai trusts only the certificate at `headscale.tls.cert_path`, so Headscale must serve that file (restart it after replacing the file) and the certificate must name the host of `headscale.server_url`",
            standin.port()
        )
    );
    assert_eq!(standin.log(), vec![], "no request got through");
}

#[test]
fn a_trusted_certificate_for_another_host_is_refused_naming_both_names() {
    let (cert, key) = self_signed("hs.example.org");
    let standin = Standin::start_tls(API_KEY, &cert, &key);
    let error = tls_client(&standin, &cert).health().unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(r#"(invalid peer certificate: certificate not valid for name "headscale.home.arpa"; certificate is only valid for DnsName("hs.example.org"))"#),
        "{message}"
    );
    assert!(
        message.ends_with("the certificate must name the host of `headscale.server_url`"),
        "{message}"
    );
    assert_eq!(standin.log(), vec![], "no request got through");
}

#[test]
fn plan_observes_a_self_signed_headscale_over_tls_with_the_certificate_at_cert_path() {
    use crate::apply::{HEADSCALE_KEY, Seed, stdout};
    use crate::tools::{repo, show};
    let (cert, key) = self_signed(TLS_HOST);
    let mut seed = Seed::new();
    seed.headscale = Standin::start_tls(HEADSCALE_KEY, &cert, &key);
    seed.headscale.add_user("user1");
    // The seed as it is (`'self_signed`, `cert_path =
    // "/etc/privai/tls/headscale.crt"`), on the stand-ins' ports; observe
    // reads the certificate from the staged install under `--root`.
    let port = seed.headscale.port();
    let ollama = seed.ollama.url.rsplit(':').next().unwrap();
    let spec = seed.dir.path().join("tls.ncl");
    std::fs::write(
        &spec,
        format!(
            "(import \"{}\") & {{\n  headscale.server_url | force = \"https://{TLS_HOST}:{port}\",\n  headscale.listen_addr | force = \"0.0.0.0:{port}\",\n  headscale.api_key | force = \"env:PRIVAI_TEST_HS_KEY\",\n  ollama.port | force = {ollama},\n  openclaw.port | force = {},\n}}\n",
            crate::tools::importable(seed.dir.path(), &repo("examples/seed-home.ncl")),
            seed.gateway.port
        ),
    )
    .unwrap();
    let installed = seed
        .root()
        .join("openclaw-server/etc/privai/tls/headscale.crt");
    std::fs::create_dir_all(installed.parent().unwrap()).unwrap();
    std::fs::write(&installed, &cert).unwrap();

    let plan = seed.plan(&spec);
    assert_eq!(plan.status.code(), Some(2), "{}", show(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains("+ headscale user openclaw-server:user2"),
        "{text}"
    );
    assert!(
        !text.contains("headscale user openclaw-server:user1"),
        "user1 was read from the stand-in: {text}"
    );
    let log = seed.headscale.log();
    assert_eq!(
        log.iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>(),
        [
            "GET /health",
            "GET /api/v1/user",
            "GET /api/v1/preauthkey",
            "GET /api/v1/node",
        ]
    );
    for request in &log {
        let tls = request.tls.as_ref();
        assert_eq!(
            tls.and_then(|t| t.server_name.as_deref()),
            Some(TLS_HOST),
            "{request:?}"
        );
    }

    // Another certificate at cert_path: an error naming the fix, not a
    // Headscale taken for "not running yet" and a plan recreating users.
    let (other, _) = self_signed(TLS_HOST);
    std::fs::write(&installed, &other).unwrap();
    let plan = seed.plan(&spec);
    assert_eq!(plan.status.code(), Some(1), "{}", show(&plan));
    let err = String::from_utf8_lossy(&plan.stderr);
    assert!(
        err.contains("presented a TLS certificate privai does not trust")
            && err.contains("nothing was changed"),
        "{err}"
    );
}

#[test]
fn apply_makes_the_self_signed_pair_headscale_serves_and_keeps_it() {
    use crate::apply::{privai, stdout};
    use crate::tools::{repo, show};
    use std::ffi::OsStr;
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    // The seed as written: `'self_signed`, cert and key under /etc/privai/tls.
    let apply = || {
        privai(
            [
                OsStr::new("apply"),
                repo("examples/seed-home.ncl").as_os_str(),
                "--root".as_ref(),
                root.as_os_str(),
                "--auto-approve".as_ref(),
            ],
            &[],
        )
    };
    let out = apply();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        stdout(&out).contains(
            "a new key, with a self-signed certificate for headscale.home.arpa at /etc/privai/tls/headscale.crt"
        ),
        "{}",
        show(&out)
    );
    let tls = root.join("openclaw-server/etc/privai/tls");
    let mode = |name: &str| {
        std::fs::metadata(tls.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(
        (mode("headscale.key"), mode("headscale.crt")),
        (0o600, 0o644)
    );
    let cert = std::fs::read_to_string(tls.join("headscale.crt")).unwrap();
    let key = std::fs::read_to_string(tls.join("headscale.key")).unwrap();
    assert!(!stdout(&out).contains(key.trim()), "the key was printed");

    // The pair works: a Headscale serving it is trusted by privai's client
    // for the name of `server_url`.
    let standin = Standin::start_tls(API_KEY, &cert, &key);
    tls_client(&standin, &cert).health().unwrap();

    // Kept: a second apply changes nothing.
    let again = apply();
    assert_eq!(
        stdout(&again),
        "No changes. Your system matches the spec.\n",
        "{}",
        show(&again)
    );
    assert_eq!(
        std::fs::read_to_string(tls.join("headscale.key")).unwrap(),
        key
    );

    // Half a pair is never completed by replacing the other half.
    std::fs::remove_file(tls.join("headscale.crt")).unwrap();
    let plan = privai(
        [
            OsStr::new("plan"),
            repo("examples/seed-home.ncl").as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ],
        &[],
    );
    let text = stdout(&plan);
    assert!(
        text.contains(
            "`/etc/privai/tls/headscale.key` exists but `/etc/privai/tls/headscale.crt` does not"
        ),
        "{text}"
    );
    assert!(text.contains("No changes."), "{text}");
}

/// `METHOD /api/v1/PATH` with `body`: the status and the body's text.
fn raw(standin: &Standin, method: &str, path: &str, body: serde_json::Value) -> (u16, String) {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let answer = client
        .request(method, format!("{}/api/v1/{path}", standin.url))
        .bearer_auth(API_KEY)
        .json(&body)
        .send()
        .unwrap();
    (answer.status().as_u16(), answer.text().unwrap())
}

#[test]
fn the_standin_refuses_what_headscale_0_29_2_refuses_with_its_status_codes() {
    let standin = Standin::start(API_KEY);
    let alice = standin.add_user("alice");
    // Policy tests whose source has no (untagged) node: check 400, set 500.
    let tested = r#"{"tagOwners":{"tag:work":["alice@"]},"acls":[{"action":"accept","src":["alice@"],"dst":["*:22"]}],"tests":[{"src":"alice@","accept":["10.0.0.1:22"]}]}"#;
    let (status, text) = raw(&standin, "POST", "policy/check", json!({"policy": tested}));
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains(r#"source \"alice@\" resolved to no IP addresses"#),
        "{text}"
    );
    let (status, text) = raw(&standin, "PUT", "policy", json!({"policy": tested}));
    assert_eq!(status, 500, "{text}");
    assert_eq!(standin.policy(), None, "a refused policy is not set");
    // A tag outside the live policy's tagOwners: 400.
    let untagged = r#"{"acls":[{"action":"accept","src":["alice@"],"dst":["*:22"]}]}"#;
    let (status, text) = raw(&standin, "PUT", "policy", json!({"policy": untagged}));
    assert_eq!(status, 200, "{text}");
    let (status, text) = raw(
        &standin,
        "POST",
        "preauthkey",
        json!({"user": alice, "aclTags": ["tag:work"], "expiration": "2099-01-01T00:00:00Z"}),
    );
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("requested tags [tag:work] are invalid or not permitted"),
        "{text}"
    );
    // Once alice has a node, the same policy is taken, and its tag with it.
    let laptop = standin.join("laptop", "alice", &[]);
    let (status, text) = raw(&standin, "PUT", "policy", json!({"policy": tested}));
    assert_eq!(status, 200, "{text}");
    let (status, text) = raw(
        &standin,
        "POST",
        "preauthkey",
        json!({"user": alice, "aclTags": ["tag:work"], "expiration": "2099-01-01T00:00:00Z"}),
    );
    assert_eq!(status, 200, "{text}");
    // Upper-case tags: 400 on a key, 500 on a node's tags.
    let (status, text) = raw(
        &standin,
        "POST",
        "preauthkey",
        json!({"user": alice, "aclTags": ["tag:Work"], "expiration": "2099-01-01T00:00:00Z"}),
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("tag should be lowercase"), "{text}");
    let (status, text) = raw(
        &standin,
        "POST",
        &format!("node/{laptop}/tags"),
        json!({"tags": ["tag:Work"]}),
    );
    assert_eq!(status, 500, "{text}");
    assert!(text.contains("tag should be lowercase"), "{text}");
}
