#!/usr/bin/env bash
# Side-by-side comparison (a benchmark, never a test): ssot against the tools an
# operator would otherwise use, on this machine, as ratios.
#
#   benches/compare.sh            # full: pg_wal of 256 / 2k / 20k segments, a 1M-artifact catalog
#   benches/compare.sh --quick    # CI smoke: 256 segments, 10k artifacts, few runs
#
# 1. pg_wal scan: a directory of N sparse 16 MiB segments plus archive_status
#    (one .ready per 50 segments), measured in one hyperfine run:
#    `ssot wal check` vs `du -sb` vs `find -printf '%s\n' | awk` vs a Python
#    os.scandir sum. The four must agree on the byte count before they are timed.
# 2. Retention: `ssot retention plan --format json` on a catalog of N
#    artifacts in 50 groups (keep_last 5, keep_daily 7, keep_weekly 4,
#    keep_monthly 12, min_verified 1) vs benches/plan_python.py, the same
#    rules in plain Python writing the same plan; both must keep the same
#    artifacts. Time (hyperfine) and peak RSS of each.
#
# Needs hyperfine (apt-get install hyperfine) and python3. Results of the full
# run are recorded in benches/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

segments=(256 2048 20000)
artifacts=1000000
runs=10
if [ "${1:-}" = "--quick" ]; then
  segments=(256)
  artifacts=10000
  runs=3
fi
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }

cargo build -q --release
ssot="$root/target/release/ssot"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
now="2026-01-01T00:00:00Z"

ratio() { # hyperfine JSON → one line per command: mean, and mean / the first command's
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["mean"]
for x in r:
    print(f"  {x['command']:<12} {x['mean']*1000:9.1f} ms ± {x['stddev']*1000:6.1f}   {x['mean']/base:5.2f}× {r[0]['command']}")
PY
}

peak_rss() { # runs a command, prints its peak RSS in MiB (stdout of the command discarded)
  python3 - "$@" <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f}")
PY
}

echo "machine: $(nproc) CPU(s), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "ssot $("$ssot" --version | awk '{print $2}'), $(hyperfine --version), $(python3 --version)"

# 1. pg_wal scans
cat >"$tmp/findawk.sh" <<'SH'
find "$1" -maxdepth 1 -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}'
SH
cat >"$tmp/scandir.py" <<'PY'
import os, sys
print(sum(e.stat().st_size for e in os.scandir(sys.argv[1]) if not e.name.startswith(".") and e.is_file()))
PY
for n in "${segments[@]}"; do
  pgdata="$tmp/wal$n/pgdata"
  mkdir -p "$pgdata/pg_wal/archive_status"
  echo 15 >"$pgdata/PG_VERSION"
  python3 - "$pgdata/pg_wal" "$n" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    name = "%08X%08X%08X" % (1, i // 256, i % 256)
    with open(os.path.join(d, name), "wb") as f:
        f.truncate(16 << 20)
    if i % 50 == 0:
        open(os.path.join(d, "archive_status", name + ".ready"), "w").close()
PY
  wal="$pgdata/pg_wal"
  state="$tmp/state$n"
  # Each tool's byte count for pg_wal's files (du counts the directories too:
  # it is timed as the operator's usual check, not compared by bytes).
  s=$("$ssot" --state "$state" --now "$now" wal check --pgdata "$pgdata" --format json || [ $? -le 2 ])
  s_bytes=$(printf '%s' "$s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["wal_size"])')
  f_bytes=$(sh "$tmp/findawk.sh" "$wal")
  p_bytes=$(python3 "$tmp/scandir.py" "$wal")
  [ "$s_bytes" = "$f_bytes" ] && [ "$s_bytes" = "$p_bytes" ] || {
    echo "pg_wal of $n: ssot $s_bytes, find $f_bytes, python $p_bytes bytes: they disagree" >&2
    exit 1
  }
  echo
  echo "pg_wal of $n segments ($s_bytes bytes), mean of $runs runs:"
  # ssot exits 2 here (pg_wal far beyond the default soft limit): a verdict, so -i.
  hyperfine -N -i --warmup 2 --runs "$runs" --export-json "$tmp/wal$n.json" --style none \
    -n "ssot" "$ssot --state $state --now $now wal check --pgdata $pgdata" \
    -n "du -sb" "du -sb $wal" \
    -n "find|awk" "sh $tmp/findawk.sh $wal" \
    -n "python" "python3 $tmp/scandir.py $wal" >/dev/null
  ratio "$tmp/wal$n.json"
done

# 2. retention plan
echo
catalog="$tmp/catalog.json"
python3 benches/gen_catalog.py "$artifacts" 50 "$catalog"
flags="--keep-last 5 --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --min-verified 1"
cli=("$ssot" --state "$tmp/rstate" --now "$now" retention plan --catalog "$catalog" $flags --format json)
py=(python3 benches/plan_python.py "$catalog" "$now" 5 0 7 4 12 0 1)
"${cli[@]}" >"$tmp/cli.json" || [ $? -le 1 ]
"${py[@]}" >"$tmp/py.json"
python3 - "$tmp/cli.json" "$tmp/py.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
ka, kb = ({x["id"] for x in p["keep"]} for p in (a, b))
if ka != kb or len(a["delete"]) != len(b["delete"]):
    sys.exit(f"ssot and Python keep different artifacts ({len(ka)} vs {len(kb)})")
print(f"retention plan of {len(ka) + len(a['delete'])} artifacts in 50 groups: both keep the same {len(ka)}")
PY
hyperfine -N -i --warmup 1 --runs "$((runs < 5 ? runs : 5))" --export-json "$tmp/plan.json" --style none \
  -n "ssot" "${cli[*]}" -n "python" "${py[*]}" >/dev/null
ratio "$tmp/plan.json"
echo "  peak RSS: ssot $(peak_rss "${cli[@]}") MiB, python $(peak_rss "${py[@]}") MiB"
