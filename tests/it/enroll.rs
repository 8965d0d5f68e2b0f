//! `privai enroll`: what a person reads to join a device to the tailnet.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn privai() -> Command {
    let mut cmd = Command::cargo_bin("privai").unwrap();
    cmd.current_dir(repo(""));
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let output = privai().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stderr.is_empty());
    String::from_utf8(output.stdout).unwrap()
}

/// Does `text` hold anything shaped like a Headscale pre-auth key?
fn looks_like_a_key(text: &str) -> bool {
    text.contains("hskey-")
        || text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word.len() >= 24 && word.chars().any(|c| c.is_ascii_digit()))
}

#[test]
fn the_seeds_laptop_gets_the_exact_command_with_the_key_read_from_a_file() {
    let out = stdout_of(&["enroll", "laptop", "examples/seed-home.ncl"]);
    assert_eq!(
        out,
        "\
Join the device laptop (user user2) to the tailnet

Login server: https://headscale.home.arpa

1. Get the pre-auth key `privai apply` made for laptop (single use, valid for 7 days);
   privai keeps it on the Headscale host (openclaw-server), where this prints it:
     sudo privai enroll laptop --show-key
2. On laptop, save the key in a file only root can read (paste the key, then press Ctrl-D):
     sudo sh -c 'umask 077; cat > /var/root/laptop.key'
3. On laptop, join the tailnet:
     sudo tailscale up --login-server=https://headscale.home.arpa --auth-key=file:/var/root/laptop.key --hostname=laptop
   (With the Tailscale app rather than Homebrew's tailscale, the command is
   /Applications/Tailscale.app/Contents/MacOS/Tailscale instead of tailscale.)
4. Delete the key file:
     sudo rm -f /var/root/laptop.key

`privai build` renders steps 3 and 4 as a script: /usr/local/etc/privai/enroll/laptop.sh on openclaw-server.
Copy it to laptop and run `sudo sh laptop.sh /var/root/laptop.key` there instead.

Chat with the AI on the private Matrix homeserver (once the device is on the tailnet):

  Homeserver:  http://openclaw-server.tailnet.home.arpa:8008
  Matrix ID:   @user2:openclaw-server.tailnet.home.arpa
  Password:    `privai enroll laptop --show-password` prints it (on the homeserver's host, where privai keeps it)

  In a Matrix app or Element Web, sign in on the homeserver above.
  Then start a direct chat with the AI: @ai:openclaw-server.tailnet.home.arpa
"
    );
    assert!(!looks_like_a_key(&out));
}

#[test]
fn a_linux_server_with_tags_reads_its_key_from_roots_home() {
    let out = stdout_of(&["enroll", "nas", "examples/linux-homelab.ncl"]);
    assert!(out.contains(
        "\n     sudo tailscale up --login-server=https://vpn.example.org --auth-key=file:/root/nas.key --hostname=nas\n"
    ));
    assert!(out.contains("\n     sudo rm -f /root/nas.key\n"));
    assert!(out.contains("/etc/privai/enroll/nas.sh on homelab."));
}

#[test]
fn a_windows_laptop_gets_powershell_steps_with_windows_paths() {
    let out = stdout_of(&["enroll", "kim-laptop", "examples/linux-homelab.ncl"]);
    assert!(out.contains(
        "\n     tailscale up --login-server=https://vpn.example.org \"--auth-key=file:$env:USERPROFILE\\kim-laptop.key\" --hostname=kim-laptop\n"
    ));
    assert!(out.contains("\n     Remove-Item \"$env:USERPROFILE\\kim-laptop.key\"\n"));
    assert!(out.contains("/etc/privai/enroll/kim-laptop.txt on homelab."));
    assert!(!out.contains("/root"));
}

/// Splits the phone's output around the QR block: (before, QR lines, after).
fn split_qr(out: &str) -> (String, Vec<&str>, String) {
    let is_qr = |line: &str| !line.is_empty() && line.chars().all(|c| "█▀▄ ".contains(c));
    let lines: Vec<&str> = out.lines().collect();
    let start = lines.iter().position(|l| is_qr(l)).expect("a QR block");
    let end = start + lines[start..].iter().take_while(|l| is_qr(l)).count();
    (
        lines[..start].join("\n"),
        lines[start..end].to_vec(),
        lines[end..].join("\n"),
    )
}

#[test]
fn the_seeds_phone_gets_the_app_steps_and_a_qr_code_of_the_login_server() {
    let out = stdout_of(&["enroll", "phone", "examples/seed-home.ncl"]);
    let (before, qr, after) = split_qr(&out);
    assert_eq!(
        before,
        "\
Join the device phone (user user1) to the tailnet

Login server: https://headscale.home.arpa

1. Install the Tailscale app.
2. Tap the account icon > \"Log in…\" > the options menu > \"Use custom coordination server\".
3. Enter the login server shown above (or scan the QR code below).
4. Sign in; the app shows a registration URL with an id, and the server's
   administrator approves it: `headscale auth register --user user1 --auth-id ID`.

The login server as a QR code:
"
    );
    // 27 bytes at level M: a version 3 code, 29 modules, plus 4 on each side;
    // two rows per line.
    assert_eq!(qr.len(), 37_usize.div_ceil(2));
    assert!(qr.iter().all(|l| l.chars().count() == 37));
    assert!(qr[0].chars().all(|c| c == '█'));
    // Then how to chat on the seed's homeserver, with a QR code of its URL.
    let (steps, url_qr, chat) = split_qr(&after);
    assert_eq!(
        steps,
        "
`privai build` renders these steps into /usr/local/etc/privai/enroll/phone.txt and the QR code into
/usr/local/etc/privai/enroll/phone-login-server.svg on openclaw-server.

Chat with the AI on the private Matrix homeserver (once the device is on the tailnet):

  Homeserver:  http://openclaw-server.tailnet.home.arpa:8008
  Matrix ID:   @user1:openclaw-server.tailnet.home.arpa
  Password:    `privai enroll phone --show-password` prints it (on the homeserver's host, where privai keeps it)

  In a Matrix app (Element X, FluffyChat), choose another homeserver and scan
  this code, or type the URL above:
"
    );
    assert!(url_qr.len() > 10, "{url_qr:?}");
    assert_eq!(
        chat,
        "
  Then start a direct chat with the AI: @ai:openclaw-server.tailnet.home.arpa"
    );
}

#[test]
fn svg_writes_the_qr_code_of_the_login_server() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("phone.svg");
    let out = stdout_of(&[
        "enroll",
        "phone",
        "examples/seed-home.ncl",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<?xml"), "{text}");
    assert!(text.contains("<svg"));
    assert!(text.trim_end().ends_with("</svg>"));
    // The same file `privai build` renders next to the phone's steps.
    assert_eq!(
        Some(text),
        privai::render::tailscale::qr_svg("https://headscale.home.arpa")
    );
    assert!(out.ends_with(&format!(
        "\nThe QR code is also in `{}` (SVG).\n",
        svg.display()
    )));
}

#[test]
fn svg_is_refused_for_a_device_that_joins_with_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("laptop.svg");
    privai()
        .args(["enroll", "laptop", "examples/seed-home.ncl", "--svg"])
        .arg(&svg)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("`laptop` is a laptop"));
    assert!(!svg.exists());
}

#[test]
fn an_unknown_device_fails_with_a_suggestion_and_the_list_of_devices() {
    privai()
        .args(["enroll", "laptpo", "examples/seed-home.ncl"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            "error: `laptpo` is not a device of `examples/seed-home.ncl`; did you mean `laptop`?\n\
             devices: phone, laptop, desktop\n",
        );
}

#[test]
fn show_key_without_an_apply_says_how_the_key_comes_without_printing_one() {
    let root = tempfile::tempdir().unwrap();
    let output = privai()
        .args([
            "enroll",
            "laptop",
            "examples/seed-home.ncl",
            "--show-key",
            "--root",
        ])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: privai holds no pre-auth key for `laptop`"),
        "{stderr}"
    );
    assert!(stderr.contains("headscale preauthkeys create"));
    assert!(!looks_like_a_key(&stderr), "{stderr}");
}

#[test]
fn show_key_prints_the_key_apply_stored_and_refuses_an_iphone() {
    let root = tempfile::tempdir().unwrap();
    let key = root.path().join(".privai/keys/laptop");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::write(&key, "hskey-auth-stored-by-apply").unwrap();
    privai()
        .args([
            "enroll",
            "laptop",
            "examples/seed-home.ncl",
            "--show-key",
            "--root",
        ])
        .arg(root.path())
        .assert()
        .success()
        .stdout("hskey-auth-stored-by-apply\n");
    privai()
        .args([
            "enroll",
            "phone",
            "examples/seed-home.ncl",
            "--show-key",
            "--root",
        ])
        .arg(root.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "joins interactively, without a pre-auth key",
        ));
}

#[test]
fn without_the_api_key_the_steps_make_the_key_by_hand_with_the_devices_flags() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(repo("examples/seed-home.ncl")).unwrap();
    let spec = dir.path().join("privai.ncl");
    std::fs::write(
        &spec,
        seed.replace("    api_key = \"keychain:privai-headscale-api-key\",\n", "")
            .replace(
                "{ name = \"desktop\", user = \"user1\", kind = 'desktop, os = 'linux }",
                "{ name = \"desktop\", user = \"user1\", kind = 'desktop, os = 'linux, ephemeral = true, reusable = true }",
            ),
    )
    .unwrap();
    let out = stdout_of(&["enroll", "desktop", spec.to_str().unwrap()]);
    assert!(
        out.contains(
            "\
1. On the Headscale host (openclaw-server), create a reusable pre-auth key for user1 that expires in 24 hours
   (`preauthkeys create` wants the user's numeric ID, which `users list` shows):
     sudo headscale users list --name user1
     sudo headscale preauthkeys create --user ID --expiration 24h --ephemeral --reusable
   (With `headscale.api_key` in the spec, `privai apply` creates the key.)
"
        ),
        "{out}"
    );
}

#[test]
fn with_a_homeserver_the_person_also_learns_how_to_sign_in_to_it_and_reach_the_ai() {
    let out = stdout_of(&["enroll", "phone", "tests/fixtures/homeserver/home.ncl"]);
    let matrix = out
        .split_once("\nChat with the AI on the private Matrix homeserver")
        .map(|(_, m)| m)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(matrix.contains("\n  Homeserver:  http://chat.tailnet.home.arpa:8008\n"));
    assert!(matrix.contains("\n  Matrix ID:   @user1:chat.tailnet.home.arpa\n"));
    assert!(matrix.contains("`privai enroll phone --show-password` prints it"));
    assert!(matrix.contains("start a direct chat with the AI: @ai:chat.tailnet.home.arpa\n"));
    // A phone gets a QR code of the homeserver's URL, drawn as the
    // Headscale one is (full blocks of the quiet zone).
    let url = "http://chat.tailnet.home.arpa:8008";
    let modules = qrcode::QrCode::new(url.as_bytes()).unwrap().width() + 8;
    assert!(
        matrix.contains(&format!("\n{}\n", "█".repeat(modules))),
        "{matrix}"
    );
}
