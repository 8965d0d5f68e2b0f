//! How each device joins the tailnet: for laptops, desktops and servers a
//! script around `tailscale up` that reads the pre-auth key from a file
//! (never from the command line, where other users of a shared machine could
//! read it); for phones and tablets the app's steps and a QR code of the
//! login server's URL. The files sit on the Headscale host, under
//! `{etc}/enroll/`; they hold no key.

use super::paths::Layout;
use super::{Artifact, Owner};
use crate::model::{Device, DeviceKind, DeviceOs, Host, Spec};
use qrcode::QrCode;
use qrcode::render::svg;

/// Renders the enrollment files of every device onto `host` (the Headscale host).
pub fn render(spec: &Spec, host: &Host, out: &mut Vec<Artifact>) {
    let dir = format!("{}/enroll", Layout::of(host).etc());
    let url = &spec.headscale.server_url;
    // Every phone's QR code shows the same login server: drawn once.
    let mut qr: Option<Option<String>> = None;
    for device in &spec.devices {
        let base = format!("{dir}/{}", device.name);
        match (device.kind, device.os) {
            (DeviceKind::Phone | DeviceKind::Tablet, _) => {
                out.push(Artifact::text(
                    host,
                    format!("{base}.txt"),
                    app_steps(device, url, "next to this file"),
                    Owner::Root,
                ));
                if let Some(svg) = qr.get_or_insert_with(|| qr_svg(url)) {
                    out.push(Artifact::text(
                        host,
                        format!("{base}-login-server.svg"),
                        svg.clone(),
                        Owner::Root,
                    ));
                }
            }
            (_, DeviceOs::Windows) => {
                out.push(Artifact::text(
                    host,
                    format!("{base}.txt"),
                    windows_steps(device, url),
                    Owner::Root,
                ));
            }
            _ => {
                out.push(
                    Artifact::text(
                        host,
                        format!("{base}.sh"),
                        join_script(device, url),
                        Owner::Root,
                    )
                    .mode(0o755),
                );
            }
        }
    }
}

/// `text` as one POSIX shell word: as is when it holds only safe
/// characters, else in single quotes with every `'` written `'\''`.
pub fn shell_quote(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if safe {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// The `tailscale up` argv for `device`, reading the key from `key_file`.
/// No `--advertise-tags`: the key privai makes carries the device's tags,
/// and Headscale 0.29 refuses a node joining with a pre-auth key that also
/// advertises tags (`requested tags [...] are invalid or not permitted`).
pub fn tailscale_up_argv(device: &Device, login_server: &str, key_file: &str) -> Vec<String> {
    vec![
        "tailscale".to_owned(),
        "up".to_owned(),
        format!("--login-server={login_server}"),
        format!("--auth-key=file:{key_file}"),
        format!("--hostname={}", device.name),
    ]
}

fn join_script(device: &Device, url: &str) -> String {
    // The key file is the script's argument, expanded by the shell at run time.
    let argv: Vec<String> = tailscale_up_argv(device, url, "")
        .into_iter()
        .map(|arg| {
            if arg.starts_with("--auth-key=") {
                "\"--auth-key=file:$key_file\"".to_owned()
            } else {
                shell_quote(&arg)
            }
        })
        .collect();
    format!(
        "#!/bin/sh\n\
         # Joins the device {name} (user {user}) to the tailnet coordinated by {url}.\n\
         # Run it on the device, as root, with the file holding its pre-auth key\n\
         # (on the Headscale host: `headscale users list --name {user}` shows the user's ID,\n\
         # then `headscale preauthkeys create --user ID --expiration 24h`):\n\
         #   sudo sh {name}.sh /path/to/{name}.key\n\
         # The key is read from the file, never put on the command line, and the\n\
         # file is removed once the device has joined.\n\
         set -eu\n\
         key_file=${{1:?usage: {name}.sh KEY_FILE}}\n\
         test -r \"$key_file\" || {{ echo \"cannot read $key_file\" >&2; exit 1; }}\n\
         {command}\n\
         rm -f -- \"$key_file\"\n",
        name = comment_safe(&device.name),
        user = comment_safe(&device.user),
        url = comment_safe(url),
        command = argv.join(" "),
    )
}

fn windows_steps(device: &Device, url: &str) -> String {
    format!(
        "Join the device {name} (user {user}) to the tailnet\n\
         \n\
         1. Install Tailscale for Windows.\n\
         2. Save the device's pre-auth key (on the Headscale host: `headscale users list --name {user}` shows\n   the user's ID, then `headscale preauthkeys create --user ID --expiration 24h`) to a file only you can read, e.g. C:\\Users\\you\\{name}.key.\n\
         3. In an administrator PowerShell:\n   tailscale up --login-server={url} --auth-key=file:C:\\Users\\you\\{name}.key --hostname={name}\n\
         4. Delete the key file.\n",
        name = device.name,
        user = device.user,
    )
}

/// The steps that join a phone or tablet through the Tailscale app, headed
/// by the login server. `qr` says where the QR code of the login server is
/// (e.g. "next to this file").
pub fn app_steps(device: &Device, url: &str, qr: &str) -> String {
    let steps = match device.os {
        DeviceOs::Android => {
            "1. Install the Tailscale app.\n\
             2. Open Settings > Accounts > the menu (⋮) > \"Use an alternate server\".\n\
             3. Enter the login server shown above (or scan the QR code QR_WHERE).\n\
             4. In the same menu choose \"Use an auth key\" and paste the device's pre-auth key\n   (on the Headscale host: `headscale users list --name USER` shows the user's ID,\n   then `headscale preauthkeys create --user ID --expiration 24h`).\n"
        }
        _ => {
            "1. Install the Tailscale app.\n\
             2. Tap the account icon > \"Log in…\" > the options menu > \"Use custom coordination server\".\n\
             3. Enter the login server shown above (or scan the QR code QR_WHERE).\n\
             4. Sign in; the app shows a registration URL with an id, and the server's\n   administrator approves it: `headscale auth register --user USER --auth-id ID`.\n"
        }
    }
    .replace("USER", &device.user)
    .replace("QR_WHERE", qr);
    format!(
        "Join the device {name} (user {user}) to the tailnet\n\nLogin server: {url}\n\n{steps}",
        name = device.name,
        user = device.user,
    )
}

#[cfg(test)]
thread_local! {
    /// How many QR codes this thread has drawn (for the tests).
    static QR_DRAWN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// An SVG QR code of `url`.
pub fn qr_svg(url: &str) -> Option<String> {
    #[cfg(test)]
    QR_DRAWN.with(|n| n.set(n.get() + 1));
    let code = QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build()
            + "\n",
    )
}

/// Text safe inside a shell comment line (no line breaks).
fn comment_safe(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_quotes_and_spaces() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("--hostname=laptop"), "--hostname=laptop");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn the_join_command_reads_the_key_from_a_file_and_leaves_the_tags_to_the_key() {
        let device = Device {
            name: "laptop".into(),
            user: "user2".into(),
            kind: DeviceKind::Laptop,
            os: DeviceOs::Macos,
            tags: vec!["tag:work".into()],
            tailnet_ip: None,
            ephemeral: false,
            reusable: false,
        };
        assert_eq!(
            tailscale_up_argv(&device, "https://hs.example", "/tmp/k"),
            vec![
                "tailscale",
                "up",
                "--login-server=https://hs.example",
                "--auth-key=file:/tmp/k",
                "--hostname=laptop",
            ]
        );
    }

    #[test]
    fn the_login_servers_qr_code_is_drawn_once_for_all_phones() {
        let spec = crate::check::testing::load(
            r#"{
              hosts = [ { name = "hs", platform = 'linux, ram_gb = 8, roles = ['headscale] } ],
              headscale.server_url = "https://hs.example",
              users = [ { name = "ann" } ],
              devices = [
                { name = "p1", user = "ann", kind = 'phone, os = 'ios },
                { name = "p2", user = "ann", kind = 'phone, os = 'android },
                { name = "t1", user = "ann", kind = 'tablet, os = 'ios },
              ],
            }"#,
            "ncl",
        )
        .spec;
        let before = QR_DRAWN.with(|n| n.get());
        let mut out = Vec::new();
        render(&spec, &spec.hosts[0], &mut out);
        assert_eq!(QR_DRAWN.with(|n| n.get()) - before, 1);
        let svgs: Vec<_> = out
            .iter()
            .filter(|a| a.path.ends_with("-login-server.svg"))
            .collect();
        assert_eq!(svgs.len(), 3);
        assert!(svgs.iter().all(|a| a.contents == svgs[0].contents));
        assert_eq!(
            svgs[0].contents,
            qr_svg("https://hs.example").unwrap().into_bytes()
        );
    }
}
