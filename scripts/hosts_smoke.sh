#!/usr/bin/env bash
# A smoke selection swept on two test hosts (scripts/hosts.sh: network namespaces, an sshd
# in each) and checked: every journal line in the controller's run directory (the hosts do
# not see it: it is a private empty folder there), each record naming its host, no
# contention across hosts, `k2matrix merge` and `--k2-resume` on the run, and a matrix the
# hosts cannot see refused with exit 2 within 30 s. Root only; run from the checkout;
# cleans up after itself. CI runs it (.ci/run); docs/hosts.md explains it.
#
#   scripts/hosts_smoke.sh            PYTHON=.venv/bin/python K2MATRIX=.venv/bin/k2matrix
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$PWD/.venv/bin/python}
K2MATRIX=${K2MATRIX:-$(dirname "$PYTHON")/k2matrix}
SEL=${K2_HOSTS_SELECTION:-"arrow_conversion or decimal_precision or (append and not s3) or producer-batch"}
RUN=${K2_HOSTS_RUN:-ci-hosts}
fail() { echo "hosts smoke FAILED: $*" >&2; scripts/hosts.sh down >/dev/null 2>&1; exit 1; }

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

scripts/hosts.sh down
