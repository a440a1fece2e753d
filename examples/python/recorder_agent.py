"""A tiny tool-using agent loop recorded with tracecard.Recorder; prints its TraceCard.

Run: python examples/python/recorder_agent.py   (after `pip install ./bindings/python`)
The "model" is scripted so the example runs offline; swap `fake_model` for a real client
and pass its usage numbers to `call.set_tokens(...)`.
"""

import tracecard

FILES = {"config/dev.toml": "pool_size = 4\n", "config/prod.toml": "pool_size = 32\n"}
PLAN = ["config/dev.toml", "config/prod.toml"]  # the model reads both, then answers


def fake_model(turn, seen):
    if turn < len(PLAN):
        return {"tool": "read_file", "path": PLAN[turn], "usage": (600 + 130 * turn, 20)}
    return {"text": f"Production uses {seen['config/prod.toml'].strip()}.", "usage": (880, 34)}


rec = tracecard.Recorder("recorder-demo")
rec.user_input("What pool size does production use?")
seen, last_tool = {}, None
for turn in range(10):
    with rec.llm_call("gpt-4.1-mini") as call:
        reply = fake_model(turn, seen)
        call.set_tokens(input=reply["usage"][0], output=reply["usage"][1])
        call.set_output(reply.get("text") or f"read_file({reply['path']})")
        if last_tool is not None:
            call.in_context(last_tool)  # the tool result was sent to this call
    if "text" in reply:
        call.consumes(last_tool)  # the answer quotes the last file read
        break
    with rec.tool_use("read_file", {"path": reply["path"]}, requested_by=call) as tool:
        tool.reads(reply["path"])
        seen[reply["path"]] = FILES[reply["path"]]
        tool.set_output(seen[reply["path"]])
    last_tool = tool

trace = rec.finish("success", evidence=[{"verifier": "demo", "passed": True}])
card = trace.compile()
print(card.to_yaml())
print(f"total ${card.total_cost_usd}, redundant ${card.redundant_cost_usd}, unproven ${card.unproven_cost_usd}")
