#!/usr/bin/env bash
# Base model vs the agent adapter on tests/data/agent/questions.jsonl, on a local stack whose
# web tools point at tests/agent_world.py and whose knowledge base holds the three Kubernetes
# pages the documentation questions need (docs/agent.md, "Results").
#   scripts/agent-eval.sh [ADAPTER_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ADAPTER=${1:-training-jobs/adapters/agent}
OUT=${2:-/tmp/agent-eval}
CONCURRENCY=${CONCURRENCY:-8}
PAGES=../shared/data/kubernetes-docs/docs
[ -d "$PAGES" ] || { echo "need $PAGES (../shared)"; exit 1; }
mkdir -p "$OUT/docs"
for page in setup/best-practices/cluster-large.md reference/networking/ports-and-protocols.md \
            concepts/services-networking/service.md; do
  cp "$PAGES/$page" "$OUT/docs/$(basename "$page")"
done
.venv/bin/python -m tests.agent_world > "$OUT/world.env" &
WORLD=$!
trap 'kill $WORLD ${STACK:-} 2>/dev/null || true' EXIT
until grep -q FORECAST_URL "$OUT/world.env" 2>/dev/null; do sleep 0.5; done
# shellcheck disable=SC1091
source "$OUT/world.env"
export DOCENT_GENERATION_LORA_ADAPTERS="{\"agent\": \"$(realpath "$ADAPTER")\"}"
# Both runs go at once: the engine decodes base and adapter rows in one mixed batch.
export DOCENT_GENERATION_MAX_BATCH_SIZE=$((2 * CONCURRENCY)) DOCENT_GATEWAY_GENERATION_TIMEOUT_S=1800
export DOCENT_GATEWAY_REQUEST_TIMEOUT_S=600
.venv/bin/docent up --home "$OUT/home" --ingest "$OUT/docs" --grpc-base-port 46051 \
  --metrics-base-port 46151 --gateway-port 46251 > "$OUT/up.log" 2>&1 &
STACK=$!
until grep -q "Docent is ready" "$OUT/up.log"; do
  kill -0 $STACK 2>/dev/null || { tail -40 "$OUT/up.log"; exit 1; }
  sleep 2
done
RUNS=()
for adapter in "" agent; do
  name=${adapter:-base}
  .venv/bin/docent eval agent --questions tests/data/agent/questions.jsonl \
    --url http://127.0.0.1:46251 --adapter "$adapter" --concurrency "$CONCURRENCY" \
    --traces "$OUT/traces-$name.jsonl" --json > "$OUT/result-$name.json" 2> "$OUT/eval-$name.log" &
  RUNS+=($!)
done
wait "${RUNS[@]}"
tail -n 1 "$OUT/result-base.json" "$OUT/result-agent.json"
