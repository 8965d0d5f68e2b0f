//! Against the real lines in `tests/fixtures/monitor/` (see its README
//! for how each was produced).
use super::*;

const HEADSCALE: &str = include_str!("../../../tests/fixtures/monitor/headscale.log");
const OLLAMA: &str = include_str!("../../../tests/fixtures/monitor/ollama.log");
const GATEWAY_AUTH: &str = include_str!("../../../tests/fixtures/monitor/openclaw-auth.log");
const TELEGRAM: &str = include_str!("../../../tests/fixtures/monitor/openclaw-telegram.log");
const ANSI: &str = include_str!("../../../tests/fixtures/monitor/openclaw-ansi.log");

fn events(service: Service, log: &str) -> Vec<Event> {
    log.lines().filter_map(|l| parse(service, l)).collect()
}

fn entries(service: Service, log: &str) -> Vec<Entry> {
    log.lines()
        .filter_map(|l| {
            let event = parse(service, l)?;
            Some(Entry {
                service,
                at: timestamp(l).expect("every line with an event has a timestamp"),
                event,
            })
        })
        .collect()
}

fn rules() -> Alerts {
    Alerts {
        enabled: true,
        interval_minutes: 5,
        unexpected_nodes: true,
        auth_failures: crate::model::AuthFailures {
            enabled: true,
            threshold: 5,
            window_minutes: 10,
        },
        refused_senders: true,
        ollama_failures: true,
        certificate_expiry_days: 14,
        desktop: true,
        matrix_to: None,
    }
}

fn at(text: &str) -> SystemTime {
    humantime::parse_rfc3339(text).unwrap()
}

#[test]
fn headscale_lines_give_the_node_that_connected_and_each_refused_api_key() {
    let events = events(Service::Headscale, HEADSCALE);
    assert_eq!(
        events[..5]
            .iter()
            .map(|e| match e {
                Event::ApiAuthFailed { client, .. } => client.as_str(),
                other => panic!("{other:?}"),
            })
            .collect::<Vec<_>>(),
        ["127.0.0.1"; 5]
    );
    assert_eq!(
        events[0],
        Event::ApiAuthFailed {
            client: "127.0.0.1".into(),
            why: "failed to parse ApiKey: legacy prefix length mismatch".into()
        }
    );
    assert_eq!(
        events[5..],
        [Event::NodeConnected {
            node: "rogue-box".into(),
            id: Some("1".into()),
            user: Some("intruder".into()),
        }]
    );
    // The good key, the registrations and the poll line are not events.
    assert_eq!(events.len(), 6);
}

#[test]
fn ollama_lines_give_one_out_of_memory_and_the_dead_runner() {
    assert_eq!(
        events(Service::Ollama, OLLAMA),
        [
            Event::OutOfMemory {
                detail: "model requires more system memory (71.5 GiB) than is available (20.3 GiB)"
                    .into()
            },
            Event::RunnerDied {
                detail: "signal: killed".into()
            },
            Event::RunnerDied {
                detail: "signal: killed".into()
            },
        ]
    );
}

#[test]
fn openclaw_lines_give_the_refused_token_and_the_refused_sender_with_or_without_colours() {
    let refused = Event::GatewayAuthFailed {
        client: "127.0.0.1".into(),
        why: "token_mismatch".into(),
    };
    assert_eq!(
        events(Service::Gateway, GATEWAY_AUTH),
        std::slice::from_ref(&refused)
    );
    assert_eq!(events(Service::Gateway, ANSI), [refused]);
    assert_eq!(
        events(Service::Gateway, TELEGRAM),
        [Event::RefusedSender {
            channel: "telegram".into(),
            sender: "987654321".into()
        }]
    );
    assert_eq!(
        timestamp(ANSI.lines().nth(1).unwrap()),
        Some(at("2026-12-07T04:49:22.919Z"))
    );
}

#[test]
fn a_verbose_gateways_refused_connections_and_sender_are_read_too() {
    let events = events(
        Service::Gateway,
        include_str!("../../../tests/fixtures/monitor/openclaw-verbose.log"),
    );
    let refused = Event::GatewayAuthFailed {
        client: "127.0.0.1".into(),
        why: "unauthorized at auth_credentials_received".into(),
    };
    assert_eq!(events.iter().filter(|e| **e == refused).count(), 5);
    assert!(events.contains(&Event::RefusedSender {
        channel: "telegram".into(),
        sender: "987654321".into()
    }));
    assert_eq!(events.len(), 6);
}

#[test]
fn timestamps_of_each_format_and_offsets_are_read_as_utc() {
    assert_eq!(
        timestamp("2026-12-07T04:48:14Z INF node connected"),
        Some(at("2026-12-07T04:48:14Z"))
    );
    assert_eq!(
        timestamp("time=2026-12-07T04:50:32.236Z level=WARN"),
        Some(at("2026-12-07T04:50:32.236Z"))
    );
    assert_eq!(
        timestamp("2026-12-07T06:49:22.919+02:00 [ws] x"),
        Some(at("2026-12-07T04:49:22.919Z"))
    );
    assert_eq!(
        timestamp("2026-12-06T23:49:22-05:00 x"),
        Some(at("2026-12-07T04:49:22Z"))
    );
    assert_eq!(timestamp("[GIN] 2026/12/07 - 04:50:26 | 500"), None);
}

fn seed_expected() -> Expected {
    Expected {
        nodes: vec![
            ("phone".into(), Some("user1".into())),
            ("laptop".into(), Some("user2".into())),
            ("nas".into(), None),
            ("openclaw-server".into(), None),
        ],
    }
}

#[test]
fn a_node_the_spec_does_not_name_raises_one_alert_with_its_id_and_known_ones_none() {
    let mut windows = Windows::default();
    let now = at("2026-12-07T04:50:00Z");
    let alerts = alerts(
        &rules(),
        &seed_expected(),
        &entries(Service::Headscale, HEADSCALE),
        &mut windows,
    );
    let node: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.kind == Kind::UnexpectedNode)
        .collect();
    assert_eq!(node.len(), 1);
    assert_eq!(
        node[0].summary,
        "node `rogue-box` of user `intruder` connected to Headscale, but the spec has no such device"
    );
    assert!(
        node[0]
            .fix
            .contains("headscale nodes delete --identifier 1"),
        "{}",
        node[0].fix
    );
    let known = |name: &str, user: Option<&str>| Entry {
        service: Service::Headscale,
        at: now,
        event: Event::NodeConnected {
            node: name.into(),
            id: None,
            user: user.map(str::to_owned),
        },
    };
    let quiet = alerts_of(&[
        known("PHONE", Some("user1")),
        known("nas", None),
        known("openclaw-server", Some("user1")),
    ]);
    assert!(quiet.is_empty(), "{quiet:?}");
    // The spec's phone, but under another user: someone used a key of
    // theirs to take its name.
    let stolen = alerts_of(&[known("phone", Some("user2"))]);
    assert_eq!(
        stolen[0].summary,
        "node `phone` of user `user2` connected to Headscale, but the spec's `phone` belongs to another user"
    );
    let mut off = rules();
    off.unexpected_nodes = false;
    assert!(
        super::alerts(
            &off,
            &seed_expected(),
            &[known("rogue", Some("x"))],
            &mut Windows::default()
        )
        .is_empty()
    );
}

fn alerts_of(entries: &[Entry]) -> Vec<Alert> {
    alerts(&rules(), &seed_expected(), entries, &mut Windows::default())
}

#[test]
fn five_refused_api_keys_within_the_window_raise_one_alert_and_four_do_not() {
    let failures: Vec<Entry> = entries(Service::Headscale, HEADSCALE)
        .into_iter()
        .filter(|e| matches!(e.event, Event::ApiAuthFailed { .. }))
        .collect();
    assert_eq!(failures.len(), 5);
    let mut windows = Windows::default();
    let four = alerts(&rules(), &seed_expected(), &failures[..4], &mut windows);
    assert!(four.is_empty(), "{four:?}");
    // The fifth arrives in the next pass: the window carried the four.
    let five = alerts(&rules(), &seed_expected(), &failures[4..], &mut windows);
    assert_eq!(five.len(), 1);
    assert_eq!(five[0].kind, Kind::AuthFailures);
    assert!(
        five[0].summary.starts_with(
            "Headscale's API refused 5 attempts with a wrong key within 10 minutes (from 127.0.0.1)"
        ),
        "{}",
        five[0].summary
    );
    // Raised once: the burst is cleared.
    assert!(windows.failures.is_empty());
    // Failures more than the window before the newest do not count:
    // with the fifth at 04:58:05 the three of 04:48:02 are out, the one
    // of 04:48:07 is still in.
    let mut windows = Windows::default();
    alerts(&rules(), &seed_expected(), &failures[..4], &mut windows);
    let mut late = failures[4].clone();
    late.at = at("2026-12-07T04:58:05Z");
    let stale = alerts(&rules(), &seed_expected(), &[late], &mut windows);
    assert!(stale.is_empty(), "{stale:?}");
    assert_eq!(windows.failures[&Service::Headscale].len(), 2);
}

#[test]
fn a_refused_gateway_token_alerts_at_the_threshold_and_a_refused_sender_always() {
    let mut one = rules();
    one.auth_failures.threshold = 1;
    let entries: Vec<Entry> = entries(Service::Gateway, GATEWAY_AUTH)
        .into_iter()
        .chain(entries(Service::Gateway, TELEGRAM))
        .collect();
    let alerts = alerts(&one, &seed_expected(), &entries, &mut Windows::default());
    assert_eq!(
        alerts.iter().map(|a| a.kind).collect::<Vec<_>>(),
        [Kind::AuthFailures, Kind::RefusedSender]
    );
    assert_eq!(
        alerts[0].summary,
        "the gateway refused 1 attempts with a wrong key within 10 minutes (from 127.0.0.1); last: token_mismatch"
    );
    assert_eq!(
        alerts[1].summary,
        "the gateway refused 1 message from `987654321` on telegram: not in the allowlist"
    );
}

#[test]
fn ollama_out_of_memory_and_a_dead_runner_raise_one_alert_each() {
    let alerts = alerts_of(&entries(Service::Ollama, OLLAMA));
    assert_eq!(
        alerts.iter().map(|a| a.kind).collect::<Vec<_>>(),
        [Kind::OllamaOutOfMemory, Kind::OllamaCrash]
    );
    assert!(alerts[0].summary.contains("(71.5 GiB) than is available"));
    assert!(alerts[1].summary.contains("signal: killed"));
    let mut off = rules();
    off.ollama_failures = false;
    assert!(
        super::alerts(
            &off,
            &seed_expected(),
            &entries(Service::Ollama, OLLAMA),
            &mut Windows::default(),
        )
        .is_empty()
    );
}

#[test]
fn a_certificate_alerts_inside_its_horizon_and_says_when_it_expired() {
    let now = at("2026-12-07T00:00:00Z");
    let path = "/etc/privai/headscale/tls/headscale.crt";
    assert_eq!(certificate(path, at("2027-01-01T00:00:00Z"), 14, now), None);
    let soon = certificate(path, at("2026-12-17T00:00:00Z"), 14, now).unwrap();
    assert_eq!(
        soon.summary,
        format!("the certificate `{path}` expires in 10 days (2026-12-17T00:00:00Z)")
    );
    let gone = certificate(path, at("2026-12-01T00:00:00Z"), 14, now).unwrap();
    assert!(
        gone.summary.contains("expired on 2026-12-01"),
        "{}",
        gone.summary
    );
    assert_eq!(certificate(path, at("2026-12-01T00:00:00Z"), 0, now), None);
}

#[test]
fn a_hostile_node_name_is_cut_and_loses_its_control_characters() {
    let long = format!(
        "2026-12-07T04:48:14Z INF node connected node.id=9 node.name=\"evil\u{7}name{}\" user.name=x",
        "a".repeat(400)
    );
    match parse(Service::Headscale, &long) {
        Some(Event::NodeConnected { node, .. }) => {
            assert!(node.starts_with("evil name"));
            assert!(node.chars().count() <= QUOTE + 1);
            assert!(!node.chars().any(char::is_control));
        }
        other => panic!("{other:?}"),
    }
}
