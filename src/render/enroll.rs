//! What `privai enroll` prints to join one device: the steps around the
//! exact `tailscale up` command for laptops, desktops and servers (POSIX
//! shell or PowerShell), the app's steps and a QR code of the login server
//! for phones and tablets. Pure: the CLI draws the QR code and prints.

use super::paths::Layout;
use super::tailscale::{AppSteps, tailscale_up_argv};
use super::template;
use crate::model::{Device, DeviceOs, Role, Spec};
use serde::Serialize;

/// The name of the Headscale host, as the steps name it.
pub fn headscale_host_name(spec: &Spec) -> String {
    match spec.service_host(Role::Headscale) {
        Some(host) => host.name.clone(),
        None => "the Headscale host".to_owned(),
    }
}

/// Where `privai build` puts the device's enrollment files.
#[derive(Serialize)]
struct RenderedAt {
    dir: String,
    host: String,
}

fn rendered_at(spec: &Spec) -> Option<RenderedAt> {
    let host = spec.service_host(Role::Headscale)?;
    Some(RenderedAt {
        dir: format!("{}/enroll", Layout::of(host).etc()),
        host: host.name.clone(),
    })
}

/// The fields every enrollment text reads: the device, its login server,
/// how it gets its pre-auth key and where `privai build` renders its files.
#[derive(Serialize)]
struct Steps<'a> {
    name: &'a str,
    user: &'a str,
    url: &'a str,
    headscale_host: String,
    /// `privai apply` makes the key (the spec has Headscale's API key).
    api_key: bool,
    uses: &'static str,
    days: u32,
    ephemeral: bool,
    reusable: bool,
    rendered: Option<RenderedAt>,
}

impl<'a> Steps<'a> {
    fn new(spec: &'a Spec, device: &'a Device) -> Self {
        Self {
            name: &device.name,
            user: &device.user,
            url: &spec.headscale.server_url,
            headscale_host: headscale_host_name(spec),
            api_key: spec.headscale.api_key.is_some(),
            uses: if device.reusable {
                "reusable"
            } else {
                "single use"
            },
            days: spec.monitoring.key_rotation.preauth_key_expiry_days.max(1),
            ephemeral: device.ephemeral,
            reusable: device.reusable,
            rendered: rendered_at(spec),
        }
    }
}

/// Root's home on the device: a directory only root can read.
fn root_home(os: DeviceOs) -> &'static str {
    match os {
        DeviceOs::Macos => "/var/root",
        _ => "/root",
    }
}

/// The steps of a laptop, desktop or server with a POSIX shell.
pub fn posix(spec: &Spec, device: &Device) -> String {
    #[derive(Serialize)]
    struct Posix<'a> {
        #[serde(flatten)]
        steps: Steps<'a>,
        key_file: String,
        tailscale_up: Vec<String>,
        macos: bool,
    }
    let key_file = format!("{}/{}.key", root_home(device.os), device.name);
    let context = Posix {
        steps: Steps::new(spec, device),
        tailscale_up: tailscale_up_argv(device, &spec.headscale.server_url, &key_file),
        key_file,
        macos: device.os == DeviceOs::Macos,
    };
    template::render("enroll-posix.txt.j2", context)
}

/// The steps of a Windows laptop or desktop, in PowerShell.
pub fn windows(spec: &Spec, device: &Device) -> String {
    #[derive(Serialize)]
    struct Windows<'a> {
        #[serde(flatten)]
        steps: Steps<'a>,
        key_file: String,
    }
    let context = Windows {
        steps: Steps::new(spec, device),
        key_file: format!("$env:USERPROFILE\\{}.key", device.name),
    };
    template::render("enroll-windows.txt.j2", context)
}

/// The steps of a phone or tablet, with `qr_drawing`, the login server's
/// QR code as the terminal shows it.
pub fn app(spec: &Spec, device: &Device, qr_drawing: &str) -> String {
    #[derive(Serialize)]
    struct App<'a> {
        #[serde(flatten)]
        app: AppSteps<'a>,
        /// Without its last line break: the template ends the line.
        qr_drawing: &'a str,
        rendered: Option<RenderedAt>,
    }
    let context = App {
        app: AppSteps::new(device, &spec.headscale.server_url, "below"),
        qr_drawing: qr_drawing.strip_suffix('\n').unwrap_or(qr_drawing),
        rendered: rendered_at(spec),
    };
    template::render("enroll-app.txt.j2", context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(os: &str) -> Spec {
        let mut spec = crate::check::testing::load(
            &format!(
                r#"{{
                  hosts = [ {{ name = "hs", platform = 'linux, ram_gb = 8, roles = ['headscale] }} ],
                  headscale.server_url = "https://hs.example",
                  users = [ {{ name = "ann" }} ],
                  devices = [ {{ name = "pc", user = "ann", kind = 'laptop, os = '{os} }} ],
                }}"#
            ),
            "ncl",
        )
        .spec;
        spec.headscale.server_url = "https://h/'$(id)' x".to_owned();
        spec
    }

    /// The line of `text` that starts with `start` (indentation trimmed).
    fn line<'t>(text: &'t str, start: &str) -> &'t str {
        text.lines()
            .map(str::trim_start)
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line starts with {start:?} in\n{text}"))
    }

    #[test]
    fn the_posix_command_quotes_a_hostile_login_server_as_one_shell_word() {
        let spec = spec("linux");
        let text = posix(&spec, &spec.devices[0]);
        assert_eq!(
            line(&text, "sudo tailscale up"),
            r"sudo tailscale up '--login-server=https://h/'\''$(id)'\'' x' --auth-key=file:/root/pc.key --hostname=pc"
        );
        assert!(text.contains("Login server: https://h/'$(id)' x\n"));
    }

    #[test]
    fn the_powershell_command_quotes_a_hostile_login_server_as_one_argument() {
        let spec = spec("windows");
        let text = windows(&spec, &spec.devices[0]);
        assert_eq!(
            line(&text, "tailscale up"),
            r#"tailscale up --login-server='https://h/''$(id)'' x' "--auth-key=file:$env:USERPROFILE\pc.key" --hostname=pc"#
        );
    }
}
