//! `privai enroll`: everything a person needs to join one device to the
//! tailnet, printed for them. Laptops, desktops and servers get the exact
//! `tailscale up` command (the key read from a file only root can read, never
//! put on the command line) and the steps around it; Windows the same with
//! Windows paths; phones and tablets the app's steps and a QR code of the
//! login server. The text reuses what `privai build` renders into
//! `{etc}/enroll/` on the Headscale host.

use super::Exit;
use crate::model::{Device, DeviceKind, DeviceOs, Spec};
use crate::render::enroll::{self, headscale_host_name};
use crate::render::tailscale::qr_svg;
use anyhow::Context;
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `privai enroll`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The device to join (the name of one of the spec's `devices`).
    pub device: String,
    /// The spec (`.ncl`, `.toml` or `.json`). Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    /// Also write the QR code of the login server to FILE as SVG (phones and tablets).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Print the device's pre-auth key, which `privai apply` created through
    /// Headscale's API and keeps (0600) in privai's state. Nothing else
    /// ever prints it.
    #[arg(long)]
    pub show_key: bool,
    /// Print the password of the device's user's Matrix account on the
    /// spec's homeserver, which `privai apply` made and keeps (0600) in
    /// privai's state. Nothing else ever prints it.
    #[arg(long, conflicts_with = "show_key")]
    pub show_password: bool,
    /// With `--show-key` or `--show-password`: where the system is installed.
    #[command(flatten)]
    pub target: super::target::TargetArgs,
}

/// Prints the key `privai apply` created for `device`.
fn show_key(
    args: &Args,
    spec: &crate::model::Spec,
    device: &crate::model::Device,
) -> anyhow::Result<Exit> {
    if Way::of(device) == Way::App && device.os == crate::model::DeviceOs::Ios {
        anyhow::bail!(
            "`{}` is an iPhone or iPad, which joins interactively, without a pre-auth key; `privai enroll {}` shows the steps",
            device.name,
            device.name
        );
    }
    let install = super::target::install_for_spec(&args.target, spec)?;
    let path = crate::state::keys::key_path(&install.state_dir(), &device.name);
    match std::fs::read_to_string(&path) {
        Ok(key) => {
            writeln!(std::io::stdout(), "{}", key.trim())?;
            Ok(Exit::Ok)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "privai holds no pre-auth key for `{}` in `{}`: `privai apply` creates one through Headscale's API (it needs `headscale.api_key`) for each device that has not joined; on {} you can also run `headscale preauthkeys create --user ID --expiration 24h`",
            device.name,
            install.state_dir().display(),
            headscale_host_name(spec)
        ),
        Err(e) => Err(anyhow::anyhow!("reading `{}`: {e}", path.display())),
    }
}

/// Prints the password of the Matrix account `privai apply` made for
/// `device`'s user.
fn show_password(
    args: &Args,
    spec: &crate::model::Spec,
    device: &crate::model::Device,
) -> anyhow::Result<Exit> {
    if spec.homeserver().is_none() {
        anyhow::bail!(
            "the spec runs no Matrix homeserver, so `{}` has no Matrix account: give a host the 'homeserver role",
            device.user
        );
    }
    let install = super::target::install_for_spec(&args.target, spec)?;
    let file = crate::state::matrix::read(&install.state_dir())?;
    let recorded = file.accounts.get(&device.user).map(|a| a.status);
    match file.password(&device.user) {
        Some(password) if recorded == Some(crate::plan::matrix::AccountStatus::Active) => {
            writeln!(std::io::stdout(), "{}", password.expose())?;
            Ok(Exit::Ok)
        }
        _ => anyhow::bail!(
            "privai holds no password of a Matrix account of `{}` in `{}`: `privai apply` makes the account once the homeserver runs (run it on {}, then try again)",
            device.user,
            install.state_dir().display(),
            spec.homeserver()
                .map(|(_, h)| h.name.as_str())
                .unwrap_or_default()
        ),
    }
}

/// How `device`'s user signs in to the spec's homeserver and starts the
/// conversation with the AI; empty without a homeserver.
fn matrix_text(spec: &Spec, device: &Device, way: Way) -> anyhow::Result<String> {
    let Some(accounts) = crate::render::homeserver::accounts(spec) else {
        return Ok(String::new());
    };
    let url = &accounts.public_url;
    let mut text = format!(
        "\nChat with the AI on the private Matrix homeserver (once the device is on the tailnet):\n\n  Homeserver:  {url}\n  Matrix ID:   {}\n  Password:    `privai enroll {} --show-password` prints it (on the homeserver's host, where privai keeps it)\n\n",
        accounts.user_id(&device.user),
        device.name
    );
    if way == Way::App {
        let qr = qr_terminal(url).context("the homeserver's URL is too long for a QR code")?;
        text.push_str(
            "  In a Matrix app (Element X, FluffyChat), choose another homeserver and scan\n  this code, or type the URL above:\n\n",
        );
        text.push_str(&qr);
        text.push('\n');
    } else {
        text.push_str("  In a Matrix app or Element Web, sign in on the homeserver above.\n");
    }
    text.push_str(&format!(
        "  Then start a direct chat with the AI: {}\n",
        accounts.user_id(&accounts.ai_user)
    ));
    Ok(text)
}

/// How a device joins, as `privai build` classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    /// The Tailscale app (phones and tablets).
    App,
    /// `tailscale up` in PowerShell.
    Windows,
    /// `tailscale up` in a POSIX shell, as root.
    Posix,
}

impl Way {
    fn of(device: &Device) -> Self {
        match (device.kind, device.os) {
            (DeviceKind::Phone | DeviceKind::Tablet, _) => Way::App,
            (_, DeviceOs::Windows) => Way::Windows,
            _ => Way::Posix,
        }
    }
}

/// Runs `privai enroll`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let path = super::spec_path(args.spec.as_deref())?;
    let loaded = super::load_spec(Some(&path))?;
    let spec = &loaded.spec;
    let device = find_device(spec, &args.device, &path.display().to_string())?;
    let way = Way::of(device);
    if args.show_key {
        return show_key(args, spec, device);
    }
    if args.show_password {
        return show_password(args, spec, device);
    }
    if args.svg.is_some() && way != Way::App {
        anyhow::bail!(
            "`--svg` writes the QR code a phone or tablet scans; `{}` is a {} and joins with the command `privai enroll {}` prints",
            device.name,
            kind_name(device.kind),
            device.name
        );
    }
    let text = match way {
        Way::App => {
            let qr = qr_terminal(&spec.headscale.server_url)
                .context("the login server's URL is too long for a QR code")?;
            enroll::app(spec, device, &qr)
        }
        Way::Windows => enroll::windows(spec, device),
        Way::Posix => enroll::posix(spec, device),
    };
    if let Some(file) = &args.svg {
        let svg = qr_svg(&spec.headscale.server_url)
            .context("the login server's URL is too long for a QR code")?;
        crate::state::atomic::write(file, svg.as_bytes(), 0o644)
            .with_context(|| format!("writing `{}`", file.display()))?;
    }
    let matrix = matrix_text(spec, device, way)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.write_all(matrix.as_bytes())?;
    if let Some(file) = &args.svg {
        writeln!(out, "\nThe QR code is also in `{}` (SVG).", file.display())?;
    }
    Ok(Exit::Ok)
}

/// The device named `name`, or an error with a suggestion and the list of devices.
fn find_device<'a>(spec: &'a Spec, name: &str, spec_path: &str) -> anyhow::Result<&'a Device> {
    if let Some(device) = spec.devices.iter().find(|d| d.name == name) {
        return Ok(device);
    }
    let names: Vec<String> = spec.devices.iter().map(|d| d.name.clone()).collect();
    let mut message = format!("`{name}` is not a device of `{spec_path}`");
    if let Some(close) = crate::spec::closest(name, &names) {
        message.push_str(&format!("; did you mean `{close}`?"));
    }
    if names.is_empty() {
        message.push_str("\nthe spec lists no devices (add them under `devices`)");
    } else {
        message.push_str(&format!("\ndevices: {}", names.join(", ")));
    }
    anyhow::bail!(message)
}

fn kind_name(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Phone => "phone",
        DeviceKind::Laptop => "laptop",
        DeviceKind::Desktop => "desktop",
        DeviceKind::Server => "server",
        DeviceKind::Tablet => "tablet",
    }
}

/// A QR code of `text` for the terminal: two modules per character with
/// half blocks, light modules and the 4-module quiet zone drawn as blocks,
/// which suits the usual light-on-dark terminal. Every line ends in a newline.
fn qr_terminal(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let drawing = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    Some(drawing + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_qr_code_has_the_code_plus_a_quiet_zone_of_four_modules() {
        let url = "https://headscale.home.arpa";
        let modules = QrCode::new(url.as_bytes()).unwrap().width();
        let drawing = qr_terminal(url).unwrap();
        let lines: Vec<&str> = drawing.lines().collect();
        let side = modules + 2 * 4;
        // Two module rows per line.
        assert_eq!(lines.len(), side.div_ceil(2));
        for line in &lines {
            assert_eq!(line.chars().count(), side, "{line:?}");
        }
        // The quiet zone is light: full blocks on the first two lines (four
        // rows) and in the first and last four columns of every line.
        assert!(lines[..2].iter().all(|l| l.chars().all(|c| c == '█')));
        for line in &lines[..lines.len() - 1] {
            let chars: Vec<char> = line.chars().collect();
            assert!(chars[..4].iter().all(|&c| c == '█'), "{line:?}");
            assert!(chars[side - 4..].iter().all(|&c| c == '█'), "{line:?}");
        }
        // An odd number of rows: the last line holds one row, the upper halves.
        if side % 2 == 1 {
            assert!(lines[lines.len() - 1].chars().all(|c| c == '▀'));
        }
        // The finder pattern's dark top edge: seven dark modules after the
        // quiet zone on row 4 (line 2, upper half), drawn as lower halves or blanks.
        let row4: Vec<char> = lines[2].chars().collect();
        assert!(row4[4..11].iter().all(|&c| c == '▄' || c == ' '));
    }
}
