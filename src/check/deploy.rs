//! How privai reaches the hosts over SSH (`hosts[].deploy`).
//!
//! - PRV106: `deploy.ssh` is not a plain `[USER@]HOST`: privai hands it to
//!   `ssh` as the destination, so a leading `-` (an option), spaces or
//!   control characters must never get there.
//! - PRV107: `deploy.identity` is not a `file:PATH` reference to a key.
//! - PRV108: two hosts are deployed through the same SSH destination: both
//!   would run privai on one machine, on one state.

use crate::codes::{DEPLOY_DUPLICATE, DEPLOY_IDENTITY, DEPLOY_TARGET};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::Spec;

/// Runs this pass.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(String, Option<u16>, &str)> = Vec::new();
    for (index, host) in spec.hosts.iter().enumerate() {
        let Some(deploy) = &host.deploy else {
            continue;
        };
        let path = SpecPath::root().key("hosts").index(index).key("deploy");
        if let Err(why) = destination_problem(&deploy.ssh) {
            out.push(
                Diagnostic::error(
                    DEPLOY_TARGET,
                    format!(
                        "`deploy.ssh` of host `{}` is `{}`, which {why}",
                        host.name,
                        deploy.ssh.escape_debug()
                    ),
                )
                .at(path.clone().key("ssh"))
                .hint("write the destination as `USER@HOST` or `HOST` (a name or address, or a `Host` alias of `~/.ssh/config`); put options such as a jump host in `~/.ssh/config`"),
            );
        }
        if let Some(identity) = &deploy.identity
            && let Err(why) = identity_problem(identity)
        {
            out.push(
                Diagnostic::error(
                    DEPLOY_IDENTITY,
                    format!(
                        "`deploy.identity` of host `{}` is `{}`, which {why}",
                        host.name,
                        identity.escape_debug()
                    ),
                )
                .at(path.clone().key("identity"))
                .hint("name the private key file as `file:~/.ssh/id_ed25519` (or a path beside the spec), or leave `identity` out to let the agent and `~/.ssh/config` choose"),
            );
        }
        let key = (
            deploy.ssh.to_ascii_lowercase(),
            deploy.port,
            host.name.as_str(),
        );
        if let Some((_, _, first)) = seen.iter().find(|(d, p, _)| *d == key.0 && *p == key.1) {
            out.push(
                Diagnostic::error(
                    DEPLOY_DUPLICATE,
                    format!(
                        "hosts `{first}` and `{}` are both deployed through `{}`: privai would apply both on one machine, over one state",
                        host.name, deploy.ssh
                    ),
                )
                .at(path.key("ssh"))
                .hint("give each host the SSH destination of its own machine; a machine that runs several services is one host with several `roles`"),
            );
        } else {
            seen.push(key);
        }
    }
}

/// Why `destination` is not a plain `[USER@]HOST`, if it is not.
pub fn destination_problem(destination: &str) -> Result<(), &'static str> {
    if destination.is_empty() {
        return Err("is empty");
    }
    if destination.starts_with('-') {
        return Err("starts with `-`, which `ssh` would read as an option");
    }
    if destination
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("has a space or a control character");
    }
    let (user, host) = match destination.split_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, destination),
    };
    if let Some(user) = user
        && (user.is_empty()
            || !user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)))
    {
        return Err("has a user name that is not letters, digits, `.`, `_` or `-`");
    }
    if host.is_empty() || host.starts_with('-') {
        return Err("names no host after `@`");
    }
    // A name, an IPv4 address, or an IPv6 address (colons).
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-_:".contains(c))
    {
        return Err("has a host that is not a name or an address");
    }
    Ok(())
}

/// Why `identity` is not a `file:PATH` reference, if it is not.
fn identity_problem(identity: &str) -> Result<(), &'static str> {
    let Some(path) = identity.strip_prefix("file:") else {
        return Err("is not a `file:PATH` reference");
    };
    if path.is_empty() || path == "~" || path == "~/" {
        return Err("names no file");
    }
    if path.chars().any(char::is_control) {
        return Err("has a control character");
    }
    if path.starts_with('-') {
        return Err("starts with `-`, which `ssh` would read as an option");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::check::testing::{BASE, findings};

    fn deploy_findings(case: &str) -> Vec<(&'static str, String)> {
        findings(&format!("{BASE} & {case}"))
            .into_iter()
            .filter(|(code, _)| ["PRV106", "PRV107", "PRV108"].contains(code))
            .collect()
    }

    fn hosts(deploys: &[&str]) -> String {
        let hosts: Vec<String> = deploys
            .iter()
            .enumerate()
            .map(|(i, d)| {
                format!(
                    r#"{{ name = "h{i}", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = [{}], deploy = {d} }}"#,
                    if i == 0 { "'headscale, 'ollama" } else { "" }
                )
            })
            .collect();
        format!("{{ hosts | force = [{}] }}", hosts.join(", "))
    }

    #[test]
    fn plain_destinations_pass() {
        for ok in [
            "admin@gpu-box.home.arpa",
            "gpu-box",
            "root@172.31.250.2",
            "ops_1@fd00::1",
        ] {
            assert_eq!(super::destination_problem(ok), Ok(()), "{ok}");
        }
        let case = hosts(&[
            r#"{ ssh = "admin@gpu-box.home.arpa", port = 2222, identity = "file:~/.ssh/id_ed25519", sudo = true }"#,
            r#"{ ssh = "gw" }"#,
        ]);
        assert_eq!(deploy_findings(&case), vec![]);
    }

    #[test]
    fn a_destination_that_ssh_would_read_as_an_option_is_refused() {
        let case = hosts(&[
            r#"{ ssh = "-oProxyCommand=touch /tmp/x" }"#,
            r#"{ ssh = "admin@box; rm -rf /" }"#,
            r#"{ ssh = "ad$min@box" }"#,
        ]);
        assert_eq!(
            deploy_findings(&case),
            vec![
                ("PRV106", "hosts[0].deploy.ssh".to_owned()),
                ("PRV106", "hosts[1].deploy.ssh".to_owned()),
                ("PRV106", "hosts[2].deploy.ssh".to_owned()),
            ]
        );
    }

    #[test]
    fn an_identity_must_be_a_file_reference() {
        let case = hosts(&[
            r#"{ ssh = "a@one", identity = "~/.ssh/id_ed25519" }"#,
            r#"{ ssh = "a@two", identity = "file:-oProxyCommand=x" }"#,
        ]);
        assert_eq!(
            deploy_findings(&case),
            vec![
                ("PRV107", "hosts[0].deploy.identity".to_owned()),
                ("PRV107", "hosts[1].deploy.identity".to_owned()),
            ]
        );
    }

    #[test]
    fn two_hosts_through_one_destination_are_refused() {
        let case = hosts(&[r#"{ ssh = "admin@Box" }"#, r#"{ ssh = "admin@box" }"#]);
        assert_eq!(
            deploy_findings(&case),
            vec![("PRV108", "hosts[1].deploy.ssh".to_owned())]
        );
    }
}
