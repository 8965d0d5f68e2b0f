//! Running privai on specs written by someone else: what a hostile spec can
//! make `privai check` do. Each test is one input of tracker issue 12 (items
//! 3, 6, 7 and 8), with the error code, place and exit status it must give.

use assert_cmd::Command;
use std::path::Path;
use std::time::{Duration, Instant};

fn privai() -> Command {
    let mut cmd = Command::cargo_bin("privai").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// A spec named `name` with `text` in a fresh directory.
fn spec(name: &str, text: impl AsRef<[u8]>) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// `privai check --format json` on `path` with `extra` flags: exit status and report.
fn check_json(path: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let out = privai()
        .args(extra)
        .args(["check", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report, stdout)
}

/// The first diagnostic's code, file, line and column.
fn first(report: &serde_json::Value) -> (String, String, u64, u64) {
    let d = &report["diagnostics"][0];
    (
        d["code"].as_str().unwrap_or_default().to_owned(),
        d["location"]["file"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        d["location"]["line"].as_u64().unwrap_or_default(),
        d["location"]["column"].as_u64().unwrap_or_default(),
    )
}

const SECRET: &str = "TOP-SECRET-CONTENT-0451";

#[test]
fn importing_a_file_outside_the_spec_directory_is_refused_without_printing_it() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("id_ed25519");
    std::fs::write(&secret, SECRET).unwrap();
    let text = format!(
        "{{ hosts = [], x = import \"{}\" as 'Text }}",
        secret.display()
    );
    let (_dir, path) = spec("spec.ncl", &text);
    for format in ["json", "github", "human"] {
        let out = privai()
            .args(["check", "--format", format])
            .arg(&path)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            !all.contains(SECRET),
            "--format {format} printed the file:\n{all}"
        );
        assert!(all.contains("PRV085"), "--format {format}:\n{all}");
    }
    let (_, report, _) = check_json(&path, &[]);
    let (code, file, line, column) = first(&report);
    assert_eq!((code.as_str(), line, column), ("PRV085", 1, 19));
    assert_eq!(file, path.display().to_string());
    assert!(
        report["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("id_ed25519")
    );
}

#[test]
fn proc_self_environ_cannot_be_imported() {
    let (_dir, path) = spec(
        "spec.ncl",
        "{ hosts = [], x = import \"/proc/self/environ\" as 'Text }",
    );
    let (status, report, _) = check_json(&path, &[]);
    assert_eq!(status, Some(1));
    assert_eq!(first(&report).0, "PRV085");
}

#[test]
fn every_import_form_is_confined() {
    let outside = tempfile::tempdir().unwrap();
    for (file, form) in [
        ("x.ncl", ""),
        ("x.json", " as 'Json"),
        ("x.toml", " as 'Toml"),
        ("x.yaml", " as 'Yaml"),
        ("x.txt", " as 'Text"),
        ("x.cfg", " as 'Nickel"),
    ] {
        let target = outside.path().join(file);
        std::fs::write(&target, "").unwrap();
        let (_dir, path) = spec(
            "spec.ncl",
            format!(
                "{{ hosts = [], x = import \"{}\"{form} }}",
                target.display()
            ),
        );
        let (status, report, _) = check_json(&path, &[]);
        assert_eq!(status, Some(1), "{form}");
        assert_eq!(first(&report).0, "PRV085", "{form}: {report:#}");
    }
}

#[test]
fn relative_imports_climbing_out_and_symlinks_pointing_out_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x.ncl"), "{}").unwrap();
    let base = tempfile::tempdir().unwrap();
    let specdir = base.path().join("spec");
    std::fs::create_dir(&specdir).unwrap();
    std::fs::write(base.path().join("up.ncl"), "{}").unwrap();
    std::os::unix::fs::symlink(outside.path().join("x.ncl"), specdir.join("link.ncl")).unwrap();
    for import in ["../up.ncl", "link.ncl"] {
        let path = specdir.join("spec.ncl");
        std::fs::write(&path, format!("(import \"{import}\") & {{ hosts = [] }}")).unwrap();
        let (status, report, _) = check_json(&path, &[]);
        assert_eq!(status, Some(1), "{import}");
        assert_eq!(first(&report).0, "PRV085", "{import}: {report:#}");
    }
}

#[test]
fn nested_imports_are_confined_as_well() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("leak.json"), format!("\"{SECRET}\"")).unwrap();
    let (dir, path) = spec("spec.ncl", "(import \"sub/part.ncl\") & { hosts = [] }");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/part.ncl"),
        format!(
            "{{ leak = import \"{}\" }}",
            outside.path().join("leak.json").display()
        ),
    )
    .unwrap();
    let (status, report, stdout) = check_json(&path, &[]);
    assert_eq!(status, Some(1));
    let (code, file, line, _) = first(&report);
    assert_eq!(code, "PRV085");
    assert!(file.ends_with("sub/part.ncl"), "{file}");
    assert_eq!(line, 1);
    assert!(!stdout.contains(SECRET));
}

#[test]
fn allow_import_opens_one_more_directory() {
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(shared.path().join("hosts.ncl"), "[]").unwrap();
    let text = format!(
        "{{ hosts = import \"{}\" }}",
        shared.path().join("hosts.ncl").display()
    );
    let (_dir, path) = spec("spec.ncl", &text);
    let (status, report, _) = check_json(&path, &[]);
    assert_eq!((status, first(&report).0.as_str()), (Some(1), "PRV085"));
    let allow = shared.path().display().to_string();
    let (_, report, _) = check_json(&path, &["--allow-import", &allow]);
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(!codes.contains(&"PRV085"), "{report:#}");
}

#[test]
fn imports_inside_the_spec_directory_and_bundled_profiles_still_work() {
    let (dir, path) = spec(
        "spec.ncl",
        "(import \"privai/profiles/hardened.ncl\") & (import \"parts/hosts.ncl\")",
    );
    std::fs::create_dir(dir.path().join("parts")).unwrap();
    std::fs::write(
        dir.path().join("parts/hosts.ncl"),
        "{ hosts = [ { name = \"mac\", platform = 'darwin, ram_gb = 16, roles = ['ollama] } ], ollama.models = [ { name = \"llama3.1:8b\", role = 'primary } ] }",
    )
    .unwrap();
    let (_, report, _) = check_json(&path, &[]);
    assert_eq!(report["errors"], 0, "{report:#}");
}

#[test]
fn dev_zero_and_a_fifo_are_refused_as_non_regular_files_at_once() {
    let (dir, path) = spec(
        "spec.ncl",
        "{ hosts = [], x = import \"/dev/zero\" as 'Text }",
    );
    let fifo = dir.path().join("pipe.ncl");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let start = Instant::now();
    // /dev/zero lies outside the spec's directory: refused for that first.
    let (status, report, _) = check_json(&path, &["--allow-import", "/dev"]);
    assert_eq!(status, Some(1));
    assert_eq!(first(&report).0, "PRV086", "{report:#}");
    std::fs::write(&path, "{ hosts = [], x = import \"pipe.ncl\" }").unwrap();
    let (status, report, _) = check_json(&path, &[]);
    assert_eq!(status, Some(1));
    let (code, _, line, column) = first(&report);
    assert_eq!((code.as_str(), line, column), ("PRV086", 1, 19));
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn json_nested_1600_deep_is_an_error_not_a_crash() {
    let text = format!("{}{}", "[".repeat(1600), "]".repeat(1600));
    let (_dir, path) = spec("spec.json", text);
    let (status, report, _) = check_json(&path, &[]);
    assert_eq!(status, Some(1));
    let (code, _, line, column) = first(&report);
    assert_eq!((code.as_str(), line), ("PRV088", 1));
    assert!(column > 100, "column {column}");
}

#[test]
fn nickel_records_nested_2000_deep_are_an_error_not_a_crash() {
    let text = format!("{}1{}", "{ a = ".repeat(2000), " }".repeat(2000));
    let (_dir, path) = spec("spec.ncl", text);
    let (status, report, _) = check_json(&path, &[]);
    assert_eq!(status, Some(1));
    assert_eq!(first(&report).0, "PRV088", "{report:#}");
}

#[test]
fn infinite_recursion_stops_at_the_memory_limit_quickly() {
    let (_dir, path) = spec(
        "spec.ncl",
        "let rec f = fun n => [n] @ f (n + 1) in { hosts = f 0 }",
    );
    let start = Instant::now();
    let (status, report, _) = check_json(
        &path,
        &["--max-eval-memory", "64MiB", "--max-eval-time", "60s"],
    );
    assert_eq!(status, Some(1));
    let (code, file, line, column) = first(&report);
    assert_eq!(code, "PRV089", "{report:#}");
    assert_eq!((file, line, column), (path.display().to_string(), 1, 1));
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_slow_evaluation_stops_at_the_time_limit() {
    let (_dir, path) = spec(
        "spec.ncl",
        "let rec spin = fun n => if n < 0 then n else spin (n + 1) in { hosts = [], x = spin 0 }",
    );
    let start = Instant::now();
    let (status, report, _) = check_json(&path, &["--max-eval-time", "1s"]);
    assert_eq!(status, Some(1));
    assert_eq!(first(&report).0, "PRV090", "{report:#}");
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_100_million_element_array_is_an_error_not_a_panic() {
    let (_dir, path) = spec(
        "spec.ncl",
        "{ hosts = [], x = std.array.generate (fun i => i) 100000000 }",
    );
    let (status, report, _) = check_json(&path, &["--max-eval-memory", "256MiB"]);
    assert_eq!(status, Some(1));
    assert_eq!(first(&report).0, "PRV089", "{report:#}");
}

#[test]
fn a_50_megabyte_line_with_a_trailing_comma_is_reported_briefly() {
    let mut text = String::from("{\"hosts\": [], \"x\": [");
    while text.len() < 50_000_000 {
        text.push_str("123456789, ");
    }
    text.push_str("1,]}");
    let (_dir, path) = spec("spec.json", &text);
    let out = privai().arg("check").arg(&path).output().unwrap();
    // `check` reports on stdout; nothing else is printed.
    let stderr = printed(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.len() < 4_000, "printed {} bytes", stderr.len());
    assert!(stderr.contains("PRV001"), "{stderr}");
    assert!(stderr.contains(":1:"), "{stderr}");
}

#[test]
fn two_thousand_duplicate_names_on_one_line_print_little() {
    let host = "{ name = \"box\", platform = 'linux, ram_gb = 16 }, ";
    let text = format!("{{ hosts = [ {} ] }}", host.repeat(2000));
    let (_dir, path) = spec("spec.ncl", &text);
    let out = privai().arg("check").arg(&path).output().unwrap();
    let stderr = printed(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("PRV012"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    // One windowed excerpt per finding, not the 100 kB line each time.
    assert!(
        stderr.len() < 2_000 * 1_500,
        "printed {} bytes",
        stderr.len()
    );
}

#[test]
fn a_binary_spec_is_reported_as_not_utf8_at_the_first_bad_byte() {
    let (_dir, path) = spec("spec.ncl", b"{ hosts = [] }\n\xff\xfe\x00binary");
    let (status, report, _) = check_json(&path, &[]);
    assert_eq!(status, Some(1));
    let (code, _, line, column) = first(&report);
    assert_eq!((code.as_str(), line, column), ("PRV091", 2, 1));
}

#[test]
fn a_huge_number_is_out_of_range_at_its_place() {
    let (_dir, path) = spec(
        "spec.ncl",
        "{ hosts = [ { name = \"mac\", platform = 'darwin,\n  ram_gb = 1e30, roles = ['ollama] } ] }",
    );
    let (status, report, _) = check_json(&path, &[]);
    assert_eq!(status, Some(1));
    let (code, _, line, column) = first(&report);
    assert_eq!(
        (code.as_str(), line, column),
        ("PRV093", 2, 12),
        "{report:#}"
    );
    assert_eq!(report["diagnostics"][0]["path"], "hosts[0].ram_gb");
}

#[test]
fn duplicate_json_keys_are_named_with_their_place() {
    let (_dir, path) = spec("spec.json", "{\n  \"hosts\": [],\n  \"hosts\": []\n}");
    let (status, report, _) = check_json(&path, &[]);
    assert_eq!(status, Some(1));
    let (code, _, line, _) = first(&report);
    assert_eq!((code.as_str(), line), ("PRV092", 3), "{report:#}");
    assert!(
        report["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("duplicate key `hosts`")
    );
}

/// Everything a command printed, stdout then stderr.
fn printed(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
