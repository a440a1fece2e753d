"""Benchmarks of the Python package (figures for BENCHMARKS.md).

1. `load` + `compile` of the largest fixture (and of a synthetic 20k-step native
   trace) from Python, against the Rust CLI (`tracecard compile FILE -o /dev/null`)
   on the same file. The CLI figure includes process start-up.
2. The recorder's per-step overhead: `with rec.tool_use(...)` / `with rec.llm_call(...)`
   blocks that set output, tokens and one artifact, minus an empty loop.

Run with `make -C bindings/python bench` (release build of the module and the CLI).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import tracecard

ROOT = Path(__file__).resolve().parents[3]
CLI = ROOT / "target" / "release" / "tracecard"
FIX = Path(os.environ.get("TRACECARD_FIXTURES", ROOT.parent / "shared" / "fixtures"))
LARGEST = FIX / "claude-code/spotter/fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl"  # 3.5 MB
MOST_STEPS = FIX / "codex/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl"  # 697 steps


def best(fn: Callable[[], object], repeat: int = 7) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def synthetic(path: Path, steps: int = 20_000) -> None:
    rec = tracecard.Recorder("synthetic")
    call = None
    for i in range(steps // 2):
        with rec.llm_call("claude-sonnet-4-5") as call:
            call.set_tokens(input=1000 + i, output=50, cache_read=500)
            call.set_output(f"step {i}: read file_{i}.txt")
        with rec.tool_use("read_file", f'{{"path": "file_{i}.txt"}}', requested_by=call) as t:
            t.reads(f"file_{i}.txt")
            t.set_output(f"contents {i} " * 20)
    rec.finish("success").save(path)


def compile_vs_cli(path: Path, label: str) -> None:
    size = path.stat().st_size / 1e6
    try:
        traces = tracecard.load_all(path)
    except tracecard.TracecardError as e:
        print(f"{label}: cannot load ({type(e).__name__}: {e})")
        return
    n = sum(len(t) for t in traces)
    lc, lc_med = best(lambda: [t.compile() for t in tracecard.load_all(path)])
    c, c_med = best(lambda: [t.compile() for t in traces])
    y, _ = best(lambda: [t.compile().to_yaml() for t in traces])
    print(f"{label}: {path.name} ({size:.2f} MB, {len(traces)} session(s), {n} steps)")
    print(f"  python load+compile      best {lc*1e3:8.2f} ms  median {lc_med*1e3:8.2f} ms")
    print(f"  python compile only      best {c*1e3:8.2f} ms  median {c_med*1e3:8.2f} ms")
    print(f"  python compile+to_yaml   best {y*1e3:8.2f} ms")
    if CLI.exists():
        cmd = [str(CLI), "compile", str(path), "-o", os.devnull]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"  cli failed: {r.stderr.strip()[:200]}")
            return
        cl, cl_med = best(lambda: subprocess.run(cmd, capture_output=True, check=True))
        print(f"  rust CLI compile (yaml)  best {cl*1e3:8.2f} ms  median {cl_med*1e3:8.2f} ms  (incl. process start)")
    else:
        print(f"  (no CLI at {CLI}; run `cargo build --release -p tracecard-cli`)")


def recorder_overhead(n: int = 20_000) -> None:
    def empty() -> None:
        for i in range(n):
            pass

    def tools() -> None:
        rec = tracecard.Recorder("bench")
        for i in range(n):
            with rec.tool_use("read_file", "a.txt") as t:
                t.reads("a.txt")
                t.set_output("x" * 200)

    def llms() -> None:
        rec = tracecard.Recorder("bench")
        for i in range(n):
            with rec.llm_call("gpt-4.1-mini") as c:
                c.set_tokens(input=1000, output=20)
                c.set_output("y" * 200)

    def hashed() -> None:
        rec = tracecard.Recorder("bench", keep_content=False)
        for i in range(n):
            with rec.tool_use("read_file", "a.txt") as t:
                t.set_output("x" * 200)

    base, _ = best(empty, 5)
    for name, fn in [("tool_use step (reads + output)", tools), ("llm_call step (tokens + output)", llms),
                     ("tool_use step, hashed content", hashed)]:
        t, med = best(fn, 5)
        print(f"  recorder {name:32s} {(t - base) / n * 1e6:6.2f} µs/step (median {(med - base) / n * 1e6:6.2f})")


def main() -> None:
    print(f"tracecard {tracecard.__version__}, Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cpu")
    if LARGEST.exists():
        compile_vs_cli(LARGEST, "largest fixture")
    else:
        print(f"largest fixture not found at {LARGEST}")
    if MOST_STEPS.exists():
        compile_vs_cli(MOST_STEPS, "fixture with most steps")
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "synthetic.jsonl"
        synthetic(p)
        compile_vs_cli(p, "synthetic native trace")
    print("recorder overhead (20k steps, best of 5):")
    recorder_overhead()


if __name__ == "__main__":
    sys.exit(main())
