//! Benchmark: the full reachability matrix of a generated spec with 1,000
//! devices and 2,000 rules (plus the policy's compilation).
//!
//!   cargo bench --bench acl_matrix
//!
//! Prints the minimum and median wall time over ten runs.

// Writes its own scratch files with std::fs (clippy.toml's rule is for privai).
#![allow(clippy::disallowed_methods)]

use privai::acl::eval::Policy;
use privai::acl::matrix::matrix;
use privai::model::{AclAction, AclRule, Device, DeviceKind, DeviceOs, Protocol, User};
use std::time::{Duration, Instant};

fn generated(devices: usize, rules: usize) -> privai::model::Spec {
    let dir = std::env::temp_dir().join(format!("privai-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("base.ncl");
    std::fs::write(
        &path,
        r#"{ hosts = [
              { name = "server", platform = 'linux, ram_gb = 64, roles = ['headscale, 'ollama], tailnet_ip = "100.64.0.1" },
              { name = "gateway", platform = 'linux, ram_gb = 32, roles = ['openclaw], tailnet_ip = "100.64.0.2" },
            ],
            openclaw = { image = "x@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c", model.primary = "m" } }"#,
    )
    .unwrap();
    let mut spec = privai::spec::load(&path).unwrap().spec;
    std::fs::remove_dir_all(&dir).ok();
    let users = devices / 4;
    spec.users = (0..users)
        .map(|u| User {
            name: format!("u{u}"),
            display_name: None,
            email: None,
        })
        .collect();
    for g in 0..50 {
        let members = (0..users)
            .filter(|u| u % 50 == g)
            .map(|u| format!("u{u}"))
            .collect();
        spec.groups.insert(format!("g{g}"), members);
    }
    spec.devices = (0..devices)
        .map(|d| Device {
            name: format!("d{d}"),
            user: format!("u{}", d % users),
            kind: DeviceKind::Laptop,
            os: DeviceOs::Linux,
            tags: if d % 10 == 0 {
                vec![format!("tag:t{}", d % 7)]
            } else {
                Vec::new()
            },
            tailnet_ip: Some(format!("100.64.{}.{}", 1 + d / 250, 1 + d % 250)),
            ephemeral: false,
            reusable: false,
        })
        .collect();
    spec.acl.rules = (0..rules)
        .map(|r| {
            let src = match r % 4 {
                0 => format!("group:g{}", r % 50),
                1 => format!("u{}@", r % users),
                2 => format!("tag:t{}", r % 7),
                _ => format!("d{}", r % devices),
            };
            let dst = match r % 3 {
                0 => format!("gateway:{}", 18000 + r % 1000),
                1 => format!("server:{}-{}", 1000 + r % 100, 1100 + r % 100),
                _ => format!("d{}:22,80,443", (r * 7) % devices),
            };
            AclRule {
                action: AclAction::Accept,
                src: vec![src],
                dst: vec![dst],
                proto: Some(Protocol::Tcp),
                comment: None,
            }
        })
        .collect();
    spec
}

fn main() {
    let (devices, rules, runs) = (1000, 2000, 10);
    let spec = generated(devices, rules);
    let mut times: Vec<Duration> = Vec::new();
    let mut allowed = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let policy = Policy::compile(&spec);
        let m = matrix(&spec, &policy);
        times.push(start.elapsed());
        allowed = m.cells.iter().flatten().filter(|c| c.is_some()).count();
        assert_eq!(m.sources.len(), devices);
    }
    times.sort();
    println!(
        "acl matrix: {devices} devices x {} services, {rules} rules: min {:.1} ms, median {:.1} ms over {runs} runs ({allowed} cells allowed)",
        privai::acl::matrix::services(&spec).len(),
        times[0].as_secs_f64() * 1000.0,
        times[times.len() / 2].as_secs_f64() * 1000.0,
    );
}
