"""tracecard.costcraft: distil reusable cost-saving rules from TraceCards.

Reserved for the costcraft crate's bindings (a later release). The native part
will be exposed as ``tracecard._tracecard.costcraft`` and re-exported here, next
to :mod:`tracecard.otel`; importing this placeholder works and exports nothing.
"""

from __future__ import annotations

__all__: list[str] = []
