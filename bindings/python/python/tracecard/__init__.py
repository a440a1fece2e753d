"""tracecard: TraceCards for AI agent sessions.

Load a trace of any supported format, compile it into a card (exact per-step cost,
redundant steps and why, counterfactual replay), record your own agent with
:class:`Recorder`, or collect OpenTelemetry spans with :mod:`tracecard.otel`.

Shapes worth knowing:

* ``load(path)`` returns the file's single :class:`Trace` and raises
  :class:`MultipleSessionsError` if the file holds several sessions;
  ``load_all(path)`` returns every session as a list. ``loads``/``loads_all`` take
  ``str`` or ``bytes``.
* Money is :class:`decimal.Decimal` everywhere: the core computes exact
  nano-dollars, and a float would lose that (``0.1 + 0.2``). ``to_dict()`` parses
  every non-integer number as ``Decimal`` too.
* ``compile_many(paths)`` compiles many sessions in parallel (GIL released) into
  :class:`Tables` (``steps`` and ``sessions``), which pyarrow, polars and DuckDB read
  through the Arrow PyCapsule interface; ``card.to_arrow()`` does one card.
  :mod:`tracecard.spark` and :mod:`tracecard.ray` run it inside those engines.
* Every error is a :class:`TracecardError`; :class:`IoError` is also an
  :class:`OSError` and :class:`NotFoundError` a :class:`FileNotFoundError`. A bug
  that panics in the Rust code is an :class:`InternalError`, never pyo3's
  ``PanicException`` (a ``BaseException`` that ``except Exception`` misses).
"""

from tracecard import _guard

_guard.install()

from tracecard._tracecard import (
    CARD_SCHEMA_VERSION,
    ArrowTable,
    BackfireError,
    CardStep,
    CostcraftError,
    InternalError,
    IoError,
    LlmCall,
    MultipleSessionsError,
    NotFoundError,
    ParseError,
    PriceTable,
    PricingError,
    Recorder,
    ReplayError,
    SerializeError,
    Step,
    StepHandle,
    Subagent,
    Tables,
    TokenUsage,
    ToolUse,
    Trace,
    TraceCard,
    TracecardError,
    UnknownFormatError,
    ValidationError,
    WarningCode,
    __version__,
    compile_files,
    compile_many,
    detect,
    discover,
    formats,
    load,
    load_all,
    loads,
    loads_all,
    report,
    session_key,
    warning_codes,
)

__all__ = [
    "ArrowTable",
    "BackfireError",
    "CARD_SCHEMA_VERSION",
    "CardStep",
    "CostcraftError",
    "InternalError",
    "IoError",
    "LlmCall",
    "MultipleSessionsError",
    "NotFoundError",
    "ParseError",
    "PriceTable",
    "PricingError",
    "Recorder",
    "ReplayError",
    "SerializeError",
    "Step",
    "StepHandle",
    "Subagent",
    "Tables",
    "TokenUsage",
    "ToolUse",
    "Trace",
    "TraceCard",
    "TracecardError",
    "UnknownFormatError",
    "ValidationError",
    "WarningCode",
    "__version__",
    "compile_files",
    "compile_many",
    "detect",
    "discover",
    "formats",
    "load",
    "load_all",
    "loads",
    "loads_all",
    "report",
    "session_key",
    "warning_codes",
]
