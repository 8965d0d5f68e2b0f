#!/usr/bin/env python3
"""Wall time of `privai plan` and `privai apply` against a staged root, release build.

Usage: python3 bench/apply.py [RUNS]   (builds `target/release/privai` first)

For two specs — examples/seed-home.ncl, and a generated spec with 1,000
devices (one join script or QR code each, so about 1,000 more files) — prints
the minimum and median wall time of a whole process for:

  plan (empty root)   privai plan on an empty --root
  first apply         privai apply --auto-approve on an empty --root (writes
                      every file with fsync, the generation, the journal)
  no-op plan          privai plan once everything is in place
  no-op apply         privai apply when nothing changed (writes nothing)
"""
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
BINARY = ROOT / "target" / "release" / "privai"


def many_devices(path: Path, count: int) -> None:
    kinds = [("laptop", "macos"), ("desktop", "linux"), ("phone", "android")]
    devices = ",\n".join(
        f'    {{ name = "dev{i:04}", user = "user{1 + i % 2}", kind = \'{kinds[i % 3][0]}, os = \'{kinds[i % 3][1]} }}'
        for i in range(count)
    )
    path.write_text(
        f'(import "{ROOT / "examples" / "seed-home.ncl"}") & {{\n'
        f"  devices | force = [\n{devices}\n  ],\n}}\n"
    )


def run(*args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([BINARY, *args], capture_output=True)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        sys.exit(f"privai {' '.join(args)}: exit {done.returncode}\n{done.stderr.decode()}")
    return elapsed


def row(name: str, times: list) -> None:
    times.sort()
    print(f"  {name:20} {times[0]:8.1f} {statistics.median(times):8.1f}")


def main() -> None:
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "privai"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big = tmp / "devices-1000.ncl"
        many_devices(big, 1000)
        for spec in [ROOT / "examples" / "seed-home.ncl", big]:
            plan, first, noop_plan, noop_apply = [], [], [], []
            files = 0
            for i in range(RUNS):
                root = tmp / f"root-{i}"
                plan.append(run("plan", str(spec), "--root", str(root)))
                first.append(run("apply", str(spec), "--root", str(root), "--auto-approve"))
                noop_plan.append(run("plan", str(spec), "--root", str(root), "--detailed-exitcode"))
                noop_apply.append(run("apply", str(spec), "--root", str(root), "--auto-approve"))
                files = sum(1 for p in root.rglob("*") if p.is_file() and ".privai" not in p.parts)
                shutil.rmtree(root)
            print(f"{spec.name} ({files} files), {RUNS} runs (ms):      min   median")
            row("plan (empty root)", plan)
            row("first apply", first)
            row("no-op plan", noop_plan)
            row("no-op apply", noop_apply)


if __name__ == "__main__":
    main()
