"""Hostile input through the Python API (issue 14).

* A Rust panic anywhere in the binding is a ``tracecard.InternalError`` (an
  ``Exception``), never pyo3's ``PanicException`` (a ``BaseException``).
* A small deterministic hostile campaign over real fixtures, run in a subprocess
  under a memory cap (``resource.setrlimit``) and a time budget: every case is
  success or a ``TracecardError`` naming the file, never a crash, a hang or memory
  above the cap.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import types

import pytest

import tracecard
from tracecard import _guard, _tracecard
from conftest import fixture


def test_a_panic_becomes_an_internal_error_not_a_base_exception() -> None:
    with pytest.raises(tracecard.InternalError) as e:
        _tracecard._panic_for_tests("deliberate: a panic in the binding")
    assert isinstance(e.value, tracecard.TracecardError)
    assert isinstance(e.value, Exception)
    assert "deliberate" in str(e.value)
    # chained to pyo3's exception, so the Rust location is not lost
    assert type(e.value.__cause__).__name__ == "PanicException"
    # and `except Exception` is enough to survive it
    try:
        _tracecard._panic_for_tests("again")
    except Exception:
        pass


def _entry_points() -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for name, obj in vars(_tracecard).items():
        if isinstance(obj, type) and not issubclass(obj, BaseException):
            if not obj.__module__.startswith("tracecard"):
                continue
            for attr, v in vars(obj).items():
                if attr == "__new__" or attr in _guard.SKIPPED:
                    continue
                if isinstance(v, property):
                    out.append((f"{name}.{attr}", v.fget))
                elif isinstance(v, (classmethod, staticmethod)):
                    out.append((f"{name}.{attr}", v.__func__))
                elif callable(v):
                    out.append((f"{name}.{attr}", v))
        elif isinstance(obj, (types.BuiltinFunctionType, types.FunctionType)):
            out.append((name, obj))
    return out


def test_every_function_method_and_property_of_the_native_module_is_guarded() -> None:
    points = _entry_points()
    assert len(points) > 100, len(points)  # classes and functions were found
    unguarded = [n for n, f in points if not getattr(f, _guard.GUARDED, False)]
    assert not unguarded, unguarded
    # the public names are the guarded ones
    assert getattr(tracecard.load, _guard.GUARDED, False)
    assert getattr(tracecard.Recorder.finish, _guard.GUARDED, False)
    # and the wrappers keep the native signatures (stubtest compares them too)
    assert inspect.signature(tracecard.loads) == inspect.signature(
        tracecard.loads.__wrapped__  # type: ignore[attr-defined]
    )


#: Arguments of one valid call of every native constructor. A class gaining a
#: ``__new__`` must be added here (the test below fails until it is).
CONSTRUCTOR_ARGS: dict[str, tuple[tuple[object, ...], dict[str, object]]] = {
    "Recorder": (("guarded-new",), {"keep_content": False}),
    "TokenUsage": ((), {"input": 1, "output": 2}),
}


def _native_classes() -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(_tracecard).items()
        if isinstance(obj, type)
        and not issubclass(obj, BaseException)
        and obj.__module__.startswith("tracecard")
    }


def test_every_constructor_turns_a_panic_into_an_internal_error() -> None:
    classes = _native_classes()
    assert set(CONSTRUCTOR_ARGS) <= set(classes)
    for name, cls in classes.items():
        if name not in CONSTRUCTOR_ARGS:
            # no constructor (pyo3's refusal); a class that gains one is caught here
            with pytest.raises(TypeError, match="cannot create"):
                cls()
            continue
        args, kwargs = CONSTRUCTOR_ARGS[name]
        assert cls(*args, **kwargs) is not None  # the arguments are valid
        _tracecard._panic_in_constructors_for_tests(True)
        try:
            with pytest.raises(tracecard.InternalError) as e:
                cls(*args, **kwargs)
        finally:
            _tracecard._panic_in_constructors_for_tests(False)
        assert "deliberate" in str(e.value), name
        assert isinstance(e.value, Exception)
        # and the class works again once the hook is off
        assert cls(*args, **kwargs) is not None
    # the public names are the same classes
    assert tracecard.Recorder is classes["Recorder"]
    assert "_panic_in_constructors_for_tests" not in getattr(_tracecard, "__all__", [])


def test_guarded_calls_still_work_and_raise_their_own_errors() -> None:
    rec = tracecard.Recorder("guarded")
    rec.user_input("hi")
    card = rec.finish().compile()
    assert card.session_id == "guarded"
    assert repr(card)
    with pytest.raises(tracecard.ParseError):
        tracecard.loads(b"{\"record\":\"session\"", format="native")
    assert isinstance(vars(tracecard.TraceCard)["session_id"], property)
    assert not isinstance(vars(tracecard.TraceCard)["session_id"], types.GetSetDescriptorType)


# ------------------------------------------------------------ the campaign

SAMPLES = [
    "claude-code/spotter/short.jsonl",
    "codex/rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl",
    "inspect/log_read_sample.eval",
    "inspect/log_tool_call_error.json",
    "langfuse/vercel-aisdk-2025-11-17.trace.json",
    "mini-swe-agent/github_issue.v0-list.traj.json",
    "openhands/basic_interactions.json",
    "swe-agent/swe-agent__test-repo-i1.gpt4.traj",
]

# Runs in a child interpreter: the memory cap must not bind pytest itself.
CHILD = r"""
import json, random, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))
import tracecard

def mutants(b, seed):
    r = random.Random(seed)
    n = len(b)
    yield "trunc-any", b[: r.randrange(n)]
    yield "trunc-last", b[:-1]
    c = bytearray(b)
    for _ in range(16):
        c[r.randrange(n)] = r.randrange(256)
    yield "flip-16", bytes(c)
    yield "nest", b"[" * 100_000 + b
    yield "huge-line", b + b'{"x":"' + b"y" * (2 << 20) + b'"}\n'
    lines = b.split(b"\n")
    yield "dup-line", b"\n".join(lines[: len(lines) // 2 + 1] + lines[len(lines) // 2 :])
    yield "bom", b"\xef\xbb\xbf" + b
    yield "crlf", b.replace(b"\n", b"\r\n")
    try:
        yield "utf16", b"\xff\xfe" + b.decode("utf-8").encode("utf-16-le")
    except UnicodeDecodeError:
        pass
    yield "empty", b""
    for x in (b"18446744073709551615", b"-1", b"1e2147483647", b"null", b"[]"):
        yield "num-" + x.decode()[:8], b.replace(b": 1", b": " + x).replace(b":1", b":" + x)

out = []
for src, dst in json.load(sys.stdin):
    data = open(src, "rb").read()
    for case, m in mutants(data, 1):
        p = dst + "-" + case + "-" + src.rsplit("/", 1)[-1]
        open(p, "wb").write(m)
        t0 = time.monotonic()
        try:
            for t in tracecard.load_all(p):
                t.compile()
            res = "ok"
        except tracecard.TracecardError as e:
            name = p.rsplit("/", 1)[-1]
            res = "error" if name in str(e) or (e.path or "").endswith(name) else "unnamed: " + str(e)[:200]
        except Exception as e:
            res = "untyped %s: %s" % (type(e).__name__, str(e)[:200])
        out.append([p.rsplit("/", 1)[-1], res, round(time.monotonic() - t0, 2)])
        import os; os.remove(p)
print(json.dumps(out))
"""


def test_hostile_campaign_through_the_python_api_under_a_memory_cap(tmp_path) -> None:
    cases = [[str(fixture(rel)), str(tmp_path / f"c{i}")] for i, rel in enumerate(SAMPLES)]
    cap = 3 << 30
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.replace("CAP", str(cap))],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=300,
    )
    # a crash, an abort or the memory cap ends the child: never a clean exit
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout)
    assert len(results) >= 8 * 12, len(results)
    bad = [r for r in results if r[1] not in ("ok", "error")]
    assert not bad, bad
    slow = [r for r in results if r[2] > 20]
    assert not slow, slow
    # the campaign is not vacuous: both outcomes occur
    assert {r[1] for r in results} == {"ok", "error"}
