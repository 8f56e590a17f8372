#!/usr/bin/env bash
# Every document the code, plans, scripts and docs cite (docs/SOMETHING.md) is in the repository, and nothing cites a
# design document outside it (the repo stands alone: the design the code follows is docs/design.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SOURCES=(src orchestrator sim plans tests bench docs inventory README.md run CMakeLists.txt)
missing=0
while IFS= read -r cited; do
  if [ ! -f "$cited" ]; then echo "cited but missing: $cited ($(grep -rlF "$cited" "${SOURCES[@]}" | head -3 | tr '\n' ' '))"; missing=1; fi
done < <(grep -rhoE "docs/[A-Za-z0-9_-]+\.md" "${SOURCES[@]}" --exclude=cited_docs_exist.sh | sort -u)
# A citation of a design document that is not the repository's own.
if grep -rnE "(\.\./)+shared/|[^/]DESIGN\.md" "${SOURCES[@]}" --exclude=cited_docs_exist.sh; then
  echo "the lines above cite a design document outside the repository: cite docs/design.md"
  missing=1
fi
count=$(grep -rhoE "docs/[A-Za-z0-9_-]+\.md" "${SOURCES[@]}" --exclude=cited_docs_exist.sh | sort -u | wc -l)
[ "$count" -ge 5 ] || { echo "only $count cited documents found: the scan is broken"; exit 1; }
[ $missing -eq 0 ] && echo "every one of the $count cited documents is in docs/"
exit $missing
