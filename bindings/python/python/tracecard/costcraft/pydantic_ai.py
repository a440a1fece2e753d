"""Enforce distilled prune rules on a pydantic-ai agent's tools.

:class:`GuardedToolset` wraps any pydantic-ai toolset. Before each tool call it
asks a :class:`tracecard.costcraft.Guard` about the call, given the calls recorded
so far in a :class:`tracecard.Recorder`::

    from pydantic_ai import Agent
    from pydantic_ai.toolsets import FunctionToolset
    from tracecard import Recorder
    from tracecard.costcraft import Guard
    from tracecard.costcraft.pydantic_ai import GuardedToolset

    rec = Recorder("session-1")
    tools = GuardedToolset(FunctionToolset([read_file]), Guard.load("rules/rules.yaml"), rec)
    agent = Agent(model, toolsets=[tools])
    agent.run_sync("...")
    tools.decisions        # one GuardRecord per call: tool_call_id, tool_name, args, decision
    rec.finish().compile() # the denied calls are steps with status "denied"

An allowed call runs and is recorded as a tool step (its result, or its error).
A denied call does not run: the model gets a failed tool result carrying the
reason (pydantic-ai's ``ToolFailed``: no retry prompt, no retry budget spent), and
the recorder gets a step with status ``denied`` and attribute
``costcraft.rule_id``. The recorder's ``costcraft.active_rules`` metadata names the
rules the guard enforced, so ``costcraft.evaluate`` can ablate per lane.

Needs ``pydantic-ai`` (or ``pydantic-ai-slim``) >= 1.0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from pydantic_ai import RunContext
from pydantic_ai.exceptions import ToolFailed
from pydantic_ai.toolsets import WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from tracecard._tracecard import Decision, Guard, Recorder

__all__ = ["GuardRecord", "GuardedToolset"]

ACTIVE_RULES_KEY = "costcraft.active_rules"


@dataclass(frozen=True)
class GuardRecord:
    """One guard decision on one tool call."""

    tool_call_id: Optional[str]
    tool_name: str
    args: dict[str, Any]
    decision: Decision


def _text(result: Any) -> str:
    if isinstance(result, str):
        return result
    try:
        return json.dumps(result, default=str, sort_keys=True)
    except (TypeError, ValueError):
        return str(result)


@dataclass
class GuardedToolset(WrapperToolset[Any]):
    """A pydantic-ai toolset whose calls pass through a costcraft :class:`Guard`.

    ``recorder``: where the calls are recorded and what the guard decides from
    (a new one, ``Recorder("pydantic-ai")``, when omitted). ``decisions`` lists
    every decision, in call order.
    """

    guard: Guard
    recorder: Optional[Recorder] = None
    decisions: list[GuardRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.guard, Guard):
            raise TypeError(f"guard must be a tracecard.costcraft.Guard, got {type(self.guard).__name__}")
        if self.recorder is None:
            self.recorder = Recorder("pydantic-ai")
        self.recorder.set_metadata(ACTIVE_RULES_KEY, ",".join(self.guard.active_rules))

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        rec = self.recorder
        assert rec is not None
        decision = self.guard.check(name, tool_args, rec)
        call_id = ctx.tool_call_id
        self.decisions.append(GuardRecord(call_id, name, dict(tool_args), decision))
        step = rec.tool_use(name, arguments=tool_args, tool_call_id=call_id)
        if not decision.allowed:
            step.set_attribute("costcraft.rule_id", decision.rule_id or "")
            step.deny(decision.reason)
            step.end()
            raise ToolFailed(decision.reason)
        with step:
            result = await self.wrapped.call_tool(name, tool_args, ctx, tool)
            step.set_result(_text(result))
        return result
