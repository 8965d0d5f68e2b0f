//! Headscale hands out tailnet addresses itself, in the order nodes join:
//! a host or device that did not get its `tailnet_ip` is named in the
//! policy by the address it has, and the plan says so.

use super::Tailnet;
use crate::tools::show;
use std::net::SocketAddr;
use std::time::Duration;

#[test]
fn when_a_phone_joins_before_the_server_the_policy_follows_the_servers_real_address() {
    let mut tailnet = Tailnet::seed("database");
    let spec = tailnet.spec.clone();
    tailnet.apply(&spec);
    tailnet.join("phone");
    tailnet.join_server();
    let phone = tailnet.nodes["phone"].address();
    let server = tailnet.nodes["openclaw-server"].address();
    assert_eq!(phone.to_string(), "100.64.0.1", "the first address");
    let out = tailnet.privai("plan", &spec, &[]);
    let text = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    let expected = format!(
        "`openclaw-server` is on the tailnet at {server}, not at its `tailnet_ip` 100.64.0.1, which `phone` holds: the policy names `openclaw-server` by {server}"
    );
    assert!(
        text.contains(&expected),
        "{expected}\nnot in: {}",
        show(&out)
    );
    tailnet.apply(&spec);
    let policy = tailnet.headscale.cli(&tailnet.server, &["policy", "get"]);
    assert!(
        policy.contains(&format!("\"openclaw-server\": \"{server}\"")),
        "{policy}"
    );
    // The laptop (user2, trusted) reaches the gateway's port at the
    // server's real address; nothing of the server's is at the phone's.
    tailnet.join("laptop");
    tailnet.server.listen_at(server, 18789);
    let laptop = &tailnet.nodes["laptop"].host;
    let gateway = SocketAddr::from((server, 18789));
    let reached = (0..40).any(|_| {
        laptop.connects(gateway, Duration::from_secs(1))
            || (std::thread::sleep(Duration::from_millis(300)), false).1
    });
    assert!(reached, "the laptop did not reach {gateway}");
}
