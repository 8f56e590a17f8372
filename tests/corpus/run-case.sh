#!/usr/bin/env bash
# Runs one case of the hostile-input corpus against the real drctl (see tests/corpus/README.md):
#   tests/corpus/run-case.sh DRCTL CASE_DIR
# The case runs in a fresh temp dir holding common/ and the case's own files, after its optional `setup`;
# its exit code must be `exit`, every line of `expect` must appear in its output, and no `!`-line may.
set -euo pipefail

drctl=$(realpath "$1")
case_dir=$2
corpus=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$case_dir")

work=$(mktemp -d /tmp/dr-corpus-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -a "$corpus/common/." "$work/"
cp -a "$case_dir/." "$work/"
cd "$work"
# Git keeps no modes beyond +x: make the runs directory as drctl makes it.
[ -d runs ] && chmod -R go-rwx runs
[ -f setup ] && DRCTL=$drctl bash ./setup >setup.out 2>&1

args=$(<cmd)
want_exit=$(<exit)
set +e
# A case that hangs (a FIFO read, /dev/zero read to the end) is a failure, not a stuck CI.
eval "timeout --kill-after=5 30 \"\$drctl\" $args" >output 2>&1
got_exit=$?
set -e

failed=0
if [ "$got_exit" = 124 ] || [ "$got_exit" = 137 ]; then
  echo "$name: drctl did not finish within 30 s (hung on its input?)"
  failed=1
elif [ "$got_exit" != "$want_exit" ]; then
  echo "$name: exit $got_exit, expected $want_exit"
  failed=1
fi
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    '' | '#'*) continue ;;
    '!'*)
      if grep -qF -- "${line:1}" output; then
        echo "$name: output contains what it must not: ${line:1}"
        failed=1
      fi
      ;;
    *)
      if ! grep -qF -- "$line" output; then
        echo "$name: output lacks: $line"
        failed=1
      fi
      ;;
  esac
done <expect
if [ "$failed" != 0 ]; then
  echo "--- drctl $args (exit $got_exit) said:"
  cat output
  exit 1
fi
echo "$name: ok (exit $got_exit)"
if [ -n "${DR_CORPUS_SHOW:-}" ]; then cat output; fi
