"""Real client: a pydantic-ai agent (offline FunctionModel) emits OTel spans through
the real opentelemetry-sdk into tracecard.otel's exporter.

The scenario mirrors `otlp-real/pydantic-ai/s1_unused_file_read`: the agent reads
config/dev.toml and config/prod.toml and answers from prod only, so the dev.toml
read is wasted.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal

import pytest

pytestmark = pytest.mark.skipif(sys.version_info < (3, 10), reason="pydantic-ai needs Python >= 3.10")

FILES = {
    "config/dev.toml": '# Developer laptops\n[db]\nhost = "localhost"\nport = 55432\npool_size = 4\n',
    "config/prod.toml": '# Production (eu-west-1)\n[db]\nhost = "ledger-db-primary.prod.internal"\nport = 6432\npool_size = 32\n',
}
USAGE = [(606, 22), (739, 13), (879, 34)]  # (input, output) per model turn, as in the fixture


def _run() -> tuple[str, object]:
    from opentelemetry.sdk.trace import TracerProvider
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart, ToolReturnPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.usage import RequestUsage

    import tracecard.otel

    class OpenAIFunctionModel(FunctionModel):
        @property
        def system(self) -> str:
            return "openai"

    def script(messages: list, info: AgentInfo) -> ModelResponse:
        turn = sum(1 for m in messages if isinstance(m, ModelResponse))
        inp, out = USAGE[turn]
        usage = RequestUsage(input_tokens=inp, output_tokens=out)
        if turn < 2:
            path = ["config/dev.toml", "config/prod.toml"][turn]
            part = ToolCallPart("read_file", {"path": path}, tool_call_id=f"call_{turn:024d}")
            return ModelResponse(
                parts=[part],
                usage=usage,
                model_name="gpt-4.1-mini",
                provider_response_id=f"chatcmpl-{turn}",
                finish_reason="tool_call",
            )
        returns = [p for m in messages for p in getattr(m, "parts", []) if isinstance(p, ToolReturnPart)]
        prod = next(str(r.content) for r in returns if "Production" in str(r.content))
        host = prod.split('host = "')[1].split('"')[0]
        pool = prod.split("pool_size = ")[1].split("\n")[0]
        text = f"In production ledgerd connects to `{host}` with `pool_size = {pool}`."
        return ModelResponse(
            parts=[TextPart(text)],
            usage=usage,
            model_name="gpt-4.1-mini",
            provider_response_id="chatcmpl-2",
            finish_reason="stop",
        )

    provider = TracerProvider()
    exporter = tracecard.otel.install(provider)
    agent = Agent(
        OpenAIFunctionModel(script, model_name="gpt-4.1-mini"),
        instructions="You are RepoHelper. Use the tools.",
        name="repo-helper",
    )
    agent.instrument = InstrumentationSettings(tracer_provider=provider)

    @agent.tool_plain
    def read_file(path: str) -> str:
        """Read a UTF-8 text file of the repository."""
        return FILES[path]

    result = agent.run_sync("What database host and connection pool size does ledgerd use in production?")
    provider.force_flush()
    return result.output, exporter


def test_pydantic_ai_agent_spans_to_card() -> None:
    import tracecard
    from conftest import need_format

    output, exporter = _run()
    assert "ledger-db-primary.prod.internal" in output
    spans = exporter.spans()  # type: ignore[attr-defined]
    names = [s.name for s in spans]
    assert names.count("execute_tool read_file") == 2 and names.count("chat gpt-4.1-mini") == 3
    assert any(n.startswith("invoke_agent") for n in names)
    json.dumps(exporter.otlp())  # type: ignore[attr-defined]

    need_format("otlp")
    (card,) = exporter.cards()  # type: ignore[attr-defined]
    llm = [s for s in card.steps if s.kind == "llm_call"]
    tools = [s for s in card.steps if s.kind == "tool_use"]
    assert len(llm) == 3 and len(tools) == 2
    assert [(s.tokens.prompt_total, s.tokens.output) for s in llm] == USAGE
    assert all(s.priced_as == "gpt-4.1-mini" for s in llm)
    # gpt-4.1-mini at $0.40/M in and $1.60/M out: 2224 in + 69 out = $0.001 exactly
    assert card.total_cost_usd == Decimal("0.001")
    (trace,) = exporter.traces()  # type: ignore[attr-defined]
    by_id = {s.id: s for s in trace.steps}
    # the unused read was delivered to the model and quoted nowhere: unproven, not
    # flagged (nothing in the trace proves it was ignored); the used one is needed
    unproven = [s for s in tools if s.verdict == "unproven"]
    assert len(unproven) == 1, card.to_yaml()
    dev = by_id[unproven[0].id]
    assert "config/dev.toml" in (dev.input or ""), dev.to_dict()
    assert unproven[0].reason
    assert not any(s.redundant for s in tools)
    assert all(s.verdict == "needed" for s in tools if s.id != unproven[0].id)
    # the model call that only requested that read is left open with it (606 in, 22 out)
    requester = card.step(unproven[0].id - 1)
    assert requester is not None and requester.kind == "llm_call"
    assert requester.verdict == "unproven" and not requester.redundant
    assert requester.cost_usd == Decimal("0.0002776")
    assert card.redundant_cost_usd == 0 and card.unproven_cost_usd >= requester.cost_usd
    assert card.outcome in ("success", "unknown")
    assert tracecard.TraceCard.from_json(card.to_json()) == card
