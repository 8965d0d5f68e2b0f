#!/usr/bin/env python3
"""How privai scales with the size of the tailnet, release build.

Usage:
  python3 bench/scale.py [--runs R] [--sizes 10,100,1000,5000,10000]
                         [--formats toml,ncl] [--commands check,plan,apply,acl]
                         [--keep DIR] [--no-build] [--binary PATH]
  python3 bench/scale.py --write N FORMAT PATH   (only write one generated spec)

For each size N it generates a spec (the seed's server, plus N devices, N/5
users, N/20 groups, 2N rules and N/10 ACL tests) in TOML and in Nickel, and
runs each command R times as a whole process:

  check   privai check SPEC
  plan    privai plan SPEC --root EMPTY
  apply   privai apply SPEC --root ROOT --auto-approve, once ROOT is in place
          (the no-op apply: nothing to write)
  acl     privai acl SPEC --json

It prints the CPU time of `privai check examples/seed-home.ncl` (minimum and
median of at least 200 runs), then the
median CPU time (user + system, from wait4's rusage) and the
peak RSS of each, and the growth factor of the CPU time from one size to the
next, scaled to a doubling of N (factor ** (1 / log2(N2 / N1))): 2.0 is
linear, 4.0 quadratic. With --keep DIR the generated specs and the outputs of
`acl --json` stay in DIR (name-N.FORMAT, name-N.FORMAT.acl.json).
"""
import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "privai"
KINDS = [("phone", "ios"), ("laptop", "macos"), ("desktop", "linux"), ("phone", "android"), ("server", "linux")]
SERVER = "openclaw-server"
GATEWAY_PORT = 18789


class Tag(str):
    """An enum value: `'name` in Nickel, a string in TOML."""


def generate(n: int) -> dict:
    """The spec of size `n` as plain data (Tag marks enum values)."""
    users = max(1, n // 5)
    groups = max(1, n // 20)
    tags = max(1, n // 100)
    devices = []
    for i in range(n):
        kind, os_ = KINDS[i % len(KINDS)]
        device = {"name": f"d{i}", "user": f"u{i % users}", "kind": Tag(kind), "os": Tag(os_)}
        if i % 10 == 9:
            device["tags"] = [f"tag:t{i % tags}"]
        if i < 60000:
            device["tailnet_ip"] = f"100.64.{1 + i // 250}.{1 + i % 250}"
        devices.append(device)
    group_members = {f"g{g}": [] for g in range(groups)}
    for u in range(users):
        group_members[f"g{u % groups}"].append(f"u{u}")
    rules = []
    for r in range(2 * n):
        kind = r % 8
        if kind == 0:
            src, dst = f"group:g{r // 8 % groups}", f"{SERVER}:{GATEWAY_PORT}"
        elif kind == 1:
            src, dst = f"u{r % users}@", f"d{(r * 7) % n}:22,80,443"
        elif kind == 2:
            src, dst = f"tag:t{r % tags}", f"d{(r * 3) % n}:8000-8100"
        elif kind == 3:
            src, dst = f"d{r % n}", f"d{(r * 11) % n}:*"
        elif kind == 4:
            src, dst = f"group:g{r % groups}", f"tag:t{r % tags}:443"
        elif kind == 5:
            src, dst = f"u{r % users}@", "autogroup:self:22"
        elif kind == 6:
            src = f"100.64.{1 + (r // 250) % 40}.0/24"
            dst = f"{SERVER}:443" if r % 48 == 6 else f"d{(r * 13) % n}:5432"
        else:
            src, dst = f"group:g{r % groups}", f"d{(r * 5) % n}:1000-2000,3000"
        rule = {"src": [src], "dst": [dst], "proto": Tag("tcp")}
        if r % 16 == 0:
            rule["comment"] = f"rule {r}"
        rules.append(rule)
    tests = []
    for t in range(max(1, n // 10)):
        g = t % groups
        tests.append({
            "src": f"group:g{g}",
            "accept": [f"{SERVER}:{GATEWAY_PORT}"],
            "deny": [f"{SERVER}:11434"],
        })
    return {
        "hosts": [{
            "name": SERVER, "platform": Tag("darwin"), "ram_gb": 36,
            "roles": [Tag("headscale"), Tag("ollama"), Tag("openclaw")], "tailnet_ip": "100.64.0.1",
        }],
        "headscale": {
            "server_url": "https://headscale.home.arpa",
            "listen_addr": "0.0.0.0:443",
            "tls": {"mode": Tag("self_signed"), "cert_path": "/etc/privai/tls/headscale.crt",
                    "key_path": "/etc/privai/tls/headscale.key"},
            "prefixes": {"v4": "100.64.0.0/10"},
            "dns": {"magic_dns": True, "base_domain": "tailnet.home.arpa"},
            "api_key": "keychain:privai-headscale-api-key",
        },
        "users": [{"name": f"u{u}"} for u in range(users)],
        "groups": group_members,
        "devices": devices,
        "acl": {
            "rules": rules,
            "tests": tests,
            "tag_owners": {f"t{t}": [f"group:g{t % groups}"] for t in range(tags)},
            "hosts": {"ollama-server": "100.64.0.1"},
        },
        "ollama": {
            "listen": "127.0.0.1",
            "models": [{"name": "llama3.1:8b", "role": Tag("primary")},
                       {"name": "llama3.2:3b", "role": Tag("fallback")}],
        },
        "openclaw": {
            "image": "ghcr.io/openclaw/openclaw:2026.9.6@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
            "port": GATEWAY_PORT,
            "bind": "100.64.0.1",
            "gateway_token": "file:~/.config/privai/secrets/openclaw-gateway-token",
            "model": {"primary": "llama3.1:8b", "fallbacks": ["llama3.2:3b"]},
        },
    }


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def key(name: str) -> str:
    bare = name.replace("_", "a").replace("-", "a").isalnum() and not name[0].isdigit()
    return name if bare else quote(name)


def ncl(value, indent: str = "") -> str:
    if isinstance(value, Tag):
        return "'" + value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return quote(value)
    inner = indent + "  "
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(not isinstance(v, (dict, list)) for v in value):
            return "[" + ", ".join(ncl(v) for v in value) + "]"
        return "[\n" + "".join(f"{inner}{ncl(v, inner)},\n" for v in value) + indent + "]"
    if all(not isinstance(v, (dict, list)) or (isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v))
           for v in value.values()) and len(value) <= 6:
        return "{ " + ", ".join(f"{key(k)} = {ncl(v)}" for k, v in value.items()) + " }"
    return "{\n" + "".join(f"{inner}{key(k)} = {ncl(v, inner)},\n" for k, v in value.items()) + indent + "}"


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"


def toml(spec: dict) -> str:
    """TOML: tables for the sections, arrays of tables for the lists."""
    out = []

    def table(path: str, data: dict) -> None:
        scalars = {k: v for k, v in data.items() if not isinstance(v, dict) and not (
            isinstance(v, list) and v and isinstance(v[0], dict))}
        out.append(f"[{path}]")
        out.extend(f"{key(k)} = {toml_value(v)}" for k, v in scalars.items())
        out.append("")
        for k, v in data.items():
            if isinstance(v, dict):
                table(f"{path}.{key(k)}", v)
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                for item in v:
                    out.append(f"[[{path}.{key(k)}]]")
                    out.extend(f"{key(ik)} = {toml_value(iv)}" for ik, iv in item.items())
                    out.append("")

    for k, v in spec.items():
        if isinstance(v, dict):
            table(key(k), v)
        else:
            for item in v:
                out.append(f"[[{key(k)}]]")
                out.extend(f"{key(ik)} = {toml_value(iv)}" for ik, iv in item.items())
                out.append("")
    return "\n".join(out)


def write(n: int, fmt: str, path: Path) -> None:
    spec = generate(n)
    path.write_text(toml(spec) if fmt == "toml" else ncl(spec) + "\n")


def measured(args: list, ok=(0,), out: Path = None):
    """CPU seconds (user + system) and peak RSS (MiB) of one whole process."""
    stderr = Path(tempfile.gettempdir()) / f"privai-scale-{os.getpid()}.stderr"
    target = str(out) if out else os.devnull
    pid = os.posix_spawn(str(BINARY), [str(BINARY), *map(str, args)], os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, str(stderr), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ])
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        sys.exit(f"privai {' '.join(map(str, args))}: exit {code}\n{stderr.read_text()[-4000:]}")
    stderr.unlink(missing_ok=True)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="10,100,1000,5000,10000")
    parser.add_argument("--formats", default="toml,ncl")
    parser.add_argument("--commands", default="check,plan,apply,acl")
    parser.add_argument("--keep")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--binary", help="measure this privai binary (implies --no-build)")
    parser.add_argument("--write", nargs=3, metavar=("N", "FORMAT", "PATH"))
    args = parser.parse_args()
    if args.write:
        write(int(args.write[0]), args.write[1], Path(args.write[2]))
        return
    global BINARY
    if args.binary:
        BINARY = Path(args.binary).resolve()
    elif not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "privai"], cwd=ROOT, check=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")
    commands = args.commands.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="privai-scale-"))
    keep = Path(args.keep) if args.keep else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    results = {}
    print(f"privai, release build, median of {args.runs} runs: CPU seconds (user+sys) / peak RSS MiB")
    # The seed's check is short: its minimum over many runs is the figure
    # least moved by the rest of the machine; the median is shown beside it.
    seed = [measured(["check", ROOT / "examples" / "seed-home.ncl"]) for _ in range(max(args.runs, 200))]
    seed_cpu = sorted(c for c, _ in seed)
    print(f"seed check (examples/seed-home.ncl), {len(seed)} runs: minimum {seed_cpu[0] * 1000:.1f} ms,"
          f" median {statistics.median(seed_cpu) * 1000:.1f} ms, {max(r for _, r in seed):.0f} MiB")
    print(f"{'N':>6} {'fmt':4} " + " ".join(f"{c:>18}" for c in commands))
    try:
        for n in sizes:
            for fmt in formats:
                spec = (keep or tmp) / f"scale-{n}.{fmt}"
                write(n, fmt, spec)
                row = {}
                for command in commands:
                    cpu, rss = [], []
                    for i in range(args.runs):
                        root = tmp / f"root-{n}-{fmt}-{command}-{i}"
                        out = None
                        if command == "check":
                            argv, ok = ["check", spec], (0,)
                        elif command == "plan":
                            argv, ok = ["plan", spec, "--root", root], (0,)
                        elif command == "apply":
                            if i == 0:
                                measured(["apply", spec, "--root", root, "--auto-approve"])
                            else:
                                root = tmp / f"root-{n}-{fmt}-{command}-0"
                            argv, ok = ["apply", spec, "--root", root, "--auto-approve"], (0,)
                        else:
                            argv, ok = ["acl", spec, "--json"], (0,)
                            if keep:
                                out = keep / f"scale-{n}.{fmt}.acl.json"
                        c, r = measured(argv, ok, out)
                        cpu.append(c)
                        rss.append(r)
                        if command == "plan":
                            shutil.rmtree(root, ignore_errors=True)
                    row[command] = (statistics.median(cpu), max(rss))
                results[(n, fmt)] = row
                print(f"{n:>6} {fmt:4} " + " ".join(
                    f"{row[c][0]:9.3f}s {row[c][1]:6.0f}M" for c in commands), flush=True)
        print("\ngrowth of CPU time per 2x N (2.0 = linear, 4.0 = quadratic)")
        for fmt in formats:
            for a, b in zip(sizes, sizes[1:]):
                if (a, fmt) in results and (b, fmt) in results:
                    doublings = math.log2(b / a)
                    cells = []
                    for c in commands:
                        ta, tb = results[(a, fmt)][c][0], results[(b, fmt)][c][0]
                        cells.append(f"{c} {(tb / ta) ** (1 / doublings):4.2f}x" if ta > 0 else f"{c} -")
                    print(f"  {fmt:4} {a:>5} -> {b:<5} " + "  ".join(cells))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
