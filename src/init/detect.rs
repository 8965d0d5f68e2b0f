//! Reads the facts of the machine `privai init` runs on: the only I/O of
//! `init` besides writing the spec.
//!
//! - Linux: memory from `/proc/meminfo`, the processor from `/proc/cpuinfo`,
//!   an NVIDIA GPU from `nvidia-smi` when it is installed;
//! - macOS: `sysctl -n hw.memsize` and `machdep.cpu.brand_string`.
//!
//! A fact that cannot be read is left out (the chip, the GPU) or refused
//! with what to do (the memory).

use super::{Gpu, MachineFacts};
use crate::model::{Arch, Platform};
use anyhow::{Context, bail};
use std::process::Command;
use std::time::Duration;

/// Longest a probe command (`sysctl`, `nvidia-smi`) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The facts of this machine.
pub fn this_machine() -> anyhow::Result<MachineFacts> {
    let platform = match std::env::consts::OS {
        "macos" => Platform::Darwin,
        "linux" => Platform::Linux,
        other => bail!("privai deploys to macOS and Linux, not {other}; run `privai init` there"),
    };
    let arch = match std::env::consts::ARCH {
        "aarch64" => Arch::Aarch64,
        "x86_64" => Arch::X86_64,
        other => bail!("privai supports aarch64 and x86_64 machines, not {other}"),
    };
    let (ram_bytes, chip, gpu) = match platform {
        Platform::Linux => {
            let meminfo = std::fs::read_to_string("/proc/meminfo")
                .context("cannot read /proc/meminfo to learn the memory of this machine")?;
            let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
            let gpu = probe(
                "nvidia-smi",
                &[
                    "--query-gpu=name,memory.total",
                    "--format=csv,noheader,nounits",
                ],
            )
            .and_then(|out| nvidia_gpu(&out));
            (meminfo_bytes(&meminfo), cpu_model(&cpuinfo), gpu)
        }
        Platform::Darwin => {
            let memsize = probe("sysctl", &["-n", "hw.memsize"]);
            let chip = probe("sysctl", &["-n", "machdep.cpu.brand_string"])
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty());
            (memsize.and_then(|m| m.trim().parse().ok()), chip, None)
        }
    };
    let Some(ram_bytes) = ram_bytes else {
        bail!(
            "cannot learn the memory of this machine; write the spec from `privai examples minimal.toml` and set `ram_gb`"
        );
    };
    Ok(MachineFacts {
        platform,
        arch,
        ram_gb: ram_gb(ram_bytes),
        chip,
        gpu,
        hostname: gethostname::gethostname().to_string_lossy().into_owned(),
        user: std::env::var("USER").unwrap_or_default(),
    })
}

/// Installed memory in whole GB as machines are sold (a 16 GB machine
/// reports a little less than 16 GiB to Linux).
pub fn ram_gb(bytes: u64) -> u32 {
    (bytes as f64 / crate::sizing::GIB).round().max(1.0) as u32
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
pub fn meminfo_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The first `model name` of `/proc/cpuinfo`.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The first GPU of `nvidia-smi --query-gpu=name,memory.total
/// --format=csv,noheader,nounits` (memory in MiB).
pub fn nvidia_gpu(output: &str) -> Option<Gpu> {
    let (name, mib) = output.lines().next()?.rsplit_once(',')?;
    let mib: f64 = mib.trim().parse().ok()?;
    Some(Gpu {
        name: name.trim().to_owned(),
        memory_gb: (mib / 1024.0).round() as u32,
    })
}

/// The standard output of `program args`, if it runs and succeeds within
/// [`PROBE_TIMEOUT`].
fn probe(program: &str, args: &[&str]) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + PROBE_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let output = child.wait_with_output().ok()?;
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .chars()
            .take(4096)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_read_from_meminfo_and_rounded_to_what_the_machine_was_sold_with() {
        let meminfo = "MemTotal:        7989612 kB\nMemFree: 1 kB\n";
        assert_eq!(meminfo_bytes(meminfo), Some(7989612 * 1024));
        assert_eq!(ram_gb(meminfo_bytes(meminfo).unwrap()), 8);
        assert_eq!(meminfo_bytes("nothing"), None);
    }

    #[test]
    fn the_processor_and_an_nvidia_gpu_are_read_from_their_reports() {
        assert_eq!(
            cpu_model("processor\t: 0\nmodel name\t: AMD Ryzen 9 7900\n").as_deref(),
            Some("AMD Ryzen 9 7900")
        );
        assert_eq!(
            nvidia_gpu("NVIDIA GeForce RTX 4090, 24564\n"),
            Some(Gpu {
                name: "NVIDIA GeForce RTX 4090".into(),
                memory_gb: 24
            })
        );
        assert_eq!(nvidia_gpu("garbage"), None);
    }

    #[test]
    fn this_machine_is_read_without_error() {
        let facts = this_machine().unwrap();
        assert!(facts.ram_gb >= 1);
    }
}
