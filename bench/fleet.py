#!/usr/bin/env python3
"""Parallelism of a fleet apply, over the real OpenSSH (root, Linux).

Usage: sudo python3 bench/fleet.py [RUNS]   (BINARY=path/to/privai to pick a build;
                                             default target/debug/privai, built first)

Three hosts, each a network namespace running Debian's sshd with its own
host key and root home, and the operator's laptop, a fourth namespace:
`hs` runs Headscale, `gpu` runs Ollama, `spare` runs nothing. `gpu` and
`spare` need only `hs`, so they are independent. Each host's sshd delays
`privai apply` by a known amount before running it (ForceCommand: `sleep
D`, then the command): gpu by GPU_DELAY, spare by SPARE_DELAY seconds.

Prints the minimum and median wall time of the whole fleet apply
(`privai apply --host-root DIR --auto-approve --json`, a fresh DIR each
run, so every host really applies) with `--parallel 1` and `--parallel 4`.
With the two independent hosts in parallel the run takes about the larger
delay plus privai's own time; one at a time, about the sum.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
BINARY = Path(os.environ.get("BINARY", ROOT / "target" / "debug" / "privai"))
GPU_DELAY = 2.0
SPARE_DELAY = 3.0
PREFIX = f"pvb{os.getpid()}"
HOSTS = {"hs": 0.0, "gpu": GPU_DELAY, "spare": SPARE_DELAY}

SPEC = """(import "privai/profiles/linux-server.ncl") & {
  host_defaults.ram_gb = 16,
  hosts = [
    { name = "hs", roles = ['headscale], tailnet_ip = "100.64.0.1",
      deploy = { ssh = "root@hs.bench" } },
    { name = "gpu", roles = ['ollama], tailnet_ip = "100.64.0.2",
      deploy = { ssh = "root@gpu.bench" } },
    { name = "spare", tailnet_ip = "100.64.0.3",
      deploy = { ssh = "root@spare.bench" } },
  ],
  headscale = { server_url = "https://hs.home.arpa", listen_addr = "127.0.0.1:8080", tls.mode = 'proxy,
                api_key = "file:/etc/privai/secrets/headscale-api-key" },
  users = [{ name = "user1" }],
  ollama = { listen = "100.64.0.2", models = [{ name = "llama3.2:3b", role = 'primary }] },
}
"""

# Delays `privai apply` (never the version check or the copies) by $1 seconds.
FORCE = 'sh -c \'case "$SSH_ORIGINAL_COMMAND" in *" apply "*) sleep {delay};; esac; exec sh -c "$SSH_ORIGINAL_COMMAND"\''


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("run as root: the bench makes network namespaces")
    if "BINARY" not in os.environ:
        subprocess.run(["cargo", "build", "--quiet", "--bin", "privai"], cwd=ROOT, check=True)
    for tool in ["sshd", "ssh", "ssh-keygen"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install -y openssh-server openssh-client")
    tmp = Path(tempfile.mkdtemp(prefix="privai-fleet-bench-"))
    bridge = f"{PREFIX}-br"
    names = ["laptop", *HOSTS]
    spaces = {name: f"{PREFIX}-{i}" for i, name in enumerate(names)}
    addresses = {name: f"172.31.251.{i + 1}" for i, name in enumerate(names)}
    daemons = []
    try:
        ip("netns", "add", bridge)
        ip("-n", bridge, "link", "add", "br0", "type", "bridge")
        ip("-n", bridge, "link", "set", "br0", "up")
        passwd = Path("/etc/passwd").read_text().splitlines()
        for i, name in enumerate(names):
            ns = spaces[name]
            ip("netns", "add", ns)
            ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", f"h{i}", "netns", bridge)
            ip("-n", bridge, "link", "set", f"h{i}", "master", "br0")
            ip("-n", bridge, "link", "set", f"h{i}", "up")
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "addr", "add", f"{addresses[name]}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            home = tmp / "homes" / name
            (home / ".ssh").mkdir(parents=True)
            etc = Path("/etc/netns") / ns
            etc.mkdir(parents=True, exist_ok=True)
            lines = []
            for line in passwd:
                fields = line.split(":")
                if fields[0] == "root":
                    fields[5] = str(home)
                lines.append(":".join(fields))
            (etc / "passwd").write_text("\n".join(lines) + "\n")
            (etc / "hosts").write_text(
                "127.0.0.1 localhost\n" + "".join(f"{addresses[h]} {h}.bench\n" for h in HOSTS)
            )
            (etc / "resolv.conf").write_text("")
        laptop = tmp / "homes" / "laptop"
        key = laptop / ".ssh" / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        authorized = tmp / "authorized_keys"
        shutil.copy(key.with_suffix(".pub"), authorized)
        Path("/run/sshd").mkdir(exist_ok=True)
        known = []
        for name, delay in HOSTS.items():
            host_key = tmp / f"{name}_host_ed25519"
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
            known.append(f"{name}.bench,{addresses[name]} {host_key.with_suffix('.pub').read_text()}")
            config = tmp / f"{name}_sshd_config"
            config.write_text(
                f"ListenAddress {addresses[name]}\nHostKey {host_key}\nAuthorizedKeysFile {authorized}\n"
                "PidFile none\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
                f"ForceCommand {FORCE.format(delay=delay)}\n"
            )
            log = open(tmp / f"{name}_sshd.log", "w")
            daemons.append(subprocess.Popen(
                ["ip", "netns", "exec", spaces[name], shutil.which("sshd"), "-D", "-e", "-f", str(config)],
                stdout=log, stderr=log,
            ))
        (laptop / ".ssh" / "known_hosts").write_text("".join(known))
        spec = tmp / "privai.ncl"
        spec.write_text(SPEC)
        time.sleep(1)

        def apply(parallel: int, run: int) -> float:
            start = time.perf_counter()
            done = subprocess.run(
                ["ip", "netns", "exec", spaces["laptop"], str(BINARY), "apply", str(spec),
                 "--host-root", f"stage-{parallel}-{run}", "--auto-approve", "--json",
                 "--parallel", str(parallel)],
                capture_output=True, env={**os.environ, "HOME": str(laptop)},
            )
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"fleet apply: exit {done.returncode}\n{done.stdout.decode()[-3000:]}\n{done.stderr.decode()}")
            return elapsed

        apply(4, -1)  # privai is copied to each host once, outside the timing
        print(f"fleet apply of 3 hosts (gpu and spare independent, apply delayed {GPU_DELAY:g} s and "
              f"{SPARE_DELAY:g} s by their sshd), {RUNS} runs (s):   min   median")
        for parallel in [1, 4]:
            times = sorted(apply(parallel, run) for run in range(RUNS))
            print(f"  --parallel {parallel}{'':34} {times[0]:6.2f} {statistics.median(times):6.2f}")
        print(f"  (sum of the delays {GPU_DELAY + SPARE_DELAY:g} s, the larger {max(GPU_DELAY, SPARE_DELAY):g} s)")
    finally:
        for daemon in daemons:
            daemon.kill()
            daemon.wait()
        for ns in [*spaces.values(), bridge]:
            subprocess.run(["ip", "netns", "del", ns], check=False)
            shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
