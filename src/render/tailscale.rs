//! How each device joins the tailnet: for laptops, desktops and servers a
//! script around `tailscale up` that reads the pre-auth key from a file
//! (never from the command line, where other users of a shared machine could
//! read it); for phones and tablets the app's steps and a QR code of the
//! login server's URL. The files sit on the Headscale host, under
//! `{etc}/enroll/`; they hold no key. Their text is in the templates
//! `join.sh.j2`, `join-windows.txt.j2` and `join-app.txt.j2`.

use super::paths::Layout;
use super::template;
use super::{Artifact, Owner};
use crate::model::{Device, DeviceKind, DeviceOs, Host, Spec};
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Serialize;

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

/// The fields of the join templates: the device and the login server.
#[derive(Serialize)]
struct Join<'a> {
    name: &'a str,
    user: &'a str,
    url: &'a str,
}

impl<'a> Join<'a> {
    fn new(device: &'a Device, url: &'a str) -> Self {
        Self {
            name: &device.name,
            user: &device.user,
            url,
        }
    }
}

fn join_script(device: &Device, url: &str) -> String {
    template::render("join.sh.j2", Join::new(device, url))
}

fn windows_steps(device: &Device, url: &str) -> String {
    template::render("join-windows.txt.j2", Join::new(device, url))
}

/// The fields of `join-app.txt.j2`.
#[derive(Serialize)]
pub struct AppSteps<'a> {
    #[serde(flatten)]
    join: Join<'a>,
    android: bool,
    /// Where the QR code of the login server is (e.g. "next to this file").
    qr: &'a str,
}

impl<'a> AppSteps<'a> {
    /// The app steps of `device` joining `url`, the QR code `qr`.
    pub fn new(device: &'a Device, url: &'a str, qr: &'a str) -> Self {
        Self {
            join: Join::new(device, url),
            android: device.os == DeviceOs::Android,
            qr,
        }
    }
}

/// The steps that join a phone or tablet through the Tailscale app, headed
/// by the login server. `qr` says where the QR code of the login server is
/// (e.g. "next to this file").
fn app_steps(device: &Device, url: &str, qr: &str) -> String {
    template::render("join-app.txt.j2", AppSteps::new(device, url, qr))
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

#[cfg(test)]
mod tests {
    use super::*;

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

    fn laptop(name: &str, user: &str) -> Device {
        Device {
            name: name.into(),
            user: user.into(),
            kind: DeviceKind::Laptop,
            os: DeviceOs::Linux,
            tags: Vec::new(),
            tailnet_ip: None,
            ephemeral: false,
            reusable: false,
        }
    }

    /// The script's lines that the shell runs (not comments).
    fn commands(script: &str) -> Vec<&str> {
        script.lines().filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn the_join_script_runs_the_tailscale_up_of_tailscale_up_argv() {
        let device = laptop("laptop", "user2");
        let url = "https://hs.example:8443";
        let expected: Vec<String> = tailscale_up_argv(&device, url, "$key_file")
            .iter()
            .map(|arg| match arg.starts_with("--auth-key=") {
                true => format!("\"{arg}\""),
                false => crate::render::escape::shell_word(arg),
            })
            .collect();
        let script = join_script(&device, url);
        assert_eq!(commands(&script)[3], expected.join(" "));
    }

    #[test]
    fn a_hostile_device_or_login_server_stays_inert_in_the_join_script() {
        let device = laptop("x$(reboot)", "u\nreboot");
        let script = join_script(&device, "https://h/'$(id)'");
        assert_eq!(
            commands(&script),
            [
                "set -eu",
                "key_file=${1:?usage: 'x$(reboot)'.sh KEY_FILE}",
                r#"test -r "$key_file" || { echo "cannot read $key_file" >&2; exit 1; }"#,
                r#"tailscale up --login-server='https://h/'\''$(id)'\''' "--auth-key=file:$key_file" --hostname='x$(reboot)'"#,
                r#"rm -f -- "$key_file""#,
            ]
        );
        assert!(script.contains("# Joins the device x$(reboot) (user u reboot) to"));
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
