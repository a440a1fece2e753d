"""A tiny deterministic "agent" recorded with tracecard.Recorder (used by several tests)."""

from __future__ import annotations

import tracecard

FILES = {
    "config/dev.toml": '[db]\nhost = "localhost"\nport = 55432\npool_size = 4\n',
    "config/prod.toml": '[db]\nhost = "ledger-db-primary.prod.internal"\nport = 6432\npool_size = 32\n',
}
QUESTION = "What database host and pool size does ledgerd use in production?"


def answer_from(files_read: dict[str, str]) -> str:
    """The agent's final answer: uses config/prod.toml only (if it was read)."""
    prod = files_read.get("config/prod.toml")
    if prod is None:
        return "I could not find the production configuration."
    host = prod.split('host = "')[1].split('"')[0]
    pool = prod.split("pool_size = ")[1].split("\n")[0]
    return f"Production uses {host} with pool_size = {pool}."


def run_agent(skip_paths: frozenset[str] = frozenset(), session_id: str = "ledgerd-s1") -> tracecard.Trace:
    """Read dev.toml, then prod.toml, answer from prod only. `skip_paths` are reads
    the agent does not perform (a counterfactual re-run)."""
    rec = tracecard.Recorder(session_id)
    rec.user_input(QUESTION)
    read: dict[str, str] = {}
    previous: list[int] = []
    for i, path in enumerate(["config/dev.toml", "config/prod.toml"]):
        with rec.llm_call("gpt-4.1-mini") as call:
            call.set_tokens(input=600 + 130 * i, output=20)
            call.set_output(f'read_file({{"path": "{path}"}})')
            for p in previous:
                call.in_context(p)  # the last tool result is in this call's context
        if path in skip_paths:
            continue
        with rec.tool_use("read_file", {"path": path}, requested_by=call) as tool:
            tool.reads(path)
            tool.set_output(FILES[path])
        read[path] = FILES[path]
        previous = [tool.id]
    text = answer_from(read)
    with rec.llm_call("gpt-4.1-mini") as final:
        final.set_tokens(input=880, output=34)
        final.set_output(text)
        for p in previous:
            final.in_context(p)
        # The answer quotes prod.toml: an explicit dataflow reference.
        for s in rec.trace.steps:
            if "config/prod.toml" in s.reads:
                final.consumes(s.id)
    ok = "ledger-db-primary.prod.internal" in text and "32" in text
    return rec.finish("success" if ok else "failure", evidence=[{"verifier": "answer-check", "passed": ok}])
