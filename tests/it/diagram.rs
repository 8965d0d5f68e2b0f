//! `privai diagram`: the seed's system drawn by real renderers, rsvg-convert
//! (librsvg) for the SVG and Graphviz for the DOT.

use crate::tools::{repo, which};
use assert_cmd::Command;
use std::path::Path;

fn diagram(spec: &str, format: &str) -> Vec<u8> {
    let out = Command::cargo_bin("privai")
        .unwrap()
        .args(["diagram", repo(spec).to_str().unwrap(), "--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `program`, or a failure naming the Debian package that has it (never a skip).
fn need(program: &str, package: &str) -> std::path::PathBuf {
    which(program).unwrap_or_else(|| {
        panic!("{program} is missing: `apt-get install {package}` (tests/run.sh installs it)")
    })
}

/// Width, height and the share of pixels that are not white.
fn read_png(path: &Path) -> (u32, u32, f64) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    let inked = pixels[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|&v| v < 200))
        .count();
    let total = (info.width * info.height) as f64;
    (info.width, info.height, inked as f64 / total)
}

#[test]
fn the_seed_s_svg_renders_with_rsvg_convert_to_a_picture_with_ink_on_it() {
    let rsvg = need("rsvg-convert", "librsvg2-bin");
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("seed.svg");
    std::fs::write(&svg, diagram("examples/seed-home.ncl", "svg")).unwrap();
    let png = dir.path().join("seed.png");
    let out = std::process::Command::new(rsvg)
        .arg(&svg)
        .arg("-o")
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (width, height, inked) = read_png(&png);
    assert_eq!(width, 1000);
    assert!((300..1200).contains(&height), "height {height}");
    // Boxes, text and edges: a few percent of the picture, not blank, not a blot.
    assert!(inked > 0.02 && inked < 0.5, "inked share {inked}");
}

#[test]
fn the_seed_s_svg_names_every_person_device_service_and_open_rule() {
    let svg = String::from_utf8(diagram("examples/seed-home.ncl", "svg")).unwrap();
    for text in [
        "user1",
        "user2",
        ">phone <",
        ">laptop <",
        ">desktop <",
        "openclaw-server",
        "Headscale :443",
        "Ollama :11434",
        "OpenClaw gateway :18789",
        "homeserver :8008",
        "127.0.0.1:11434 (loopback)",
        "acl.rules[0]: Trusted people chat on the private Matrix homeserver.",
        "acl.rules[1]: Trusted people talk to the AI gateway.",
    ] {
        assert!(svg.contains(text), "{text} missing");
    }
    // Two edges per device: to the homeserver and to the gateway.
    assert_eq!(svg.matches("</title></path>").count(), 6);
    assert_eq!(
        svg.matches("stroke-dasharray").count(),
        1,
        "the gateway to Ollama"
    );
    assert_eq!(svg.matches(":8008 (acl.rules[0])</title>").count(), 3);
    assert_eq!(svg.matches(":18789 (acl.rules[1])</title>").count(), 3);
}

#[test]
fn the_seed_s_dot_is_read_by_graphviz() {
    let dot = need("dot", "graphviz");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seed.dot");
    let text = diagram("examples/seed-home.ncl", "dot");
    std::fs::write(&file, &text).unwrap();
    let out = std::process::Command::new(dot)
        .args(["-Tpng", "-o"])
        .arg(dir.path().join("seed.png"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, _, inked) = read_png(&dir.path().join("seed.png"));
    assert!(inked > 0.01, "inked share {inked}");
    assert_eq!(String::from_utf8(text).unwrap().matches(" -> ").count(), 7);
}

#[test]
fn the_mermaid_flowchart_has_a_subgraph_per_person_and_host_and_an_edge_per_open_connection() {
    let text = String::from_utf8(diagram("examples/linux-homelab.ncl", "mermaid")).unwrap();
    assert!(text.starts_with("flowchart LR\n"));
    assert_eq!(text.matches("  subgraph ").count(), 4, "{text}");
    assert_eq!(
        text.matches(" -->|\"tcp 18789 · rule 0\"| ").count(),
        4,
        "{text}"
    );
    assert_eq!(text.matches("  end\n").count(), 4);
}

#[test]
fn live_marks_each_device_online_or_offline_as_headscale_reports_and_still_renders() {
    use crate::apply::{HEADSCALE_KEY, privai, stdout};
    use std::ffi::OsStr;
    let (seed, spec) = crate::status::applied();
    let desktop = seed.headscale.join("desktop", "user1", &[]);
    seed.headscale.set_online(desktop, true);
    let laptop = seed.headscale.join("laptop", "user2", &[]);
    seed.headscale.set_online(laptop, false);
    let root = seed.root();
    let out = privai(
        [
            OsStr::new("diagram"),
            spec.as_os_str(),
            "--live".as_ref(),
            "--root".as_ref(),
            root.as_os_str(),
        ],
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = stdout(&out);
    assert_eq!(svg.matches("● online").count(), 1, "desktop");
    assert_eq!(
        svg.matches("○ offline").count(),
        2,
        "laptop, and the phone not joined"
    );
    let desktop_at = svg.find(">desktop <").unwrap();
    let online_at = svg.find("● online").unwrap();
    assert!(
        online_at.abs_diff(desktop_at) < 400,
        "the mark sits in the desktop's box"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("live.svg"), &svg).unwrap();
    let rendered = std::process::Command::new(need("rsvg-convert", "librsvg2-bin"))
        .arg(dir.path().join("live.svg"))
        .arg("-o")
        .arg(dir.path().join("live.png"))
        .output()
        .unwrap();
    assert!(rendered.status.success());
    let (width, _, inked) = read_png(&dir.path().join("live.png"));
    assert_eq!(width, 1000);
    assert!(inked > 0.02);
}

#[test]
fn live_on_a_staged_install_says_there_is_no_running_headscale() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("privai")
        .unwrap()
        .args([
            "diagram",
            repo("examples/seed-home.ncl").to_str().unwrap(),
            "--live",
            "--root",
        ])
        .arg(dir.path())
        .env_remove("PRIVAI_TEST_SERVICES")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a staged install (`--root`) runs none"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_spec_with_no_people_still_renders_and_says_what_to_add() {
    let svg = diagram("examples/minimal.toml", "svg");
    let text = String::from_utf8(svg.clone()).unwrap();
    assert!(text.contains("No people yet: add `users` and `devices` to the spec."));
    assert!(text.contains("Ollama :11434"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("min.svg"), &svg).unwrap();
    let out = std::process::Command::new(need("rsvg-convert", "librsvg2-bin"))
        .arg(dir.path().join("min.svg"))
        .arg("-o")
        .arg(dir.path().join("min.png"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, height, inked) = read_png(&dir.path().join("min.png"));
    assert!(
        height > 200 && inked > 0.01,
        "height {height}, inked {inked}"
    );
}

#[test]
fn the_readme_s_picture_is_what_privai_draws_for_the_seed() {
    let drawn = String::from_utf8(diagram("examples/seed-home.ncl", "svg")).unwrap();
    let shown = std::fs::read_to_string(repo("docs/seed-diagram.svg")).unwrap();
    assert!(
        drawn == shown,
        "docs/seed-diagram.svg is stale: `privai diagram examples/seed-home.ncl > docs/seed-diagram.svg`"
    );
}

/// Every example in every format, kept exactly: the diagrams are drawn from
/// templates (`src/diagram/templates/`), and a change of one shows here.
#[test]
fn every_example_draws_the_same_in_every_format() {
    for example in [
        "examples/seed-home.ncl",
        "examples/minimal.toml",
        "examples/linux-homelab.ncl",
    ] {
        for format in ["svg", "mermaid", "dot"] {
            let text = String::from_utf8(diagram(example, format)).unwrap();
            let name = format!("{}_{format}", example.replace(['/', '.'], "_"));
            insta::assert_snapshot!(name, text);
        }
    }
}
