//! Key rotation (`privai rotate-keys`): which keys are due, as actions the
//! apply engine carries out journaled, like any apply — so a crash midway
//! leaves a working key on record, and a gateway that fails its health
//! check with a new token gets the old one back.
//!
//! - A pre-auth key of a device that has not joined is replaced before it
//!   expires: a new key is created (and recorded) first, the old one is
//!   expired after.
//! - A reusable key is replaced once it is older than the rotation
//!   interval (`monitoring.key_rotation.interval_days`).
//! - The gateway token privai generated is replaced once it is older than
//!   the interval, and the gateway restarted with it and health-checked.
//!
//! Pure: the ages of files come in [`Facts`].

use super::{Action, HeadscaleAction, SecretAction, ServiceAction};
use crate::observe::headscale::PreAuthKey;
use crate::observe::live::HeadscaleState;
use crate::observe::{FileKey, Observed};
use crate::plan::headscale::device_node;
use crate::render::secrets::SecretSource;
use crate::render::{Rendered, ServiceId};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// A day.
pub const DAY: Duration = Duration::from_secs(86_400);

/// What rotation needs besides the observed system.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Now.
    pub now: SystemTime,
    /// When each secret file was last written.
    pub written: BTreeMap<FileKey, SystemTime>,
    /// Days between rotations.
    pub interval_days: u32,
}

/// One key considered, and what rotation does about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What it is, e.g. `pre-auth key of laptop`.
    pub key: String,
    /// Whether it is replaced now.
    pub due: bool,
    /// Why, in words.
    pub why: String,
}

/// The rotation: its actions and a verdict on every key considered.
#[derive(Debug, Clone, Default)]
pub struct Rotation {
    /// What to do, in order.
    pub actions: Vec<Action>,
    /// Every key considered, due or not.
    pub verdicts: Vec<Verdict>,
}

/// How long before it expires an unused key is replaced: two days, or
/// half its lifetime when that is shorter.
fn renew_within(lifetime_days: u32) -> Duration {
    (DAY * lifetime_days / 2).min(DAY * 2)
}

fn days(d: Duration) -> String {
    let hours = d.as_secs() / 3600;
    if hours < 48 {
        format!("{hours} h")
    } else {
        format!("{} days", hours / 24)
    }
}

/// The keys of `desired` due for rotation on `observed`.
pub fn rotation(desired: &Rendered, observed: &Observed, facts: &Facts) -> Rotation {
    let mut out = Rotation::default();
    pre_auth_keys(desired, observed, facts, &mut out);
    gateway_token(desired, observed, facts, &mut out);
    out
}

fn pre_auth_keys(desired: &Rendered, observed: &Observed, facts: &Facts, out: &mut Rotation) {
    let Some(control) = &desired.control else {
        return;
    };
    let HeadscaleState::Running { keys, nodes, .. } = &observed.headscale else {
        return;
    };
    let interval = DAY * facts.interval_days;
    out.actions.extend(
        crate::plan::headscale::retired_expiries(
            &control.host,
            &observed.retired_keys,
            keys,
            facts.now,
        )
        .into_iter()
        .map(Action::Headscale),
    );
    for device in &control.devices {
        let Some(&id) = observed.key_records.get(&device.name) else {
            continue;
        };
        let what = format!("pre-auth key of {}", device.name);
        let Some(key) = keys.iter().find(|k| k.id == id) else {
            out.verdicts.push(Verdict {
                key: what,
                due: false,
                why: "Headscale no longer lists it: `privai apply` makes a new one".to_owned(),
            });
            continue;
        };
        let joined = device_node(device, nodes, Some(id)).is_some();
        let verdict = judge(key, joined, control.key_expiry_days, interval, facts.now);
        if verdict.0 {
            out.actions
                .push(Action::Headscale(HeadscaleAction::CreateKey {
                    host: control.host.clone(),
                    device: device.name.clone(),
                    user: device.user.clone(),
                    tags: crate::plan::headscale::normalized_tags(&device.tags),
                    ephemeral: device.ephemeral,
                    reusable: device.reusable,
                    expiry_days: control.key_expiry_days,
                }));
            out.actions
                .push(Action::Headscale(HeadscaleAction::ExpireKey {
                    host: control.host.clone(),
                    device: device.name.clone(),
                    key: id,
                    reason: "replaced by a rotation".to_owned(),
                }));
        }
        out.verdicts.push(Verdict {
            key: what,
            due: verdict.0,
            why: verdict.1,
        });
    }
}

/// Whether `key` is due, and why: an unused key (or a reusable one, which
/// must never lapse) before it expires; a reusable key also once it is
/// older than the interval.
fn judge(
    key: &PreAuthKey,
    joined: bool,
    lifetime_days: u32,
    interval: Duration,
    now: SystemTime,
) -> (bool, String) {
    if !key.is_usable(now) {
        return (
            false,
            "it no longer registers nodes: `privai apply` replaces it".to_owned(),
        );
    }
    if !key.reusable && joined {
        return (false, "its device has joined with it".to_owned());
    }
    let kind = if key.reusable {
        "reusable"
    } else {
        "its device has not joined"
    };
    let left = key
        .expiration
        .and_then(|at| at.0.duration_since(now).ok())
        .unwrap_or_default();
    if left <= renew_within(lifetime_days) {
        return (true, format!("{kind} and it expires in {}", days(left)));
    }
    if key.reusable {
        let age = key
            .created_at
            .and_then(|at| now.duration_since(at.0).ok())
            .unwrap_or_default();
        if age >= interval {
            return (
                true,
                format!(
                    "reusable, {} old; reusable keys are replaced every {}",
                    days(age),
                    days(interval)
                ),
            );
        }
        return (
            false,
            format!(
                "reusable, {} old; replaced once {} old, or {} before it expires in {}",
                days(age),
                days(interval),
                days(renew_within(lifetime_days)),
                days(left)
            ),
        );
    }
    (
        false,
        format!(
            "{kind}; it expires in {}, replaced {} before",
            days(left),
            days(renew_within(lifetime_days))
        ),
    )
}

/// Whether the Headscale API key privai uses is due: once older than the
/// interval. `created` is when Headscale made it (`None`: unknown, as for a
/// key Headscale does not list).
pub fn api_key(created: Option<SystemTime>, now: SystemTime, interval_days: u32) -> Verdict {
    let interval = DAY * interval_days;
    let key = "Headscale API key".to_owned();
    let Some(created) = created else {
        return Verdict {
            key,
            due: false,
            why: "Headscale does not list it with a creation time".to_owned(),
        };
    };
    let age = now.duration_since(created).unwrap_or_default();
    if age >= interval {
        Verdict {
            key,
            due: true,
            why: format!(
                "{} old; replaced every {}, the old one expired once the new one works",
                days(age),
                days(interval)
            ),
        }
    } else {
        Verdict {
            key,
            due: false,
            why: format!("{} old; replaced once {} old", days(age), days(interval)),
        }
    }
}

fn gateway_token(desired: &Rendered, observed: &Observed, facts: &Facts, out: &mut Rotation) {
    let Some(secret) = desired
        .secrets
        .iter()
        .find(|s| s.name == "openclaw.gateway_token")
    else {
        return;
    };
    let what = "gateway token".to_owned();
    if secret.source != SecretSource::Generate {
        out.verdicts.push(Verdict {
            key: what,
            due: false,
            why: "it comes from outside privai (`env:`): rotate it at its source".to_owned(),
        });
        return;
    }
    let key = FileKey::new(&secret.host, &secret.path);
    let old = observed
        .secrets
        .get(&key)
        .and_then(|state| state.file.as_ref())
        .map(|(sha, _)| sha.clone());
    let (Some(old), Some(written)) = (old, facts.written.get(&key)) else {
        out.verdicts.push(Verdict {
            key: what,
            due: false,
            why: "it is not written yet: `privai apply` writes it".to_owned(),
        });
        return;
    };
    let interval = DAY * facts.interval_days;
    let age = facts.now.duration_since(*written).unwrap_or_default();
    if age < interval {
        out.verdicts.push(Verdict {
            key: what,
            due: false,
            why: format!("{} old; replaced once {} old", days(age), days(interval)),
        });
        return;
    }
    out.actions.push(Action::Secret(SecretAction::Write {
        secret: secret.clone(),
        old_sha256: Some(old),
        new_sha256: None,
    }));
    if let Some(unit) = desired
        .services
        .iter()
        .find(|u| u.id == ServiceId::Gateway && u.host == secret.host)
    {
        out.actions.push(Action::Service(ServiceAction::Restart {
            unit: unit.clone(),
            because: vec![secret.path.clone()],
        }));
    }
    out.verdicts.push(Verdict {
        key: what,
        due: true,
        why: format!(
            "{} old; replaced every {}, the gateway restarted with it",
            days(age),
            days(interval)
        ),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::headscale::Timestamp;

    fn key(reusable: bool, used: bool, created_days_ago: u64, expires_in_hours: u64) -> PreAuthKey {
        let now = now();
        PreAuthKey {
            id: 7,
            user: None,
            key: Default::default(),
            reusable,
            ephemeral: false,
            used,
            expiration: Some(Timestamp(
                now + Duration::from_secs(3600 * expires_in_hours),
            )),
            created_at: Some(Timestamp(now - DAY * created_days_ago as u32)),
            acl_tags: vec![],
        }
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + DAY * 20_000
    }

    #[test]
    fn an_unused_key_is_replaced_within_two_days_of_its_expiry() {
        let interval = DAY * 30;
        let (due, why) = judge(&key(false, false, 6, 47), false, 7, interval, now());
        assert!(due, "{why}");
        assert_eq!(why, "its device has not joined and it expires in 47 h");
        let (due, why) = judge(&key(false, false, 1, 24 * 6), false, 7, interval, now());
        assert!(!due);
        assert_eq!(
            why,
            "its device has not joined; it expires in 6 days, replaced 2 days before"
        );
    }

    #[test]
    fn a_one_day_key_is_replaced_in_the_second_half_of_its_life() {
        assert_eq!(renew_within(1), DAY / 2);
        let (due, _) = judge(&key(false, false, 0, 11), false, 1, DAY * 30, now());
        assert!(due);
        let (due, _) = judge(&key(false, false, 0, 13), false, 1, DAY * 30, now());
        assert!(!due);
    }

    #[test]
    fn a_used_or_joined_single_use_key_is_left_alone() {
        let (due, why) = judge(&key(false, false, 6, 10), true, 7, DAY * 30, now());
        assert!(!due);
        assert_eq!(why, "its device has joined with it");
        let (due, why) = judge(&key(false, true, 6, 10), false, 7, DAY * 30, now());
        assert!(!due);
        assert_eq!(
            why,
            "it no longer registers nodes: `privai apply` replaces it"
        );
    }

    #[test]
    fn the_api_key_is_replaced_once_older_than_the_interval() {
        let verdict = api_key(Some(now() - DAY * 31), now(), 30);
        assert!(verdict.due);
        assert_eq!(
            verdict.why,
            "31 days old; replaced every 30 days, the old one expired once the new one works"
        );
        assert!(!api_key(Some(now() - DAY * 29), now(), 30).due);
        assert!(!api_key(None, now(), 30).due);
    }

    #[test]
    fn a_reusable_key_is_replaced_before_it_expires_even_if_joined() {
        let (due, why) = judge(&key(true, true, 6, 20), true, 7, DAY * 30, now());
        assert!(due, "{why}");
        assert_eq!(why, "reusable and it expires in 20 h");
    }

    #[test]
    fn a_reusable_key_is_replaced_once_older_than_the_interval_even_if_joined() {
        let (due, why) = judge(&key(true, true, 31, 24 * 60), true, 90, DAY * 30, now());
        assert!(due, "{why}");
        assert_eq!(
            why,
            "reusable, 31 days old; reusable keys are replaced every 30 days"
        );
        let (due, _) = judge(&key(true, true, 29, 24 * 60), true, 90, DAY * 30, now());
        assert!(!due);
    }
}
