use super::*;
use crate::observe::Observed;
use crate::observe::matrix::Account;

const SERVER: &str = "chat.tailnet.home.arpa";

fn desired(users: &[&str], token_file: bool) -> Rendered {
    Rendered {
        matrix: Some(Accounts {
            host: "chat".into(),
            server_name: SERVER.into(),
            local_url: "http://127.0.0.1:8008".into(),
            public_url: format!("http://{SERVER}:8008"),
            registration_secret: "/etc/privai/secrets/homeserver-registration-secret".into(),
            ai_user: "ai".into(),
            users: users.iter().map(|u| u.to_string()).collect(),
            ai_token_file: token_file.then(|| "/etc/privai/secrets/matrix-token".into()),
            ai_token_owner: token_file.then(|| "1000:1000".into()),
        }),
        ..Rendered::default()
    }
}

fn account(name: &str, deactivated: bool) -> Account {
    Account {
        user_id: format!("@{name}:{SERVER}"),
        admin: name == ADMIN_USER,
        deactivated,
    }
}

fn running(accounts: Option<Vec<Account>>, ai_token: TokenState) -> MatrixState {
    MatrixState::Running { accounts, ai_token }
}

fn record(kind: AccountKind, status: AccountStatus) -> Recorded {
    Recorded { kind, status }
}

fn records(entries: &[(&str, AccountKind, AccountStatus)]) -> Records {
    entries
        .iter()
        .map(|(n, k, s)| (n.to_string(), record(*k, *s)))
        .collect()
}

fn addresses(actions: &[MatrixAction]) -> Vec<String> {
    actions
        .iter()
        .map(|a| format!("{} {}", a.change().symbol(), a.address()))
        .collect()
}

use AccountKind::{Admin, Ai, User};
use AccountStatus::{Active, Deactivated, Pending};

#[test]
fn before_the_homeserver_answers_every_account_is_made_once_it_has_started() {
    let observed = Observed {
        matrix: MatrixState::Unreachable {
            url: "http://127.0.0.1:8008".into(),
            error: "connection refused".into(),
        },
        ..Observed::default()
    };
    let (actions, notes) = matrix_actions(&desired(&["user1"], true), &observed);
    assert_eq!(
        addresses(&actions),
        [
            "+ matrix account chat:@privai-admin:chat.tailnet.home.arpa",
            "+ matrix account chat:@ai:chat.tailnet.home.arpa",
            "+ matrix account chat:@user1:chat.tailnet.home.arpa",
        ]
    );
    assert!(notes[0].contains("once it has started"), "{notes:?}");
}

#[test]
fn accounts_synapse_has_and_privai_made_are_left_alone_a_second_time() {
    let observed = Observed {
        matrix: running(
            Some(vec![
                account(ADMIN_USER, false),
                account("ai", false),
                account("user1", false),
            ]),
            TokenState::Valid,
        ),
        matrix_records: records(&[
            (ADMIN_USER, Admin, Active),
            ("ai", Ai, Active),
            ("user1", User, Active),
        ]),
        ..Observed::default()
    };
    let (actions, notes) = matrix_actions(&desired(&["user1"], true), &observed);
    assert_eq!(actions, []);
    assert_eq!(notes, Vec::<String>::new());
}

#[test]
fn a_user_privai_made_who_left_the_spec_is_deactivated_but_never_an_account_it_did_not_make() {
    let observed = Observed {
        matrix: running(
            Some(vec![
                account(ADMIN_USER, false),
                account("ai", false),
                account("user1", false),
                account("user2", false),
                account("alice", false),
            ]),
            TokenState::Valid,
        ),
        matrix_records: records(&[
            (ADMIN_USER, Admin, Active),
            ("ai", Ai, Active),
            ("user1", User, Active),
            ("user2", User, Active),
        ]),
        ..Observed::default()
    };
    let (actions, _) = matrix_actions(&desired(&["user1"], true), &observed);
    assert_eq!(
        addresses(&actions),
        ["- matrix account chat:@user2:chat.tailnet.home.arpa"]
    );
    // Once deactivated (in Synapse, or on record), nothing more.
    let mut after = observed.clone();
    after.matrix = running(
        Some(vec![
            account(ADMIN_USER, false),
            account("ai", false),
            account("user1", false),
            account("user2", true),
        ]),
        TokenState::Valid,
    );
    assert_eq!(matrix_actions(&desired(&["user1"], true), &after).0, []);
    after
        .matrix_records
        .insert("user2".into(), record(User, Deactivated));
    assert_eq!(matrix_actions(&desired(&["user1"], true), &after).0, []);
}

#[test]
fn an_account_privai_recorded_but_may_not_have_registered_is_made_again_to_adopt_it() {
    let observed = Observed {
        matrix: running(
            Some(vec![
                account(ADMIN_USER, false),
                account("ai", false),
                account("user1", false),
            ]),
            TokenState::Valid,
        ),
        matrix_records: records(&[
            (ADMIN_USER, Admin, Active),
            ("ai", Ai, Active),
            ("user1", User, Pending),
        ]),
        ..Observed::default()
    };
    let (actions, _) = matrix_actions(&desired(&["user1"], true), &observed);
    assert_eq!(
        addresses(&actions),
        ["+ matrix account chat:@user1:chat.tailnet.home.arpa"]
    );
}

#[test]
fn an_existing_account_privai_did_not_make_is_left_to_its_owner_with_a_note() {
    let observed = Observed {
        matrix: running(
            Some(vec![
                account(ADMIN_USER, false),
                account("ai", false),
                account("user1", false),
            ]),
            TokenState::Valid,
        ),
        matrix_records: records(&[(ADMIN_USER, Admin, Active), ("ai", Ai, Active)]),
        ..Observed::default()
    };
    let (actions, notes) = matrix_actions(&desired(&["user1"], true), &observed);
    assert_eq!(actions, []);
    assert!(notes[0].contains("@user1:chat.tailnet.home.arpa exists and privai did not make it"));
}

#[test]
fn a_missing_or_refused_ai_token_is_made_again_unless_the_ai_account_is_being_made() {
    let listed = Some(vec![account(ADMIN_USER, false), account("ai", false)]);
    let recorded = records(&[(ADMIN_USER, Admin, Active), ("ai", Ai, Active)]);
    for token in [TokenState::Missing, TokenState::Refused] {
        let observed = Observed {
            matrix: running(listed.clone(), token),
            matrix_records: recorded.clone(),
            ..Observed::default()
        };
        assert_eq!(
            addresses(&matrix_actions(&desired(&[], true), &observed).0),
            ["~ matrix token chat:@ai:chat.tailnet.home.arpa"]
        );
        // No token file of privai's (the spec gives the gateway one).
        assert_eq!(matrix_actions(&desired(&[], false), &observed).0, []);
    }
    let observed = Observed {
        matrix: running(Some(vec![account(ADMIN_USER, false)]), TokenState::Missing),
        matrix_records: records(&[(ADMIN_USER, Admin, Active)]),
        ..Observed::default()
    };
    assert_eq!(
        addresses(&matrix_actions(&desired(&[], true), &observed).0),
        ["+ matrix account chat:@ai:chat.tailnet.home.arpa"]
    );
}

#[test]
fn when_privai_cannot_list_its_admin_account_is_made_again_and_the_rest_stands_as_recorded() {
    let observed = Observed {
        matrix: running(None, TokenState::Valid),
        matrix_records: records(&[
            (ADMIN_USER, Admin, Active),
            ("ai", Ai, Active),
            ("user1", User, Active),
        ]),
        ..Observed::default()
    };
    let (actions, _) = matrix_actions(&desired(&["user1", "user2"], true), &observed);
    assert_eq!(
        addresses(&actions),
        [
            "+ matrix account chat:@privai-admin:chat.tailnet.home.arpa",
            "+ matrix account chat:@user2:chat.tailnet.home.arpa",
        ]
    );
}

#[test]
fn a_spec_without_a_homeserver_or_a_staged_install_plans_nothing() {
    let observed = Observed {
        matrix: running(Some(vec![account("user2", false)]), TokenState::Unknown),
        matrix_records: records(&[("user2", User, Active)]),
        ..Observed::default()
    };
    assert_eq!(
        matrix_actions(&Rendered::default(), &observed),
        (vec![], vec![])
    );
    // Not asked: staged.
    let (actions, notes) = matrix_actions(&desired(&["user1"], true), &Observed::default());
    assert_eq!((actions, notes), (vec![], vec![]));
}

#[test]
fn matrix_actions_come_after_the_homeserver_starts_and_before_the_gateway() {
    use crate::plan::tests::unit;
    use crate::render::ServiceId;
    let mut rendered = desired(&["user1"], true);
    rendered.services = vec![
        unit(ServiceId::Homeserver, "net.privai.homeserver"),
        unit(ServiceId::Gateway, "net.privai.gateway"),
    ];
    let observed = Observed {
        matrix: MatrixState::Unreachable {
            url: "http://127.0.0.1:8008".into(),
            error: "connection refused".into(),
        },
        ..Observed::default()
    };
    let plan = crate::plan::plan(&rendered, &observed);
    let order: Vec<String> = plan.actions.iter().map(|a| a.address()).collect();
    let hs = order.iter().position(|a| a.contains("homeserver")).unwrap();
    let gw = order.iter().position(|a| a.contains("gateway")).unwrap();
    let accounts: Vec<usize> = order
        .iter()
        .enumerate()
        .filter(|(_, a)| a.starts_with("matrix account"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(accounts.len(), 3, "{order:?}");
    assert!(accounts.iter().all(|&i| hs < i && i < gw), "{order:?}");
}
