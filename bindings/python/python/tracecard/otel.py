"""OpenTelemetry: collect the spans of an agent run and turn them into TraceCards.

One line for an OTel-instrumented harness (pydantic-ai, OpenAI Agents, LangChain via
OpenInference, anything emitting GenAI semantic-convention spans)::

    exporter = tracecard.otel.install()      # global TracerProvider + SimpleSpanProcessor
    run_the_agent()
    for card in exporter.cards():
        print(card.to_yaml())

Or wire it yourself::

    exporter = TracecardSpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

The exporter keeps the finished spans in memory, converts them to OTLP/JSON (the
``ExportTraceServiceRequest`` JSON mapping: hex ids, int64 as decimal strings) and
hands that to tracecard's OTLP importer, so a live run and a captured
``.otlp.json`` file give the same Trace. Needs ``opentelemetry-sdk``.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any, Callable, Optional, Union

from opentelemetry import trace as _otel_trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from tracecard._tracecard import PriceTable, Trace, TraceCard, loads_all

__all__ = ["TracecardSpanExporter", "install", "spans_to_otlp"]

Prices = Union[str, "PathLike[str]", PriceTable, None]
Replayer = Optional[Callable[[Trace, list[int]], Any]]


def _any_value(v: Any) -> dict[str, Any]:
    """An OTLP ``AnyValue`` (JSON mapping) for an attribute value."""
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, str):
        return {"stringValue": v}
    if isinstance(v, (bytes, bytearray)):
        return {"bytesValue": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, Mapping):
        return {"kvlistValue": {"values": _attributes(v)}}
    if isinstance(v, Sequence):
        return {"arrayValue": {"values": [_any_value(x) for x in v]}}
    return {"stringValue": str(v)}


def _attributes(attrs: Optional[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _any_value(v)} for k, v in (attrs or {}).items()]


def _span_id(n: int) -> str:
    return f"{n:016x}"


def _trace_id(n: int) -> str:
    return f"{n:032x}"


def _span(span: ReadableSpan) -> dict[str, Any]:
    ctx = span.context
    out: dict[str, Any] = {
        "traceId": _trace_id(ctx.trace_id) if ctx else "",
        "spanId": _span_id(ctx.span_id) if ctx else "",
    }
    if span.parent is not None:
        out["parentSpanId"] = _span_id(span.parent.span_id)
    out.update({
        "name": span.name,
        # OTLP's SpanKind enum is the SDK's plus one (0 = UNSPECIFIED).
        "kind": span.kind.value + 1,
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or span.start_time or 0),
        "attributes": _attributes(span.attributes),
        "status": {},
    })
    # As the official OTLP exporters: bit 8 = "is_remote is known", bit 9 = the
    # parent is remote.
    out["flags"] = 0x100 | (0x200 if span.parent is not None and span.parent.is_remote else 0)
    if ctx is not None and ctx.trace_state:
        out["traceState"] = ctx.trace_state.to_header()
    if span.events:
        out["events"] = [
            {
                "timeUnixNano": str(e.timestamp),
                "name": e.name,
                "attributes": _attributes(e.attributes),
            }
            for e in span.events
        ]
    if span.links:
        out["links"] = [
            {
                "traceId": _trace_id(link.context.trace_id),
                "spanId": _span_id(link.context.span_id),
                "attributes": _attributes(link.attributes),
            }
            for link in span.links
        ]
    code = span.status.status_code.value  # UNSET 0, OK 1, ERROR 2: same as OTLP
    if code:
        out["status"]["code"] = code
    if span.status.description:
        out["status"]["message"] = span.status.description
    return out


def spans_to_otlp(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """OTLP/JSON ``ExportTraceServiceRequest`` for ``spans``, grouped by resource and
    instrumentation scope, spans in the order given."""
    resources: dict[Any, tuple[Any, dict[Any, tuple[Any, list[dict[str, Any]]]]]] = {}
    for s in spans:
        res = s.resource
        rkey = tuple(sorted((k, repr(v)) for k, v in (res.attributes if res else {}).items()))
        _, scopes = resources.setdefault(rkey, (res, {}))
        sc = s.instrumentation_scope
        skey = (sc.name, sc.version) if sc else ("", None)
        scopes.setdefault(skey, (sc, []))[1].append(_span(s))
    resource_spans = []
    for res, scopes in resources.values():
        scope_spans = []
        for sc, items in scopes.values():
            scope: dict[str, Any] = {"name": sc.name if sc else ""}
            if sc is not None and sc.version:
                scope["version"] = sc.version
            scope_spans.append({"scope": scope, "spans": items})
        resource_spans.append(
            {
                "resource": {"attributes": _attributes(res.attributes if res else None)},
                "scopeSpans": scope_spans,
            }
        )
    return {"resourceSpans": resource_spans}


class TracecardSpanExporter(SpanExporter):
    """An OTel ``SpanExporter`` that keeps finished spans and compiles them.

    ``traces()`` imports the collected spans with tracecard's OTLP importer (one
    Trace per OTel trace id); ``cards()`` compiles them. ``clear()`` forgets the
    spans (e.g. between runs). Thread-safe.
    """

    def __init__(self, prices: Prices = None, replayer: Replayer = None) -> None:
        self._spans: list[ReadableSpan] = []
        self._lock = threading.Lock()
        self._prices = prices
        self._replayer = replayer
        self._shutdown = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            return SpanExportResult.FAILURE
        with self._lock:
            self._spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._shutdown = True

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def spans(self) -> list[ReadableSpan]:
        """The spans collected so far, in the order they finished."""
        with self._lock:
            return list(self._spans)

    def clear(self) -> None:
        """Forget the collected spans."""
        with self._lock:
            self._spans.clear()

    def otlp(self) -> dict[str, Any]:
        """The collected spans as an OTLP/JSON ``ExportTraceServiceRequest`` dict."""
        return spans_to_otlp(self.spans())

    def otlp_json(self) -> str:
        """:meth:`otlp` as JSON text (what ``tracecard compile`` reads)."""
        return json.dumps(self.otlp())

    def traces(self) -> list[Trace]:
        """One Trace per OTel trace id in the collected spans."""
        spans = self.spans()
        if not spans:
            return []
        return loads_all(json.dumps(spans_to_otlp(spans)), format="otlp", name="otel-spans.otlp.json")

    def cards(self, prices: Prices = None, replayer: Replayer = None) -> list[TraceCard]:
        """The TraceCard of every collected trace (``prices``/``replayer`` default to
        the exporter's)."""
        p = prices if prices is not None else self._prices
        r = replayer if replayer is not None else self._replayer
        return [t.compile(prices=p, replayer=r) for t in self.traces()]


def install(
    provider: Optional[TracerProvider] = None,
    prices: Prices = None,
    replayer: Replayer = None,
) -> TracecardSpanExporter:
    """Attach a new :class:`TracecardSpanExporter` (through a ``SimpleSpanProcessor``)
    to ``provider``, or to the global SDK ``TracerProvider`` (created and set as
    global when there is none yet). Returns the exporter."""
    if provider is None:
        current = _otel_trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            provider = current
        else:
            provider = TracerProvider()
            _otel_trace.set_tracer_provider(provider)
    exporter = TracecardSpanExporter(prices=prices, replayer=replayer)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter
