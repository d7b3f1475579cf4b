#!/usr/bin/env bash
# In-VM part of run-bench.sh's serving figures: resnet18 and the DLRM (the
# batch-bucket files tests/vm/test-serve.sh --prepare writes) served by
# mtia-serve with dynamic batching on, loaded by 32 Python http.client
# threads with binary tensor data (tests/vm/serve_client.py load), against
# the same file's in-process Model::run_batch (mtia-run --bench
# --batch-requests 8) on the same request in this same VM run. Prints one
# line per model with both request rates and their ratio, and one with the
# same load over gRPC (tests/vm/test_serve_grpc.py --load).
set -euo pipefail
[ "${MTIA_IN_VM:-0}" = 1 ] || { echo "serve-bench.sh: run inside tools/mtia-vm" >&2; exit 2; }
DIR=build/models/serve
PY=/usr/bin/python3
PORT=18100
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
ip link set lo up 2>/dev/null || true
for m in resnet18 dlrm; do mkdir -p "$tmp/repo/$m/1" && cp "$DIR/$m.mtia" "$tmp/repo/$m/1/model.mtia"; done
echo '{"max_queue_delay_us": 2000, "queue_capacity": 256}' | tee "$tmp/repo/resnet18/config.json" >"$tmp/repo/dlrm/config.json"
build/bin/mtia-serve --model-repository "$tmp/repo" --http-port $PORT --http-address 127.0.0.1 \
  --grpc-port $((PORT + 1)) --grpc-address 127.0.0.1 2>"$tmp/log" &
pid=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null && break; sleep 0.1; done
for spec in "resnet18 ${MTIA_BENCH_SERVE_RESNET:-64}" "dlrm ${MTIA_BENCH_SERVE_DLRM:-256}"; do
  read -r m n <<<"$spec"
  $PY tests/vm/serve_client.py --models build/models load --name "$m" --port $PORT --model "$m" --clients 32 \
    --count "$n" --json "$tmp/$m.json" >/dev/null
  mapfile -t inputs <<<"$($PY -c 'import json, sys
e = next(e for e in json.load(open("build/models/manifest.json")) if e["name"] == sys.argv[1])
for i in e["inputs"]: print("--input"); print("build/models/" + i["file"])' "$m")"
  build/bin/mtia-run "$DIR/$m.mtia" "${inputs[@]}" --bench "$n" --batch-requests 8 --warmup 2 --json >"$tmp/$m.run.json"
  $PY -c 'import json, sys
s, r = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
print("serve %s: mtia-serve (dynamic batching, 32 clients) %.1f req/s (p50 %.1f ms, p99 %.1f ms), "
      "in-process run_batch %.1f req/s  ->  served/in-process %.2fx" %
      (sys.argv[1], s["rps"], s["p50_ms"], s["p99_ms"], r["throughput_ips"], s["rps"] / r["throughput_ips"]))' \
    "$m" "$tmp/$m.json" "$tmp/$m.run.json"
  # The same load over gRPC (raw contents, 32 grpcio clients).
  $PY tests/vm/test_serve_grpc.py --models build/models --grpc-port $((PORT + 1)) --load "$m" --count "$n"
done
kill "$pid"
wait "$pid"
pid=
