//! Tags on the real Headscale: a tag must be in the live policy's
//! `tagOwners` before a key or node carries it.

use super::Tailnet;

#[test]
fn in_file_mode_a_device_with_a_new_tag_gets_its_key_once_headscale_has_reloaded_the_policy() {
    let mut tailnet = Tailnet::seed("file");
    let spec = tailnet.spec.clone();
    tailnet.apply_with(&spec, &["--adopt"]);
    let policy = tailnet.headscale.cli(&tailnet.server, &["policy", "get"]);
    assert!(!policy.contains("tag:storage"), "{policy}");
    // The new policy (with tag:storage in tagOwners) reaches Headscale by
    // a SIGHUP, which it handles asynchronously; the key for the tagged
    // device is made after it has.
    let with_nas = tailnet.seed_with(&["phone", "laptop", "desktop", "nas"]);
    let out = tailnet.apply(&with_nas);
    assert!(out.contains("pre-auth key openclaw-server:nas"), "{out}");
    tailnet.spec = with_nas;
    tailnet.join("nas");
    let nodes = tailnet.headscale_nodes();
    let tags: Vec<&str> = nodes["nas"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert_eq!(tags, ["tag:storage"], "{:#}", nodes["nas"]);
}
