#!/usr/bin/env bash
# scripts_pipefail_test.sh: no script that runs under `set -o pipefail` pipes
# into a reader that quits early (head, grep -q). Such a reader closes the pipe
# while the writer still has output; the writer dies of SIGPIPE, pipefail makes
# the pipeline fail with 141, and `set -e` ends the script, only when the
# writer's output is longer than one write (a longer checkout path was enough
# to fail CI in build_fuzz.sh). Read everything instead: sed -n 1p,
# grep >/dev/null.
source "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

case_ "the early-quitting reader is a real hazard (the failure this test guards)"
set +e
( set -o pipefail; seq 1 200000 | head -1 >/dev/null ); rc=$?
set -e
assert_eq 141 "$rc" "seq | head -1 under pipefail"

case_ "no pipefail script pipes into head or grep -q"
cd "$SRC"
bad=""
while IFS= read -r f; do
  [ "$f" != tests/integration/scripts_pipefail_test.sh ] || continue  # its own example
  grep -q 'pipefail' "$f" || continue
  hits=$(grep -nE '\|[[:space:]]*(head([[:space:]]|$)|grep[[:space:]]+(-[[:alpha:]]*q|--quiet|--silent))' "$f" || true)
  [ -z "$hits" ] || bad+="$f:"$'\n'"$hits"$'\n'
done < <({ git ls-files '*.sh' 'scripts/*' '.ci/*' 'packaging/*' 'examples/*' 2>/dev/null ||
           find . -name '*.sh' -o -path './scripts/*' -o -path './.ci/*'; } | sort -u)
[ -z "$bad" ] || die "pipes into a reader that quits early (use sed -n 1p, or grep >/dev/null):"$'\n'"$bad"
finish
