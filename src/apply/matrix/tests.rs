use super::*;
use crate::plan::matrix::{AccountKind, AccountStatus};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

const SERVER: &str = "chat.tailnet.home.arpa";

fn accounts() -> Accounts {
    Accounts {
        host: "chat".into(),
        server_name: SERVER.into(),
        local_url: "http://127.0.0.1:8008".into(),
        public_url: format!("http://{SERVER}:8008"),
        registration_secret: "/etc/privai/secrets/homeserver-registration-secret".into(),
        ai_user: "ai".into(),
        users: vec!["user1".into()],
        ai_token_file: Some("/etc/privai/secrets/matrix-token".into()),
        ai_token_owner: Some("1000:1000".into()),
    }
}

/// A homeserver in memory: accounts by local part, (password, deactivated).
#[derive(Default)]
struct Directory {
    accounts: BTreeMap<String, (String, bool)>,
    calls: Vec<String>,
    /// Dies (as a kill -9 would stop the run) right after registering.
    die_after_register: bool,
}

fn session(user: &str) -> Session {
    Session {
        user_id: format!("@{user}:{SERVER}"),
        access_token: Secret::new(format!("token-of-{user}")),
    }
}

impl AccountDirectory for Directory {
    fn register(
        &mut self,
        _: &Accounts,
        user: &str,
        password: &Secret,
        admin: bool,
    ) -> Result<Session, Error> {
        self.calls.push(format!("register {user} admin={admin}"));
        if self.accounts.contains_key(user) {
            return Err(Error::UserInUse { user: user.into() });
        }
        self.accounts
            .insert(user.into(), (password.expose().into(), false));
        if self.die_after_register {
            return Err(Error::Unreachable {
                url: "killed".into(),
                reason: "the run stopped here".into(),
            });
        }
        Ok(session(user))
    }

    fn login(&mut self, _: &Accounts, user: &str, password: &Secret) -> Result<Session, Error> {
        self.calls.push(format!("login {user}"));
        match self.accounts.get(user) {
            Some((p, false)) if p == password.expose() => Ok(session(user)),
            _ => Err(Error::WrongPassword { user: user.into() }),
        }
    }

    fn deactivate(&mut self, _: &Accounts, admin: &Secret, user_id: &str) -> Result<(), Error> {
        self.calls
            .push(format!("deactivate {user_id} as {}", admin.expose()));
        let user = user_id.trim_start_matches('@').split(':').next().unwrap();
        match self.accounts.get_mut(user) {
            Some(a) => {
                a.1 = true;
                Ok(())
            }
            None => Err(Error::NotFound {
                user: user_id.into(),
            }),
        }
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    install: Install,
    state: StateDir,
    journal: Journal,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let install = Install::Staged {
        root: dir.path().to_owned(),
    };
    let state = StateDir::new(install.state_dir());
    atomic::create_private_dir(state.dir()).unwrap();
    let journal = Journal::create(&state.journal()).unwrap();
    Fixture {
        _dir: dir,
        install,
        state,
        journal,
    }
}

fn create(user: &str, kind: AccountKind) -> MatrixAction {
    MatrixAction::CreateAccount {
        host: "chat".into(),
        user: user.into(),
        user_id: format!("@{user}:{SERVER}"),
        kind,
    }
}

fn step(f: &mut Fixture, action: &MatrixAction, directory: &mut Directory) -> Result<(), String> {
    let mut records = Vec::new();
    matrix_step(
        &f.install,
        &f.state,
        0,
        action,
        Some(&accounts()),
        directory,
        &mut f.journal,
        &mut records,
    )
}

fn recorded(f: &Fixture) -> crate::state::matrix::File {
    crate::state::matrix::read(f.state.dir()).unwrap()
}

#[test]
fn the_password_is_recorded_0600_before_registering_and_the_ais_token_reaches_the_gateway() {
    let mut f = fixture();
    let mut directory = Directory::default();
    step(&mut f, &create("user1", AccountKind::User), &mut directory).unwrap();
    step(&mut f, &create("ai", AccountKind::Ai), &mut directory).unwrap();
    let file = recorded(&f);
    let user1 = &file.accounts["user1"];
    assert_eq!(user1.status, AccountStatus::Active);
    assert_eq!(user1.password, directory.accounts["user1"].0);
    assert_eq!(user1.password.len(), 64);
    assert!(user1.token.is_none(), "a user's token is theirs, not kept");
    let path = crate::state::matrix::path(f.state.dir());
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let token = f
        .install
        .path("chat", "/etc/privai/secrets/matrix-token")
        .unwrap();
    assert_eq!(std::fs::read_to_string(&token).unwrap(), "token-of-ai");
    assert_eq!(
        std::fs::metadata(&token).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The gateway container's user reads it (the tests run as root).
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&token).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
    // The journal names the step, never a secret.
    let journal = std::fs::read_to_string(f.state.journal()).unwrap();
    assert!(journal.contains("create matrix account chat:@ai:chat.tailnet.home.arpa"));
    assert!(!journal.contains(&user1.password) && !journal.contains("token-of-ai"));
}

#[test]
fn a_run_stopped_after_registering_leaves_an_account_the_next_run_adopts() {
    let mut f = fixture();
    let mut directory = Directory {
        die_after_register: true,
        ..Directory::default()
    };
    assert!(step(&mut f, &create("user1", AccountKind::User), &mut directory).is_err());
    assert_eq!(
        recorded(&f).accounts["user1"].status,
        AccountStatus::Pending
    );
    directory.die_after_register = false;
    step(&mut f, &create("user1", AccountKind::User), &mut directory).unwrap();
    assert_eq!(
        directory.calls,
        [
            "register user1 admin=false",
            "register user1 admin=false",
            "login user1"
        ]
    );
    assert_eq!(recorded(&f).accounts["user1"].status, AccountStatus::Active);
}

#[test]
fn an_account_privai_cannot_sign_in_to_is_not_taken_over_nor_recorded() {
    let mut f = fixture();
    let mut directory = Directory::default();
    directory
        .accounts
        .insert("user1".into(), ("the owner's".into(), false));
    let error = step(&mut f, &create("user1", AccountKind::User), &mut directory).unwrap_err();
    assert!(error.contains("privai did not make it"), "{error}");
    assert!(!recorded(&f).accounts.contains_key("user1"));
}

#[test]
fn deactivating_uses_privais_admin_token_and_forgets_the_password() {
    let mut f = fixture();
    let mut directory = Directory::default();
    step(
        &mut f,
        &create(ADMIN_USER, AccountKind::Admin),
        &mut directory,
    )
    .unwrap();
    step(&mut f, &create("user2", AccountKind::User), &mut directory).unwrap();
    let deactivate = MatrixAction::DeactivateAccount {
        host: "chat".into(),
        user: "user2".into(),
        user_id: format!("@user2:{SERVER}"),
    };
    step(&mut f, &deactivate, &mut directory).unwrap();
    assert!(directory.calls.contains(&format!(
        "deactivate @user2:{SERVER} as token-of-privai-admin"
    )));
    assert!(directory.accounts["user2"].1);
    let file = recorded(&f);
    assert_eq!(file.accounts["user2"].status, AccountStatus::Deactivated);
    assert!(file.password("user2").is_none());
}
