#!/usr/bin/env bash
# Run the real Claude Code CLI (2.1.x) headless and offline against the scripted
# Messages API server (server.py), with its OpenTelemetry export on, and collect
# per scenario: the transcript folder, the OTLP/JSON bodies and what the server served.
#
#   scripts/claude_code_e2e/run.sh OUT_DIR
#
# Needs the CLI: $CLAUDE_BIN, else `claude` from $CLAUDE_CODE_DIR/node_modules/.bin
# (`make claude-code-cli` installs it there; ~400 MB native binary from npm).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
claude="${CLAUDE_BIN:-${CLAUDE_CODE_DIR:-$here/../../target/claude-code-cli}/node_modules/.bin/claude}"
[ -x "$claude" ] || { echo "Claude Code CLI not found at $claude (make claude-code-cli)" >&2; exit 1; }

# the PreToolUse hook of a scenario: deny_rm.py on Bash, or (guard) `tracecard guard`
# on every tool, enforcing guard-rules.yaml and logging its decisions
tracecard="${TRACECARD_BIN:-$here/../../target/debug/tracecard}"
hook_deny_rm='{"matcher": "Bash", "hooks": [{"type": "command", "command": "python3 '"$here"'/deny_rm.py"}]}'

run() { # scenario prompt [otlp protocol] [hook]
  local name="$1" prompt="$2" proto="${3:-http/json}" d="$out/$1" hook="${4:-$hook_deny_rm}"
  rm -rf "$d"; mkdir -p "$d/work" "$d/config"
  printf 'alpha\nbeta TODO\ngamma\n' > "$d/work/notes.txt"
  cat > "$d/config/settings.json" <<JSON
{
  "permissions": {
    "allow": ["Read", "Agent", "Task", "Bash(wc:*)", "Bash(grep:*)", "Bash(rm:*)"]
  },
  "hooks": {
    "PreToolUse": [$hook]
  }
}
JSON
  python3 "$here/server.py" "$d" > "$d/port" &
  local server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 50); do [ -s "$d/port" ] && break; sleep 0.1; done
  local port; port="$(cat "$d/port")"
  (
    cd "$d/work"
    env -i PATH="$PATH" HOME="$d/config" \
      CLAUDE_CONFIG_DIR="$d/config" \
      ANTHROPIC_BASE_URL="http://127.0.0.1:$port" ANTHROPIC_API_KEY=sk-ant-dummy \
      DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
      CLAUDE_CODE_ENABLE_TELEMETRY=1 OTEL_LOGS_EXPORTER=otlp OTEL_METRICS_EXPORTER=otlp \
      OTEL_TRACES_EXPORTER=otlp CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1 \
      OTEL_EXPORTER_OTLP_PROTOCOL="$proto" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" \
      OTEL_METRIC_EXPORT_INTERVAL=1000 OTEL_LOGS_EXPORT_INTERVAL=500 OTEL_TRACES_EXPORT_INTERVAL=500 \
      OTEL_METRICS_EXPORTER_TEMPORALITY_PREFERENCE=delta \
      timeout 300 "$claude" -p "$prompt" --output-format stream-json --verbose \
        > "$d/stream.jsonl" 2> "$d/stderr.txt" || echo "claude exited $? ($name)" >&2
  )
  sleep 2 # let the last OTLP exports land
  kill "$server" 2>/dev/null || true
  trap - EXIT
  # the transcript: <config>/projects/<cwd-slug>/<session>.jsonl (+ <session>/subagents/)
  mkdir -p "$d/transcript"
  cp -r "$d/config/projects/"*/. "$d/transcript/"
  # the telemetry goes next to the session (<session>/otel/), where the importer joins it
  local s; s="$(basename "$(ls "$d/transcript/"*.jsonl | head -1)" .jsonl)"
  mkdir -p "$d/transcript/$s/otel" && cp "$d/otel/"* "$d/transcript/$s/otel/"
  echo "$name: $(ls "$d/transcript" | tr '\n' ' ')"
}

run agent "MAIN-AGENT: launch a background agent to count the lines of notes.txt, meanwhile read notes.txt, then report."
run deny "MAIN-DENY: clean the build dir, write out.txt, then check the TODO count."
# the same agent session exported as OTLP/protobuf (one body per .pb file)
run agentpb "MAIN-AGENT: launch a background agent to count the lines of notes.txt, meanwhile read notes.txt, then report." http/protobuf
[ -x "$tracecard" ] || { echo "tracecard not found at $tracecard (cargo build -p tracecard-cli)" >&2; exit 1; }
"$tracecard" check-rules "$here/guard-rules.yaml" "$out/deny/transcript" > "$out/check-rules.txt"
run guard "MAIN-GUARD: read notes.txt, then check the TODO count." http/json \
  '{"matcher": "*", "hooks": [{"type": "command", "command": "'"$tracecard"' guard --rules '"$here"'/guard-rules.yaml --log '"$out"'/guard/guard.jsonl"}]}'
