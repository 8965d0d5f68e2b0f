//! Who can join the real tailnet: only devices of the spec, with the key
//! privai made for them while they are in it.

use super::Tailnet;
use crate::tools::show;

#[test]
fn a_device_removed_from_the_spec_cannot_join_with_its_key_a_stranger_cannot_join_and_a_re_added_device_can()
 {
    let mut tailnet = Tailnet::seed("database");
    let spec = tailnet.spec.clone();
    tailnet.apply(&spec);
    let old = tailnet.key_of("laptop");
    let without = tailnet.seed_with(&["phone", "desktop"]);
    let removed = tailnet.apply(&without);
    assert!(removed.contains("the device left the spec"), "{removed}");
    let refused = tailnet.try_join("laptop", &old);
    assert!(
        !refused.status.success() && show(&refused).contains("authkey expired"),
        "the removed laptop joined with its old key: {}",
        show(&refused)
    );
    // A key of the right shape privai never made: the phone's, its last
    // character changed.
    let mut forged = tailnet.key_of("phone");
    let last = forged.pop().unwrap();
    forged.push(if last == 'a' { 'b' } else { 'a' });
    let stranger = tailnet.try_join("phone", &forged);
    assert!(
        !stranger.status.success(),
        "a made-up key joined: {}",
        show(&stranger)
    );
    // The laptop starts afresh (a tailscaled that was refused keeps
    // retrying with its old key).
    tailnet.nodes.remove("laptop");
    let readded = tailnet.apply(&spec);
    let new = tailnet.key_of("laptop");
    assert_ne!(new, old, "{readded}");
    tailnet.join("laptop");
    let nodes = tailnet.headscale_nodes();
    assert_eq!(
        nodes.keys().map(String::as_str).collect::<Vec<_>>(),
        ["laptop"]
    );
    eprintln!(
        "removed laptop refused: {}; stranger refused: {}",
        String::from_utf8_lossy(&refused.stderr).trim(),
        String::from_utf8_lossy(&stranger.stderr).trim()
    );
}
