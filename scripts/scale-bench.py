#!/usr/bin/env python3
"""Scale figures for BENCHMARKS.md (`make scale-bench`; not run in CI).

Generates N ops-agent sessions (native traces, 3-5 tasks each, sub-agents, ~16%
failing; a pure function of the seed) under target/scale/sessions, then times on
this machine, with the analysis on:

* the CLI: `tracecard compile DIR --format parquet -o OUT`, at 2 threads, for
  growing subsets (how time grows with sessions), and once with --no-analysis;
* where the time goes: every session compiled alone by the release CLI (one
  process each, CPU time): the sessions that dominate, and the CLI again without
  the slowest 1% ("excluding outliers");
* the Spark job (tracecard.spark, local[2]) and the Ray job (tracecard.ray,
  num_cpus=2) on all N sessions; engine start-up is timed apart.

Wall and CPU (user+sys of the child) are both printed: on a shared machine wall
time depends on the load, CPU time much less.

Prints a Markdown table. Scratch data stays under target/scale (delete it after).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the release binaries (make scale-bench builds them); SCALE_BIN_DIR overrides, e.g. to try the script on a debug build
REL = Path(os.environ.get("SCALE_BIN_DIR", ROOT / "target" / "release"))


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one child process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def row(what: str, n: int, wall: float, cpu: float | None = None) -> str:
    c = f"{cpu:.2f} s" if cpu is not None else "–"
    return f"| {what} | {n} | {wall:.2f} s | {c} | {n / wall:.0f} sessions/s |"


def profile(exe: str, files: list[Path], tmp: Path) -> tuple[list[str], list[Path]]:
    """Each session alone through the release CLI (one process each, one thread; CPU
    time of the child, so start-up is included): returns the report lines and the
    slowest 1% of the sessions (the outliers), timed again with --no-analysis."""
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    per: dict[Path, float] = {}
    for f in files:
        shutil.rmtree(tmp, ignore_errors=True)
        per[f] = run([exe, "compile", str(f), "--format", "parquet", "-o", str(tmp)], env)[1]
    on = sorted(per.items(), key=lambda kv: kv[1], reverse=True)
    total = sum(v for _, v in on)
    k = max(1, len(on) // 100)
    top = on[:k]
    top_t = sum(v for _, v in top)
    times = sorted(per.values())
    pct = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1e3  # noqa: E731
    lines = [
        f"per session, one CLI process each (CPU incl. start-up): {total:.2f} s in all "
        f"(p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {times[-1] * 1e3:.1f} ms)",
        f"slowest 1% ({k} sessions): {top_t:.2f} s = {100 * top_t / total:.0f}% of that CPU time",
    ]
    for f, t in top[:5]:
        shutil.rmtree(tmp, ignore_errors=True)
        off = run([exe, "compile", str(f), "--format", "parquet", "--no-analysis", "-o", str(tmp)], env)[1]
        lines.append(f"  {f.name}: {t * 1e3:.0f} ms, {off * 1e3:.0f} ms with --no-analysis, {f.stat().st_size / 1e3:.0f} kB")
    shutil.rmtree(tmp, ignore_errors=True)
    return lines, [f for f, _ in top]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=7308)
    ap.add_argument("--out", type=Path, default=ROOT / "target" / "scale")
    ap.add_argument("--skip-engines", action="store_true")
    ap.add_argument("--skip-profile", action="store_true")
    a = ap.parse_args()
    src = a.out / "sessions"
    files = sorted(src.glob("*")) if src.is_dir() else []
    if len(files) != a.sessions:
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        t, _ = run([str(REL / "ops-agent"), "gen", "--seed-start", "1", "--count", str(a.sessions), "--out", str(src)])
        print(f"generated {a.sessions} sessions in {t:.1f} s", file=sys.stderr)
        files = sorted(src.glob("*"))
    size = sum(f.stat().st_size for f in files)
    rows = [f"corpus: {len(files)} sessions, {size / 1e6:.0f} MB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"]
    rows.append("| run | sessions | wall | CPU | throughput (wall) |")
    rows.append("|---|---|---|---|---|")
    env = dict(os.environ, RAYON_NUM_THREADS="2")
    exe = str(REL / "tracecard")
    out = a.out / "out"
    for n in sorted({max(1, len(files) // 8), len(files) // 4, len(files) // 2, len(files)}):
        shutil.rmtree(out, ignore_errors=True)
        t, cpu = run([exe, "compile", *map(str, files[:n]), "--format", "parquet", "-o", str(out)], env)
        rows.append(row("CLI, analysis on", n, t, cpu))
    shutil.rmtree(out, ignore_errors=True)
    t, cpu = run([exe, "compile", str(src), "--format", "parquet", "--no-analysis", "-o", str(out)], env)
    rows.append(row("CLI, --no-analysis", len(files), t, cpu))
    if not a.skip_profile:
        lines, outliers = profile(exe, files, a.out / "one")
        rest = [f for f in files if f not in set(outliers)]
        shutil.rmtree(out, ignore_errors=True)
        t, cpu = run([exe, "compile", *map(str, rest), "--format", "parquet", "-o", str(out)], env)
        rows.append(row(f"CLI, analysis on, without the slowest {len(outliers)}", len(rest), t, cpu))
        rows.extend(lines)
    shutil.rmtree(out, ignore_errors=True)
    if not a.skip_engines:
        sys.path.insert(0, str(ROOT / "bindings" / "python" / "tests_scale"))
        from pyspark.sql import SparkSession

        import tracecard.spark

        os.environ["PYSPARK_PYTHON"] = sys.executable
        t0 = time.perf_counter()
        spark = (
            SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "4g").getOrCreate()
        )
        up = time.perf_counter() - t0
        t0 = time.perf_counter()
        tracecard.spark.write_parquet(spark, str(src), str(a.out / "spark"), partitions=8)
        t = time.perf_counter() - t0
        spark.stop()
        rows.append(row(f"Spark local[2] (both tables; start-up {up:.1f} s apart)", len(files), t))
        import ray

        import tracecard.ray

        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        up = time.perf_counter() - t0
        t0 = time.perf_counter()
        tracecard.ray.write_parquet(str(src), str(a.out / "ray"))
        t = time.perf_counter() - t0
        ray.shutdown()
        rows.append(row(f"Ray local, 2 CPUs (both tables; start-up {up:.1f} s apart)", len(files), t))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
