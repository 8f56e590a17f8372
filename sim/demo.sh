#!/usr/bin/env bash
# ./run demo BUILD_DIR: the main job on an embedded default: a real recovery of a local lab cluster.
# Three hosts on this machine (network and mount namespaces, each with sshd, etcd 3.4 and an API-server stand-in),
# 3,000 keys of data, a snapshot taken with drctl, the disaster (every member's data destroyed), a dry-run that
# must change nothing, the real recovery over SSH, end-to-end checks, the report, and the lab removed again.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:?usage: sim/demo.sh BUILD_DIR}" && pwd)
die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root: the lab creates network namespaces, mounts and daemons (run: sudo ./run demo)"
ip netns add drlab-demo-probe 2>/dev/null || die "this machine cannot create network namespaces (ip netns add failed); the lab needs them"
ip netns del drlab-demo-probe
unshare --mount --propagation private true 2>/dev/null || die "this machine cannot create mount namespaces (unshare --mount failed)"
[ -x "$BUILD/orchestrator/drctl" ] || die "$BUILD/orchestrator/drctl is missing: ./run build"

WORK=$(mktemp -d /tmp/etcd-dr-demo.XXXXXX)
"$ROOT/sim/lab/gameday.sh" --hosts 3 --build "$BUILD" --work "$WORK"

echo
echo "================ the run's report ($WORK/report/report.md) ================"
sed -n '1,/^## What was verified/p' "$WORK/report/report.md" | head -n -1
echo "Also: $WORK/report/junit.xml (one test case per step), report.json, timeline.svg; the run's journal and"
echo "per-step logs in $WORK/runs/. Replay it yourself: sim/lab/lab.sh up, then drctl plan / apply (docs/lab.md)."
