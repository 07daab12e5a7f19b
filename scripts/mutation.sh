#!/usr/bin/env bash
# Mutation testing of results/estimate.py and design/ with cosmic-ray (pip install -e '.[mutation]').
# Usage: [MUTATION_SAMPLE=N [MUTATION_SEED=S]] bash scripts/mutation.sh [CONFIG.toml] [MODULE ...]
#   CONFIG defaults to scripts/mutation.toml; MODULEs (paths under src/) replace its module-path;
#   MUTATION_SAMPLE runs a random sample of N of the mutants (seed S, default 25), the others skipped.
# The committed and uncommitted tracked files are copied to a temporary folder, and cosmic-ray mutates
# that copy, so the working tree is never touched. The session (every mutant and its outcome) is kept
# in $MUTATION_OUT (default .mutation/); prints the kill rate and every surviving mutant.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="$(realpath "${1:-$ROOT/scripts/mutation.toml}")"
shift || true
PY="$ROOT/.venv/bin/python"
WORK="$(mktemp -d -t labsim-mutation.XXXXXX)"
OUT="$(realpath -m "${MUTATION_OUT:-$ROOT/.mutation}")"
mkdir -p "$OUT"
SESSION="$OUT/session.sqlite"
rm -f "$SESSION"
trap 'rm -rf "$WORK"' EXIT
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp -a --parents -t "$WORK/")
cd "$WORK"
if [ "$#" -gt 0 ]; then  # replace the config's module-path with the modules given
    "$PY" - "$CONFIG" "$@" >mutation.toml <<'PYEOF'
import sys, json, re
text = open(sys.argv[1]).read()
paths = json.dumps(sys.argv[2:])
print(re.sub(r"^module-path = .*$", f"module-path = {paths}", text, flags=re.M))
PYEOF
    CONFIG="$WORK/mutation.toml"
fi
export PATH="$ROOT/.venv/bin:$PATH" PYTHONPATH="$WORK/src"  # the copy's labsim, not the working tree's
cosmic-ray init "$CONFIG" "$SESSION"
cr-filter-operators "$SESSION" "$CONFIG"
if [ -n "${MUTATION_SAMPLE:-}" ]; then  # run a random sample of the mutants left (seeded), the rest skipped
    "$PY" - "$SESSION" "$MUTATION_SAMPLE" "${MUTATION_SEED:-25}" <<'PYEOF'
import random, sqlite3, sys
db, n, seed = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
left = sorted(r[0] for r in db.execute(
    "select job_id from work_items where job_id not in (select job_id from work_results)"))
keep = set(random.Random(seed).sample(left, min(n, len(left))))
db.executemany("insert into work_results (worker_outcome, output, test_outcome, diff, job_id) "
               "values ('SKIPPED', 'not in the sample', NULL, '', ?)", [(j,) for j in left if j not in keep])
db.commit()
print(f"sample: {len(keep)} of {len(left)} mutants (seed {seed})")
PYEOF
fi
cosmic-ray baseline "$CONFIG"
cosmic-ray exec "$CONFIG" "$SESSION"
cr-report "$SESSION" --show-pending | tee "$OUT/report.txt"
cr-rate "$SESSION"
