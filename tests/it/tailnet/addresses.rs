//! Headscale hands out tailnet addresses itself, in the order nodes join:
//! the plan shows a host or device that did not get its `tailnet_ip`.

use super::Tailnet;
use crate::tools::show;

#[test]
fn the_plan_shows_that_the_server_did_not_get_its_tailnet_ip_because_a_phone_joined_first() {
    let mut tailnet = Tailnet::seed("database");
    let spec = tailnet.spec.clone();
    tailnet.apply(&spec);
    tailnet.join("phone");
    tailnet.join_server();
    let phone = tailnet.nodes["phone"].address();
    let server = tailnet.nodes["openclaw-server"].address();
    assert_eq!(phone.to_string(), "100.64.0.1", "the first address");
    let out = tailnet.privai("plan", &spec, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = format!(
        "`openclaw-server` is on the tailnet at {server}, not at its `tailnet_ip` 100.64.0.1: the policy's rules for `openclaw-server` reach `phone`, which holds 100.64.0.1"
    );
    assert!(
        text.replace('\n', " ").contains(&expected),
        "{expected}\nnot in: {}",
        show(&out)
    );
}
