#!/usr/bin/env python3
"""Wall time of `privai check` on the example specs, release build.

Usage: python3 bench/check.py [RUNS]   (builds `target/release/privai` first)

Prints, for each example, the minimum, median and 95th percentile wall time
of a whole `privai check` process (spawn, Nickel evaluation with the bundled
modules, every semantic pass, output). Target: well under 100 ms for
examples/seed-home.ncl.
"""
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 50


def main() -> None:
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "privai"], cwd=ROOT, check=True)
    binary = ROOT / "target" / "release" / "privai"
    print(f"privai check, release build, {RUNS} runs each (ms)")
    print(f"{'spec':34} {'min':>7} {'median':>7} {'p95':>7}")
    for spec in sorted((ROOT / "examples").iterdir()):
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            done = subprocess.run([binary, "check", spec], cwd=ROOT, capture_output=True)
            times.append((time.perf_counter() - start) * 1000)
            expected = 1 if spec.name == "seed-as-written.ncl" else 0
            if done.returncode != expected:
                sys.exit(f"{spec.name}: exit {done.returncode}, expected {expected}:\n{done.stderr.decode()}")
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        name = spec.relative_to(ROOT)
        print(f"{str(name):34} {times[0]:7.1f} {statistics.median(times):7.1f} {p95:7.1f}")


if __name__ == "__main__":
    main()
