#!/usr/bin/env python3
"""Scale figures for BENCHMARKS.md (`make scale-bench`; not run in CI).

Generates N ops-agent sessions (native traces, 3-5 tasks each, sub-agents, ~16%
failing; a pure function of the seed) under target/scale/sessions, then times on
this machine, with the analysis on:

* the CLI: `tracecard compile DIR --format parquet -o OUT`, at 2 threads, for
  growing subsets (how time grows with sessions), and once with --no-analysis;
* the Spark job (tracecard.spark, local[2]) and the Ray job (tracecard.ray,
  num_cpus=2) on all N sessions; engine start-up is timed apart.

Prints a Markdown table. Scratch data stays under target/scale (delete it after).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REL = ROOT / "target" / "release"


def run(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=7308)
    ap.add_argument("--out", type=Path, default=ROOT / "target" / "scale")
    ap.add_argument("--skip-engines", action="store_true")
    a = ap.parse_args()
    src = a.out / "sessions"
    files = sorted(src.glob("*")) if src.is_dir() else []
    if len(files) != a.sessions:
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        t = run([str(REL / "ops-agent"), "gen", "--seed-start", "1", "--count", str(a.sessions), "--out", str(src)])
        print(f"generated {a.sessions} sessions in {t:.1f} s", file=sys.stderr)
        files = sorted(src.glob("*"))
    size = sum(f.stat().st_size for f in files)
    rows = [f"corpus: {len(files)} sessions, {size / 1e6:.0f} MB"]
    env = dict(os.environ, RAYON_NUM_THREADS="2")
    exe = str(REL / "tracecard")
    out = a.out / "out"
    for n in sorted({max(1, len(files) // 8), len(files) // 4, len(files) // 2, len(files)}):
        shutil.rmtree(out, ignore_errors=True)
        t = run([exe, "compile", *map(str, files[:n]), "--format", "parquet", "-o", str(out)], env)
        rows.append(f"| CLI, analysis on | {n} | {t:.2f} s | {n / t:.0f} sessions/s |")
    shutil.rmtree(out, ignore_errors=True)
    t = run([exe, "compile", str(src), "--format", "parquet", "--no-analysis", "-o", str(out)], env)
    rows.append(f"| CLI, --no-analysis | {len(files)} | {t:.2f} s | {len(files) / t:.0f} sessions/s |")
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
        rows.append(f"| Spark local[2] (both tables; start-up {up:.1f} s apart) | {len(files)} | {t:.2f} s | {len(files) / t:.0f} sessions/s |")
        import ray

        import tracecard.ray

        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        up = time.perf_counter() - t0
        t0 = time.perf_counter()
        tracecard.ray.write_parquet(str(src), str(a.out / "ray"))
        t = time.perf_counter() - t0
        ray.shutdown()
        rows.append(f"| Ray local, 2 CPUs (both tables; start-up {up:.1f} s apart) | {len(files)} | {t:.2f} s | {len(files) / t:.0f} sessions/s |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
