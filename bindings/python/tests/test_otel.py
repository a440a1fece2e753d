"""tracecard.otel: ReadableSpan -> OTLP/JSON conversion and the span exporter."""

from __future__ import annotations

import json
import re

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

import tracecard
from conftest import need_format
from tracecard.otel import TracecardSpanExporter, install, spans_to_otlp


def _run_genai_agent(provider: TracerProvider) -> None:
    """Hand-made spans following the OTel GenAI semantic conventions."""
    tracer = provider.get_tracer("my-harness", "1.2.3")
    with tracer.start_as_current_span("invoke_agent helper", kind=SpanKind.INTERNAL) as root:
        root.set_attribute("gen_ai.operation.name", "invoke_agent")
        root.set_attribute("gen_ai.agent.name", "helper")
        for i, (path, out_tokens) in enumerate([("a.txt", 12), ("b.txt", 9)]):
            with tracer.start_as_current_span("chat gpt-4.1-mini", kind=SpanKind.CLIENT) as chat:
                chat.set_attribute("gen_ai.operation.name", "chat")
                chat.set_attribute("gen_ai.provider.name", "openai")
                chat.set_attribute("gen_ai.request.model", "gpt-4.1-mini")
                chat.set_attribute("gen_ai.response.model", "gpt-4.1-mini")
                chat.set_attribute("gen_ai.usage.input_tokens", 500 + 100 * i)
                chat.set_attribute("gen_ai.usage.output_tokens", out_tokens)
                chat.set_attribute("gen_ai.response.finish_reasons", ["tool_call"])
                chat.set_attribute(
                    "gen_ai.output.messages",
                    json.dumps([{"role": "assistant", "parts": [
                        {"type": "tool_call", "id": f"call_{i}", "name": "read_file", "arguments": {"path": path}}]}]),
                )
            with tracer.start_as_current_span("execute_tool read_file") as tool:
                tool.set_attribute("gen_ai.operation.name", "execute_tool")
                tool.set_attribute("gen_ai.tool.name", "read_file")
                tool.set_attribute("gen_ai.tool.call.id", f"call_{i}")
                tool.set_attribute("gen_ai.tool.call.arguments", json.dumps({"path": path}))
                tool.set_attribute("gen_ai.tool.call.result", f"contents of {path}")
                if path == "b.txt":
                    tool.add_event("exception", {"exception.type": "OSError", "exception.message": "slow disk"})
                    tool.set_status(Status(StatusCode.ERROR, "slow disk"))
        with tracer.start_as_current_span("chat gpt-4.1-mini", kind=SpanKind.CLIENT) as chat:
            chat.set_attribute("gen_ai.operation.name", "chat")
            chat.set_attribute("gen_ai.provider.name", "openai")
            chat.set_attribute("gen_ai.request.model", "gpt-4.1-mini")
            chat.set_attribute("gen_ai.usage.input_tokens", 700)
            chat.set_attribute("gen_ai.usage.output_tokens", 30)
            chat.set_attribute("gen_ai.response.finish_reasons", ["stop"])
            chat.set_attribute("temperature", 0.5)
            chat.set_attribute("gen_ai.output.messages", json.dumps(
                [{"role": "assistant", "parts": [{"type": "text", "content": "contents of a.txt"}]}]))


@pytest.fixture
def collected() -> TracecardSpanExporter:
    provider = TracerProvider(resource=Resource.create({"service.name": "tc-test"}))
    exporter = install(provider)
    _run_genai_agent(provider)
    return exporter


def test_otlp_json_shape(collected: TracecardSpanExporter) -> None:
    spans = collected.spans()
    assert len(spans) == 6
    doc = collected.otlp()
    json.dumps(doc)  # JSON-serialisable
    (rs,) = doc["resourceSpans"]
    attrs = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}
    assert attrs["service.name"] == {"stringValue": "tc-test"}
    (ss,) = rs["scopeSpans"]
    assert ss["scope"] == {"name": "my-harness", "version": "1.2.3"}
    out = ss["spans"]
    assert len(out) == 6
    trace_ids = {s["traceId"] for s in out}
    assert len(trace_ids) == 1 and re.fullmatch(r"[0-9a-f]{32}", trace_ids.pop())
    root = next(s for s in out if s["name"].startswith("invoke_agent"))
    assert "parentSpanId" not in root and root["kind"] == 1  # INTERNAL
    for s in out:
        assert re.fullmatch(r"[0-9a-f]{16}", s["spanId"])
        assert isinstance(s["startTimeUnixNano"], str) and int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"])
        if s is not root:
            assert s["parentSpanId"] == root["spanId"]
    chat = next(s for s in out if s["name"].startswith("chat"))
    a = {x["key"]: x["value"] for x in chat["attributes"]}
    assert chat["kind"] == 3  # CLIENT
    assert a["gen_ai.usage.input_tokens"] == {"intValue": "500"}
    assert a["gen_ai.response.finish_reasons"] == {"arrayValue": {"values": [{"stringValue": "tool_call"}]}}
    last = [s for s in out if s["name"].startswith("chat")][-1]
    assert {x["key"]: x["value"] for x in last["attributes"]}["temperature"] == {"doubleValue": 0.5}
    failed = next(s for s in out if s["status"])
    assert failed["status"] == {"code": 2, "message": "slow disk"}
    assert failed["events"][0]["name"] == "exception"
    assert collected.otlp_json().startswith('{"resourceSpans"')
    # spans_to_otlp is the same conversion
    assert spans_to_otlp(spans) == doc


def test_exporter_lifecycle() -> None:
    exp = TracecardSpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exp))
    assert exp.traces() == [] and exp.cards() == []
    with provider.get_tracer("t").start_as_current_span("x"):
        pass
    assert len(exp.spans()) == 1
    exp.clear()
    assert exp.spans() == []
    assert exp.force_flush()
    provider.shutdown()
    from opentelemetry.sdk.trace.export import SpanExportResult

    assert exp.export([]) == SpanExportResult.FAILURE


def test_exporter_gives_traces_and_cards(collected: TracecardSpanExporter) -> None:
    need_format("otlp")
    (trace,) = collected.traces()
    assert trace.format == "otlp"
    kinds = [s.kind for s in trace.steps]
    assert kinds.count("llm_call") == 3 and kinds.count("tool_use") == 2
    (card,) = collected.cards()
    llm = [s for s in card.steps if s.kind == "llm_call"]
    assert [s.tokens.prompt_total for s in llm] == [500, 600, 700]
    assert [s.tokens.output for s in llm] == [12, 9, 30]
    table = tracecard.PriceTable.bundled()
    assert card.total_cost_usd == sum(table.cost("gpt-4.1-mini", s.tokens) for s in llm)  # type: ignore[misc]
    tools = [s for s in card.steps if s.kind == "tool_use"]
    assert tools[1].status == "error"
    # the same spans, exported to a file, import identically
    assert tracecard.loads(collected.otlp_json(), format="otlp").compile().to_dict()["steps"] == card.to_dict()["steps"]
