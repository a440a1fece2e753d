#!/usr/bin/env python3
"""Scripted Anthropic Messages API + OTLP/HTTP receiver for driving the real Claude Code CLI offline.

One loopback HTTP server:
  POST /v1/messages        -> a scripted streamed (SSE) reply, chosen from the conversation state
  POST /v1/{logs,metrics,traces} -> an OTLP/JSON body is appended to <out>/otel/<kind>.jsonl,
                                    an OTLP/protobuf body saved as <out>/otel/<kind>-NNNN.pb
Every reply the server sends is logged to <out>/served.jsonl (request id, message id, model, usage)
so tests can compare the card's tokens with what the "provider" really reported.

The scenario is picked by a marker in the first user message of the conversation:
  MAIN-AGENT  main conversation that launches a background sub-agent (Agent tool), reads a file
              twice (known waste), waits for the <task-notification>, then answers with the
              sub-agent's report.
  SUBTASK     the sub-agent: one Bash call, then its report.
  MAIN-DENY   a Bash call denied by a PreToolUse hook, a Write denied by permissions
              (not in permissions.allow), then an answer.
  MAIN-GUARD  a Read, the same Read again (denied by `tracecard guard`), a Bash grep, then
              an answer quoting the denial reason it received (GUARD-SEEN ...).
Requests without tools (titles, summaries, ...) get a short text reply.

Usage: server.py OUT_DIR  (prints the port on stdout, then serves until killed)
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OUT = sys.argv[1]
WORK = os.path.join(OUT, "work")  # the CLI runs in OUT/work (run.sh)
os.makedirs(os.path.join(OUT, "otel"), exist_ok=True)
LOCK = threading.Lock()
COUNTER = [0]
COUNTER_PB = [0]


def text_of(content):
    if isinstance(content, str):
        return content
    out = []
    for b in content or []:
        if b.get("type") == "text":
            out.append(b.get("text", ""))
        elif b.get("type") == "tool_result":
            out.append(text_of(b.get("content")))
    return "\n".join(out)


def all_user_text(messages):
    return "\n".join(text_of(m.get("content")) for m in messages if m.get("role") == "user")


def tool(name, inp):
    return ("tool_use", name, inp)


def say(t):
    return ("text", t)


def script(body):
    """The blocks of the next reply, from the conversation so far."""
    msgs = body.get("messages", [])
    if not body.get("tools"):
        return [say("Scripted session")]
    first = text_of(msgs[0].get("content")) if msgs else ""
    k = sum(1 for m in msgs if m.get("role") == "assistant")
    users = all_user_text(msgs)
    if "SUBTASK" in first:
        if k == 0:
            return [say("Counting the lines."), tool("Bash", {"command": "wc -l notes.txt", "description": "Count lines"})]
        return [say("Report: notes.txt has 3 lines.")]
    if "MAIN-AGENT" in first:
        if k == 0:
            return [tool("Agent", {"description": "Count note lines", "subagent_type": "general-purpose",
                                   "prompt": "SUBTASK: count the lines of notes.txt and report the number."})]
        if k == 1:
            return [tool("Read", {"file_path": os.path.join(WORK, "notes.txt")})]
        if k == 2:
            return [say("Reading it once more."), tool("Read", {"file_path": os.path.join(WORK, "notes.txt")})]
        if "<task-notification>" in users:
            return [say("The sub-agent reports: notes.txt has 3 lines. Done.")]
        return [say("Waiting for the background agent.")]
    if "MAIN-DENY" in first:
        if k == 0:
            return [tool("Bash", {"command": "rm -rf build", "description": "Remove build dir"})]
        if k == 1:
            return [tool("Write", {"file_path": os.path.join(WORK, "out.txt"), "content": "hello\n"})]
        if k == 2:
            return [tool("Bash", {"command": "grep -c TODO notes.txt", "description": "Count TODOs"})]
        return [say("Both changes were refused; notes.txt has its TODO count checked. Done.")]
    if "MAIN-GUARD" in first:
        # a model takes a while: Claude Code writes its transcript in batches, and the
        # hook reads the transcript, so an instant reply would race the writes
        time.sleep(1.0)
        notes = os.path.join(WORK, "notes.txt")
        if k == 0:
            return [tool("Read", {"file_path": notes})]
        if k == 1:
            return [say("Reading it once more."), tool("Read", {"file_path": notes})]
        if k == 2:
            return [tool("Bash", {"command": "grep -c TODO notes.txt", "description": "Count TODOs"})]
        # quote the guard's reason back when the denied read's result carried it
        seen = [l for l in users.splitlines() if "prune-read-repeat-of-success-main:" in l]
        return [say("GUARD-SEEN " + seen[0].strip() if seen else "GUARD-NOT-SEEN")]
    return [say("Nothing scripted for this request.")]


def usage_for(n, k):
    """Deterministic, distinct usage per reply (n = global reply number)."""
    return {
        "input_tokens": 100 + 7 * n,
        "cache_read_input_tokens": 1000 * k,
        "cache_creation_input_tokens": 300 + n,
        "cache_creation": {"ephemeral_5m_input_tokens": 200 + n, "ephemeral_1h_input_tokens": 100},
        "output_tokens": 20 + 3 * n,
    }


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _body(self):
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n)

    def do_POST(self):
        raw = self._body()
        path = self.path.split("?")[0]
        if path.startswith("/v1/messages"):
            if path.endswith("/count_tokens"):
                return self._json({"input_tokens": 1000})
            return self._messages(json.loads(raw))
        for kind in ("logs", "metrics", "traces"):
            if path == f"/v1/{kind}":
                if "protobuf" in (self.headers.get("content-type") or ""):
                    # OTLP/protobuf: one body per file, as a receiver that saves bodies keeps them
                    with LOCK:
                        COUNTER_PB[0] += 1
                        name = f"{kind}-{COUNTER_PB[0]:04d}.pb"
                        with open(os.path.join(OUT, "otel", name), "wb") as f:
                            f.write(raw)
                    return self._empty("application/x-protobuf")
                with LOCK, open(os.path.join(OUT, "otel", f"{kind}.jsonl"), "a") as f:
                    f.write(raw.decode("utf-8").replace("\n", " ") + "\n")
                return self._json({})
        self._json({"error": "not found"}, 404)

    def _empty(self, ctype):
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-length", "0")
        self.end_headers()

    def _json(self, obj, code=200):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _messages(self, body):
        blocks = script(body)
        k = sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")
        with LOCK:
            COUNTER[0] += 1
            n = COUNTER[0]
        u = usage_for(n, k)
        model = body.get("model", "claude-opus-5-5")
        msg_id = f"msg_scripted{n:04d}"
        req_id = f"req_scripted{n:04d}"
        stop = "tool_use" if any(b[0] == "tool_use" for b in blocks) else "end_turn"
        with LOCK, open(os.path.join(OUT, "served.jsonl"), "a") as f:
            f.write(json.dumps({"n": n, "request_id": req_id, "message_id": msg_id, "model": model,
                                "stream": bool(body.get("stream")), "tools": bool(body.get("tools")),
                                "usage": u, "stop_reason": stop}) + "\n")
        content = []
        for i, b in enumerate(blocks):
            if b[0] == "text":
                content.append({"type": "text", "text": b[1]})
            else:
                content.append({"type": "tool_use", "id": f"toolu_scripted{n:04d}_{i}", "name": b[1], "input": b[2]})
        start_usage = dict(u)
        start_usage["output_tokens"] = 1
        if not body.get("stream"):
            self.send_response(200)
            data = json.dumps({"id": msg_id, "type": "message", "role": "assistant", "model": model,
                               "content": content, "stop_reason": stop, "stop_sequence": None,
                               "usage": u}).encode()
            self.send_header("request-id", req_id)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        events = [("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})]
        for i, c in enumerate(content):
            if c["type"] == "text":
                events.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                       "content_block": {"type": "text", "text": ""}}))
                events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                       "delta": {"type": "text_delta", "text": c["text"]}}))
            else:
                events.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                       "content_block": {"type": "tool_use", "id": c["id"],
                                                                         "name": c["name"], "input": {}}}))
                events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                       "delta": {"type": "input_json_delta",
                                                                 "partial_json": json.dumps(c["input"])}}))
            events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        events.append(("message_delta", {"type": "message_delta",
                                         "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": u}))
        events.append(("message_stop", {"type": "message_stop"}))
        data = "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in events).encode()
        self.send_response(200)
        self.send_header("request-id", req_id)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()
