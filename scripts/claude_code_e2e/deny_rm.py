#!/usr/bin/env python3
"""PreToolUse hook: deny `rm` commands (Claude Code hook contract: JSON on stdin, decision on stdout)."""
import json
import sys

ev = json.load(sys.stdin)
cmd = (ev.get("tool_input") or {}).get("command", "")
if cmd.startswith("rm "):
    print(json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                             "permissionDecisionReason": "rm is not allowed in this repo"}}))
