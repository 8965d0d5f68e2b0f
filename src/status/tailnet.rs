//! Headscale and the devices: is it up, which devices joined and are
//! online, the keys of devices not joined yet, the policy in force.

use super::{DeviceStatus, Finding, HeadscaleStatus, KEY_WARNING, Level, Probes, restart_of};
use crate::model::Spec;
use crate::observe::Observed;
use crate::observe::live::HeadscaleState;
use crate::plan::headscale::device_node;
use crate::render::{Rendered, ServiceId};
use std::time::SystemTime;

/// Headscale's part of the report and the devices, if the spec runs Headscale.
pub(super) fn assess(
    spec: &Spec,
    desired: &Rendered,
    observed: &Observed,
    probes: &Probes,
    findings: &mut Vec<Finding>,
) -> (Option<HeadscaleStatus>, Vec<DeviceStatus>) {
    // Headscale and the devices.
    let now = probes
        .now
        .or(observed.now)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut devices = Vec::new();
    let headscale = desired.control.as_ref().map(|control| {
        let restart = restart_of(desired, ServiceId::Headscale);
        match &observed.headscale {
            HeadscaleState::Running {
                keys,
                nodes,
                policy,
                ..
            } => {
                for device in &control.devices {
                    let record = observed.key_records.get(&device.name).copied();
                    let node = device_node(device, nodes, record);
                    let status = DeviceStatus {
                        name: device.name.clone(),
                        user: device.user.clone(),
                        joined: Some(node.is_some()),
                        online: Some(node.is_some_and(|n| n.online)),
                        addresses: node.map(|n| n.ip_addresses.clone()).unwrap_or_default(),
                        last_seen: node.and_then(|n| n.last_seen).map(|t| t.rfc3339()),
                    };
                    if status.joined == Some(true) && status.online == Some(false) {
                        findings.push(Finding {
                            level: Level::Degraded,
                            problem: format!(
                                "device `{}` ({}) is off the VPN{}: it cannot reach the gateway",
                                device.name,
                                device.user,
                                status
                                    .last_seen
                                    .as_deref()
                                    .map(|t| format!(", last seen {t}"))
                                    .unwrap_or_default()
                            ),
                            fix: format!(
                                "open Tailscale on `{}` and connect; if it no longer logs in, `privai enroll {}` shows how to join it again",
                                device.name, device.name
                            ),
                        });
                    }
                    devices.push(status);
                }
                // The keys privai created for devices that have not joined yet.
                let keys_expiring: Vec<String> = devices
                    .iter()
                    .filter(|d| d.joined == Some(false))
                    .filter_map(|d| {
                        let id = observed.key_records.get(&d.name)?;
                        let key = keys.iter().find(|k| k.id == *id)?;
                        let expiry = key.expiration.map(|t| t.0).unwrap_or(SystemTime::UNIX_EPOCH);
                        (expiry <= now + KEY_WARNING).then(|| {
                            let when = crate::observe::headscale::Timestamp(expiry).rfc3339();
                            if expiry <= now {
                                format!("the key of `{}` expired {when}", d.name)
                            } else {
                                format!("the key of `{}` expires {when}", d.name)
                            }
                        })
                    })
                    .collect();
                if !keys_expiring.is_empty() {
                    findings.push(Finding {
                        level: Level::Degraded,
                        problem: format!(
                            "{} pre-auth key(s) of devices not joined yet expire within 3 days or have expired: {}",
                            keys_expiring.len(),
                            keys_expiring.join("; ")
                        ),
                        fix: "`privai apply` replaces expired keys; join the devices before then (`privai enroll DEVICE`)".into(),
                    });
                }
                let policy_is_the_spec_s = policy.as_ref().map(|p| p.trim() == control.policy.trim());
                if policy_is_the_spec_s == Some(false) {
                    findings.push(Finding {
                        level: Level::Degraded,
                        problem: "the ACL policy Headscale enforces is not the spec's".into(),
                        fix: "`privai apply` sets the spec's policy; `privai acl` shows what it allows".into(),
                    });
                }
                // Nodes that are neither a device nor a host of the spec.
                let mut matched: Vec<u64> = control
                    .devices
                    .iter()
                    .filter_map(|d| {
                        device_node(d, nodes, observed.key_records.get(&d.name).copied())
                    })
                    .map(|n| n.id)
                    .collect();
                matched.extend(
                    nodes
                        .iter()
                        .filter(|n| {
                            spec.hosts.iter().any(|h| {
                                n.name.eq_ignore_ascii_case(&h.name)
                                    || n.given_name.eq_ignore_ascii_case(&h.name)
                            })
                        })
                        .map(|n| n.id),
                );
                let unexpected: Vec<String> = nodes
                    .iter()
                    .filter(|n| !matched.contains(&n.id))
                    .map(|n| {
                        format!(
                            "{} (id {}, {})",
                            if n.given_name.is_empty() {
                                &n.name
                            } else {
                                &n.given_name
                            },
                            n.id,
                            n.owner().unwrap_or("tagged")
                        )
                    })
                    .collect();
                if !unexpected.is_empty() {
                    findings.push(Finding {
                        level: Level::Degraded,
                        problem: format!(
                            "{} node(s) on the tailnet are not in the spec: {}",
                            unexpected.len(),
                            unexpected.join(", ")
                        ),
                        fix: "if you know them, add them to `devices`; if not, remove them: `headscale nodes delete --identifier ID`".into(),
                    });
                }
                HeadscaleStatus {
                    state: "up".into(),
                    version: probes.headscale_version.clone(),
                    unexpected_nodes: unexpected,
                    nodes: nodes.len(),
                    online: nodes.iter().filter(|n| n.online).count(),
                    keys_expiring,
                    policy_is_the_spec_s,
                }
            }
            HeadscaleState::Unreachable { error, .. } => {
                findings.push(Finding {
                    level: Level::Degraded,
                    problem: format!(
                        "Headscale is down ({error}): existing connections keep working (devices talk to each other directly); new devices cannot join and keys cannot be rotated"
                    ),
                    fix: format!("restart it with `{restart}`; `privai apply` also starts it"),
                });
                devices.extend(control.devices.iter().map(|d| DeviceStatus {
                    name: d.name.clone(),
                    user: d.user.clone(),
                    joined: None,
                    online: None,
                    addresses: Vec::new(),
                    last_seen: None,
                }));
                HeadscaleStatus {
                    state: "down".into(),
                    unexpected_nodes: Vec::new(),
                    version: None,
                    nodes: 0,
                    online: 0,
                    keys_expiring: Vec::new(),
                    policy_is_the_spec_s: None,
                }
            }
            HeadscaleState::NotObserved => HeadscaleStatus {
                state: "not asked".into(),
                unexpected_nodes: Vec::new(),
                version: None,
                nodes: 0,
                online: 0,
                keys_expiring: Vec::new(),
                policy_is_the_spec_s: None,
            },
        }
    });
    (headscale, devices)
}
