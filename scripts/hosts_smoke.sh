#!/usr/bin/env bash
# A smoke selection swept on two test hosts (scripts/hosts.sh: network namespaces, an sshd
# in each) and checked: every journal line in the controller's run directory (the hosts do
# not see it: it is a private empty folder there), each record naming its host, no
# contention across hosts, `k2matrix merge` and `--k2-resume` on the run, and a matrix the
# hosts cannot see refused with exit 2 within 30 s. Then the pipeline with its producer
# shares on a Dask worker on each host (scheduler and Tansu broker on the bridge address):
# nothing lost or duplicated, each share's host in the JSON. Root only; run from the
# checkout; cleans up after itself. CI runs it (.ci/run); docs/hosts.md explains it.
#
#   scripts/hosts_smoke.sh            PYTHON=.venv/bin/python K2MATRIX=.venv/bin/k2matrix
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$PWD/.venv/bin/python}
K2MATRIX=${K2MATRIX:-$(dirname "$PYTHON")/k2matrix}
SEL=${K2_HOSTS_SELECTION:-"arrow_conversion or decimal_precision or (append and not s3) or producer-batch"}
RUN=${K2_HOSTS_RUN:-ci-hosts}
STATE=${K2_HOSTS_DIR:-/tmp/k2hosts}
BRIDGE_ADDR=10.231.0.1
cleanup() {
  for pid_file in "$STATE"/dask-*.pid; do
    [ -f "$pid_file" ] && kill "$(cat "$pid_file")" 2>/dev/null && rm -f "$pid_file"
  done
  [ -f "$STATE/tansu.pid" ] && "$PYTHON" -m k2matrix.backends.tansu stop --pid-file "$STATE/tansu.pid"
  scripts/hosts.sh down >/dev/null 2>&1
}
fail() { echo "hosts smoke FAILED: $*" >&2; cleanup; exit 1; }
trap 'fail "interrupted"' TERM INT  # a CI timeout still stops what this started

mkdir -p results
rm -rf "results/$RUN" "results/$RUN-resumed" "results/$RUN-merged" "results/$RUN-private"
scripts/hosts.sh down >/dev/null 2>&1
scripts/hosts.sh up --hosts 2 --private "$PWD/results" || fail "scripts/hosts.sh up"
scripts/hosts.sh check || fail "ssh to the hosts"
read -r -a HOSTS <<< "$(scripts/hosts.sh args 1 "$PYTHON")"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

t0=$(date +%s)
"$K2MATRIX" run --profile smoke -k "$SEL" "${HOSTS[@]}" --k2-run-id="$RUN" -q >"results/$RUN.log" 2>&1
rc=$?
tail -3 "results/$RUN.log"
echo "sweep on 2 hosts: exit $rc in $(( $(date +%s) - t0 )) s"
[ "$rc" -eq 0 ] || fail "the sweep on two hosts (exit $rc; results/$RUN.log)"

"$PYTHON" - "results/$RUN" <<'PY' || fail "the run's records"
import json, sys
from pathlib import Path
run = Path(sys.argv[1])
lines = [json.loads(l) for p in run.glob("journal-*.jsonl") for l in p.read_text().splitlines()]
doc = json.loads((run / "benchmarks.json").read_text())
hosts = {l["host"] for l in lines}
assert len(lines) >= 10 and len(lines) == doc["k2"]["cells_passed"], (len(lines), doc["k2"])
assert hosts == {"k2h1", "k2h2"}, hosts
assert all(b["extra_info"]["k2"]["host"] in hosts for b in doc["benchmarks"])
assert not [b["name"] for b in doc["benchmarks"] if b["extra_info"]["k2"]["concurrent"]]
assert {"k2h1", "k2h2"} <= set(json.loads((run / "meta.json").read_text())["hosts"])
print(f"{len(lines)} journal lines in the controller's run directory, hosts {sorted(hosts)},"
      f" per host {[(h, v.get('cells')) for h, v in doc['k2']['hosts'].items()]}")
PY

"$K2MATRIX" merge "results/$RUN" --results "results/$RUN-merged" || fail "k2matrix merge"

# a copy that lost one cell's lines: --k2-resume re-runs that cell only
cp -r "results/$RUN" "results/$RUN-resumed"
lost=$("$PYTHON" - "results/$RUN-resumed" <<'PY'
import json, sys
from pathlib import Path
path = sorted(Path(sys.argv[1]).glob("journal-*.jsonl"))[0]
lines = path.read_text().splitlines()
path.write_text("".join(l + "\n" for l in lines[1:]))
print(json.loads(lines[0])["cell"]["id"])
PY
)
"$K2MATRIX" run --profile smoke -k "$SEL" "${HOSTS[@]}" --k2-resume="results/$RUN-resumed" \
  -q >"results/$RUN-resumed.log" 2>&1
rc=$?
grep -q "1 passed" "results/$RUN-resumed.log" && [ "$rc" -eq 0 ] \
  || fail "--k2-resume on the two-host run re-ran more than $lost (exit $rc)"
echo "--k2-resume re-ran $lost only"

# a matrix only the controller sees (results/ is an empty private folder on the hosts)
mkdir -p "results/$RUN-private" && cp matrix.toml "results/$RUN-private/matrix.toml"
t0=$(date +%s)
timeout 60 "$K2MATRIX" run --matrix "results/$RUN-private/matrix.toml" --tests tests/performance \
  --profile smoke -k "$SEL" "${HOSTS[@]}" --k2-run-id="$RUN-wrong" -q >"results/$RUN-wrong.log" 2>&1
rc=$?
took=$(( $(date +%s) - t0 ))
grep "no matrix file" "results/$RUN-wrong.log"
[ "$rc" -eq 2 ] && [ "$took" -le 30 ] || fail "a matrix missing on the hosts: exit $rc in $took s"
echo "a matrix missing on the hosts: exit $rc in $took s"

# the pipeline: a producer share on a Dask worker on each host, the sink here
t0=$(date +%s)
broker=$("$PYTHON" -m k2matrix.backends.tansu start --host "$BRIDGE_ADDR" \
  --pid-file "$STATE/tansu.pid" --log "$STATE/tansu.log") || fail "Tansu on $BRIDGE_ADDR"
"$PYTHON" -m distributed.cli.dask_scheduler --host "$BRIDGE_ADDR" --port 8786 --no-dashboard \
  --pid-file "$STATE/dask-scheduler.pid" >"$STATE/dask-scheduler.log" 2>&1 &
for i in 1 2; do
  # the controller's PYTHONPATH too: the shares must run this checkout's code
  ssh -F "$STATE/ssh_config" "k2h$i" "cd $PWD && PYTHONPATH='${PYTHONPATH:-}' exec $PYTHON \
    -m distributed.cli.dask_worker tcp://$BRIDGE_ADDR:8786 --nthreads 1 --no-nanny \
    --no-dashboard --name k2h$i --pid-file $STATE/dask-k2h$i.pid" >"$STATE/dask-k2h$i.log" 2>&1 &
done
"$PYTHON" - "$BRIDGE_ADDR" <<'PY' || fail "the Dask workers on the hosts did not join"
import sys
from distributed import Client
with Client(f"tcp://{sys.argv[1]}:8786", timeout=60) as client:
    client.wait_for_workers(2, timeout=60)
PY
"$PYTHON" -m k2matrix.tools.pipeline --scheduler "tcp://$BRIDGE_ADDR:8786" --bootstrap "$broker" \
  --workers 2 --rate 10000 --seconds 4 --warehouse "$STATE/pipeline-warehouse" \
  >"results/$RUN-pipeline.json" 2>"results/$RUN-pipeline.log"
rc=$?
[ "$rc" -eq 0 ] || fail "the pipeline on two hosts (exit $rc; results/$RUN-pipeline.log)"
"$PYTHON" - "results/$RUN-pipeline.json" <<'PY' || fail "the pipeline's JSON"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["lost"] == 0 and doc["duplicated"] == 0 and doc["unexpected"] == 0, doc["verified"]
if "share_hosts" in doc:
    assert sorted(doc["share_hosts"]) == ["k2h1", "k2h2"], doc["share_hosts"]
    where = f"shares on {doc['share_hosts']}"
else:
    where = "no share_hosts in the JSON (this pipeline does not report a share's host)"
print(f"pipeline on 2 hosts: {doc['verified']}; {where}; {doc['throughput']} rows/s")
PY
echo "pipeline step: $(( $(date +%s) - t0 )) s"

cleanup
