#!/usr/bin/env bash
# mtia-serve (docs/serving.md) inside the VM, driven by clients we did not
# write: curl for the REST endpoints (health, metadata, repository index,
# infer with JSON and with binary tensor data: resnet18 and a DLRM against
# PyTorch's outputs), Python's http.client threads (tests/vm/serve_client.py)
# for the concurrent parts: two versions of one model and a second model,
# load/unload while serving, a load test (32 clients, a fixed request count,
# dynamic batching on and off: 0 failures), overload of a tiny queue (429s,
# no timeouts), promtool on /metrics, the statistics extension (counts grow
# by the requests made, Triton's field names, 404 for an unknown model), and
# SIGTERM mid-load (every accepted request answered, exit 0).
#
# On the HOST first (mtia-compile; tests/run-all.sh does this):
#   tests/vm/test-serve.sh --prepare
# then INSIDE an mtia-vm guest:
#   tools/mtia-vm run --devices 1 -- tests/vm/test-serve.sh
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
MODELS=build/models
DIR=build/models/serve
PY=/usr/bin/python3

if [ "${1:-}" = --prepare ]; then
  set -e
  mkdir -p "$DIR"
  # resnet18 and the DLRM with batch buckets: dim 0 coalesces across requests.
  for m in resnet18:1,4,8 dlrm:1,8,32; do
    n=${m%%:*}
    if [ ! -f "$DIR/$n.mtia" ] || [ build/bin/mtia-compile -nt "$DIR/$n.mtia" ] || [ "$MODELS/$n.onnx" -nt "$DIR/$n.mtia" ]; then
      build/bin/mtia-compile -q "$MODELS/$n.onnx" --batch-buckets "${m#*:}" -o "$DIR/$n.mtia"
    fi
  done
  exit 0
fi

# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
SERVE=build/bin/mtia-serve
CLIENT="$PY tests/vm/serve_client.py --models $MODELS"
PORT=18000
URL=http://127.0.0.1:$PORT
tmp=$(mktemp -d)
pid=
on_finish() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid"
  rm -rf "$tmp"
}

need_device
need_prepared tests/vm/test-serve.sh "$DIR/resnet18.mtia" "$DIR/dlrm.mtia" "$SERVE"
ip link set lo up 2>/dev/null

# The repository: resnet18 (batching on), dlrm versions 1 and 2 (both
# served), dlrm_nobatch (the same file, one request per run), dlrm_tiny
# (a queue of 1: overload), and a corrupt model that must not load.
repo=$tmp/repo
mkdir -p "$repo"/{resnet18/1,dlrm/1,dlrm/2,dlrm_nobatch/1,dlrm_tiny/1,dlrm_slow/1,broken/1}
cp "$DIR/resnet18.mtia" "$repo/resnet18/1/model.mtia"
echo '{"max_batch": 8, "max_queue_delay_us": 2000}' >"$repo/resnet18/config.json"
for d in dlrm/1 dlrm/2 dlrm_nobatch/1 dlrm_tiny/1 dlrm_slow/1; do cp "$DIR/dlrm.mtia" "$repo/$d/model.mtia"; done
echo '{"versions": "all", "max_batch": 32, "max_queue_delay_us": 2000, "queue_capacity": 128}' >"$repo/dlrm/config.json"
echo '{"dynamic_batching": false, "queue_capacity": 128}' >"$repo/dlrm_nobatch/config.json"
echo '{"queue_capacity": 1, "max_batch": 8, "max_queue_delay_us": 0}' >"$repo/dlrm_tiny/config.json"
# A batch waits 3 s for company: a request with a shorter timeout expires first.
echo '{"max_batch": 32, "max_queue_delay_us": 3000000}' >"$repo/dlrm_slow/config.json"
head -c 4096 /dev/urandom >"$repo/broken/1/model.mtia"

# start_server: runs mtia-serve on $repo in the background (pid), waits
# (bounded) until it is ready.
start_server() {
  "$SERVE" --model-repository "$repo" --http-port $PORT --http-address 127.0.0.1 --grpc-port $((PORT + 1)) \
    --grpc-address 127.0.0.1 2>"$tmp/serve.log" &
  pid=$!
  for _ in $(seq 600); do
    curl -sf "$URL/v2/health/ready" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}
check "mtia-serve starts and becomes ready" start_server || { cat "$tmp/serve.log"; finish; }
grep -q "model 'broken'" "$tmp/serve.log" && pass "the corrupt model is reported at startup: $(grep "model 'broken'" "$tmp/serve.log")" ||
  fail "no startup error for the corrupt model"

# ---- curl: health, metadata, index ---------------------------------------
code() { curl -s -o "$tmp/body" -w '%{http_code}' "$@"; }
check "GET /v2/health/live is 200" [ "$(code "$URL/v2/health/live")" = 200 ]
curl -sf "$URL/v2" >"$tmp/v2"
check "GET /v2 names the server and its extensions" \
  $PY -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j["name"]=="mtia-serve" and "binary_tensor_data" in j["extensions"] else 1)' "$tmp/v2"
curl -sf "$URL/v2/models/resnet18" >"$tmp/meta"
check "GET /v2/models/resnet18 is its metadata" $PY -c 'import json,sys
j=json.load(open(sys.argv[1])); i=j["inputs"][0]
print("  resnet18:", j["versions"], i)
sys.exit(0 if i["datatype"]=="FP32" and i["shape"]==[-1,3,224,224] and j["outputs"][0]["shape"]==[-1,1000] else 1)' "$tmp/meta"
curl -sf "$URL/v2/models/dlrm" >"$tmp/meta"
check "GET /v2/models/dlrm lists versions 1 and 2" $PY -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["versions"]==["1","2"] else 1)' "$tmp/meta"
check "GET /v2/models/dlrm/versions/1/ready is 200" [ "$(code "$URL/v2/models/dlrm/versions/1/ready")" = 200 ]
check "an unknown model is 404 with an error body" \
  bash -c '[ "$(curl -s -o '"$tmp"'/e -w "%{http_code}" '"$URL"'/v2/models/nope)" = 404 ] && grep -q "\"error\"" '"$tmp"'/e'
check "an unknown version is 404" [ "$(code "$URL/v2/models/dlrm/versions/7")" = 404 ]
curl -sf -d '{}' "$URL/v2/repository/index" >"$tmp/index"
check "the index lists READY versions and the corrupt model UNAVAILABLE" $PY -c 'import json,sys
j=json.load(open(sys.argv[1])); s={(e["name"],e.get("version","")):e["state"] for e in j}
print("  index:", sorted(s.items()))
sys.exit(0 if s[("dlrm","1")]==s[("dlrm","2")]==s[("resnet18","1")]=="READY" and s[("broken","")]=="UNAVAILABLE" else 1)' "$tmp/index"

# ---- curl: infer, JSON and binary, against PyTorch -----------------------
infer_check() { # what model manifest-name [row] [--binary]
  local what=$1 model=$2 name=$3 row=$4 bin=$5 hlen=0 args=()
  [ -n "$row" ] && args+=(--row "$row")
  if [ "$bin" = binary ]; then
    hlen=$($CLIENT mkreq --name "$name" "${args[@]}" --binary --out "$tmp/req") || return 1
    curl -sf -D "$tmp/hdr" -o "$tmp/resp" -H "Inference-Header-Content-Length: $hlen" \
      -H 'Content-Type: application/octet-stream' --data-binary @"$tmp/req" "$URL/v2/models/$model/infer" || return 1
    hlen=$(tr -d '\r' <"$tmp/hdr" | sed -n 's/^[Ii]nference-[Hh]eader-[Cc]ontent-[Ll]ength: *//p')
  else
    $CLIENT mkreq --name "$name" "${args[@]}" --out "$tmp/req" || return 1
    curl -sf -o "$tmp/resp" -H 'Content-Type: application/json' --data-binary @"$tmp/req" \
      "$URL/v2/models/$model/infer" || return 1
  fi
  $CLIENT check --name "$name" "${args[@]}" --model "$model" --response "$tmp/resp" --header-len "${hlen:-0}"
}
check "resnet18 infer (JSON) matches PyTorch" infer_check json resnet18 resnet18 "" json
check "resnet18 infer (binary data) matches PyTorch" infer_check bin resnet18 resnet18 "" binary
check "resnet18 infer of 8 samples in one request matches PyTorch" infer_check bin resnet18 resnet18_b8 "" binary
check "resnet18 infer of sample 5 alone matches PyTorch" infer_check bin resnet18 resnet18_b8 5 binary
check "dlrm infer (JSON) matches PyTorch" infer_check json dlrm dlrm "" json
check "dlrm version 1 infer (binary) matches PyTorch" infer_check bin dlrm/versions/1 dlrm "" binary
check "dlrm_nobatch infer (binary) matches PyTorch" infer_check bin dlrm_nobatch dlrm "" binary

# Bad requests: 400 with an error saying what is wrong.
bad() { # expected-substring json
  local c
  c=$(curl -s -o "$tmp/e" -w '%{http_code}' -H 'Content-Type: application/json' -d "$2" "$URL/v2/models/dlrm/infer")
  [ "$c" = 400 ] && grep -q "$1" "$tmp/e" && echo "  400: $(cat "$tmp/e")"
}
check "malformed JSON is 400" bad "malformed" '{"inputs": ['
check "an unknown input is 400" bad "unexpected inference input 'zz'" \
  '{"inputs":[{"name":"zz","shape":[1],"datatype":"FP32","data":[1]}]}'
check "a wrong shape is 400" bad "has shape \[8,12\]" "$($PY -c 'import json
print(json.dumps({"inputs":[{"name":"input0","shape":[8,12],"datatype":"FP32","data":[0.0]*96}]+[{"name":"input%d"%i,"shape":[8,4],"datatype":"INT64","data":[0]*32} for i in (1,2,3)]}))')"
check "a wrong datatype is 400" bad "has datatype FP32, the model takes INT64" "$($PY -c 'import json
print(json.dumps({"inputs":[{"name":"input0","shape":[8,13],"datatype":"FP32","data":[0.0]*104}]+[{"name":"input%d"%i,"shape":[8,4],"datatype":"FP32","data":[0.0]*32} for i in (1,2,3)]}))')"
check "a data count not matching the shape is 400" bad "elements, the shape says" \
  '{"inputs":[{"name":"input0","shape":[8,13],"datatype":"FP32","data":[1,2]}]}'

# A request whose timeout (200 ms) passes while its batch waits is 504, not run.
timeout_504() {
  $CLIENT mkreq --name dlrm --timeout-us 200000 --out "$tmp/req" &&
    [ "$(curl -s -o "$tmp/e" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$tmp/req" \
      "$URL/v2/models/dlrm_slow/infer")" = 504 ] && grep -q "timed out" "$tmp/e" && echo "  504: $(cat "$tmp/e")"
}
check "a request timing out in its model's queue is 504" timeout_504

# ---- statistics (Triton's extension) --------------------------------------
# k one-sample requests to dlrm_nobatch (one run each): its inference_count,
# execution_count and success.count grow by k, and the JSON has Triton's names.
stats_grow() {
  local k=3 i
  curl -sf "$URL/v2/models/dlrm_nobatch/versions/1/stats" >"$tmp/s0" || return 1
  $CLIENT mkreq --name dlrm --row 0 --out "$tmp/req1" || return 1
  for i in $(seq $k); do
    curl -sf -o /dev/null -H 'Content-Type: application/json' --data-binary @"$tmp/req1" \
      "$URL/v2/models/dlrm_nobatch/infer" || return 1
  done
  curl -sf "$URL/v2/models/dlrm_nobatch/stats" >"$tmp/s1" || return 1
  $PY -c 'import json,sys,time
k=int(sys.argv[3]); a,b=(json.load(open(f))["model_stats"] for f in sys.argv[1:3])
assert len(a)==len(b)==1, (a, b); a,b=a[0],b[0]
d=lambda f: b[f]-a[f]
ds=lambda f,x: b["inference_stats"][f][x]-a["inference_stats"][f][x]
print("  dlrm_nobatch after %d requests: inference_count +%d, execution_count +%d, success +%d (%.2f ms each), queue %.3f ms, compute input/infer/output %.3f/%.3f/%.3f ms each" %
      (k, d("inference_count"), d("execution_count"), ds("success","count"), ds("success","ns")/k/1e6, ds("queue","ns")/k/1e6,
       ds("compute_input","ns")/k/1e6, ds("compute_infer","ns")/k/1e6, ds("compute_output","ns")/k/1e6))
keys={"name","version","last_inference","inference_count","execution_count","inference_stats","batch_stats"}
sub={"success","fail","queue","compute_input","compute_infer","compute_output"}
ok = set(b)==keys and set(b["inference_stats"])==sub and b["name"]=="dlrm_nobatch" and b["version"]=="1"
ok = ok and all(set(v)=={"count","ns"} for v in b["inference_stats"].values())
ok = ok and d("inference_count")==k and d("execution_count")==k and ds("success","count")==k and ds("fail","count")==0
ok = ok and ds("compute_infer","count")==k and ds("compute_infer","ns")>0 and ds("success","ns")>=ds("compute_infer","ns")
ok = ok and abs(b["last_inference"]/1000-time.time())<60
bs={e["batch_size"]:e for e in b["batch_stats"]}
ok = ok and 1 in bs and set(bs[1])=={"batch_size","compute_input","compute_infer","compute_output"}
sys.exit(0 if ok else 1)' "$tmp/s0" "$tmp/s1" $k
}
check "statistics: k requests grow inference_count, execution_count and success by k; Triton's field names" stats_grow
check "statistics of every model list each loaded version" $PY -c 'import json,sys,urllib.request
j=json.load(urllib.request.urlopen(sys.argv[1]+"/v2/models/stats"))
s={(e["name"],e["version"]) for e in j["model_stats"]}; print("  stats of:", sorted(s))
sys.exit(0 if {("dlrm","1"),("dlrm","2"),("resnet18","1")}<=s and not any(n=="broken" for n,_ in s) else 1)' "$URL"
check "statistics of an unknown model are 404 with an error body" \
  bash -c '[ "$(curl -s -o '"$tmp"'/e -w "%{http_code}" '"$URL"'/v2/models/nope/stats)" = 404 ] && grep -q "\"error\"" '"$tmp"'/e'
check "statistics of an unloaded version are 404" [ "$(code "$URL/v2/models/dlrm/versions/7/stats")" = 404 ]

# ---- concurrent clients ---------------------------------------------------
check "reload dlrm x3 and unload/load resnet18 while 4 clients infer dlrm: all 200" \
  $CLIENT reload --name dlrm --port $PORT --model dlrm --other resnet18 --times 3
check "load test, dynamic batching on: 32 clients, 96 requests, 0 failures" \
  $CLIENT load --name dlrm --port $PORT --model dlrm --clients 32 --count 96 --json "$tmp/on.json"
check "load test, dynamic batching off: 32 clients, 96 requests, 0 failures" \
  $CLIENT load --name dlrm --port $PORT --model dlrm_nobatch --clients 32 --count 96 --json "$tmp/off.json"
check "load test, resnet18 (batching on): 32 clients, 64 requests, 0 failures" \
  $CLIENT load --name resnet18 --port $PORT --model resnet18 --clients 32 --count 64
$PY -c 'import json,sys
on, off = (json.load(open(f)) for f in sys.argv[1:3])
print("serve dlrm 32 clients: batching on %.0f req/s (p50 %.1f ms, p99 %.1f ms), off %.0f req/s (p50 %.1f ms, p99 %.1f ms): ratio %.2f" %
      (on["rps"], on["p50_ms"], on["p99_ms"], off["rps"], off["p50_ms"], off["p99_ms"], on["rps"] / off["rps"]))' "$tmp/on.json" "$tmp/off.json"
check "overload of a 1-deep queue: 429s, no timeouts or errors" \
  $CLIENT overload --name dlrm --port $PORT --model dlrm_tiny --clients 32 --count 96
curl -sf "$URL/metrics" >"$tmp/metrics"
check "the batch size histogram shows coalesced dlrm batches (above 8 samples)" $PY -c 'import re,sys
t=open(sys.argv[1]).read()
le8=int(re.search(r"mtia_serve_batch_size_bucket\{model=\"dlrm\",version=\"2\",le=\"8\"\} (\d+)", t).group(1))
n=int(re.search(r"mtia_serve_batch_size_count\{model=\"dlrm\",version=\"2\"\} (\d+)", t).group(1))
print("  dlrm v2: %d batches, %d of more than 8 samples" % (n, n - le8)); sys.exit(0 if n > le8 else 1)' "$tmp/metrics"
check "promtool check metrics passes on /metrics" promtool check metrics <"$tmp/metrics"
check "/metrics counts 429s as queue_full" grep -q 'mtia_serve_requests_total{model="dlrm_tiny",version="1",status="queue_full"}' "$tmp/metrics"
check "/metrics counts the 504 as timeout" grep -q 'mtia_serve_requests_total{model="dlrm_slow",version="1",status="timeout"} 1' "$tmp/metrics"

# ---- SIGTERM mid-load ----------------------------------------------------
# 200s the server gave before this phase (every model's success counter).
ok_before=$(curl -sf "$URL/metrics" | sed -n 's/^mtia_serve_requests_total{.*status="success"} //p' | paste -sd+ | bc)
check "SIGTERM mid-load: accepted requests answered 200, the rest refused" \
  $CLIENT sigterm --name dlrm --port $PORT --model dlrm --clients 32 --after 50 --pid "$pid" --out "$tmp/term.json"
# Bounded: the driver waited for its clients; the server must be gone soon after.
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  fail "mtia-serve still running 30 s after SIGTERM"
  kill -9 "$pid"
fi
rc=0
wait "$pid" || rc=$?
pid=
check "mtia-serve exits 0 after draining (exit $rc)" [ "$rc" = 0 ]
drained=$(grep "drained:" "$tmp/serve.log")
echo "  $drained"
# A connection still in the listen backlog when the drained server closes
# its socket is reset unread ("lost" to the client, never accepted): the
# server's counts show every accepted request answered and every 200 it
# sent since the phase began received by a client.
check "every accepted request was answered, and the clients got every 200 the server sent" $PY -c 'import json,re,sys
o=json.load(open(sys.argv[1])); m=re.search(r"(\d+) requests accepted, (\d+) answered, (\d+) with 200", sys.argv[2])
sent=int(m.group(3))-int(sys.argv[3]) if m else -1
print("  server: 200s sent in the phase %d, clients got %d; never-read connections reset: %d" % (sent, o["200"], len(o["lost"])))
sys.exit(0 if m and m.group(1)==m.group(2) and sent==o["200"] else 1)' "$tmp/term.json" "$drained" "$ok_before"
finish
