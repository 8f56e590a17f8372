#!/usr/bin/env bash
# The interim demo (./run demo BUILD_DIR): makes a REAL small etcd snapshot with a throwaway etcd on loopback,
# validates the lab inventory, prints the text plan and renders the DAG to SVG. Nothing outside a temp dir is
# touched; the throwaway etcd is stopped and the temp dir removed on any exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:?usage: sim/demo.sh BUILD_DIR}" && pwd)
DRCTL=$BUILD/orchestrator/drctl
INVENTORY=$ROOT/inventory/lab-3.yaml
OUT=${DEMO_OUT:-$BUILD/demo}

die() { echo "demo: $*" >&2; exit 1; }
for tool in etcd etcdctl dot python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed (./run setup installs it)"
done
[ -x "$DRCTL" ] || die "$DRCTL is missing: build first (./run build)"
[ -f "$INVENTORY" ] || die "$INVENTORY is missing"

WORK=$(mktemp -d /tmp/etcd-dr-demo.XXXXXX)
ETCD_PID=
cleanup() {
  if [ -n "$ETCD_PID" ]; then kill "$ETCD_PID" 2>/dev/null || true; wait "$ETCD_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Two free loopback ports, chosen by the kernel.
read -r CLIENT_PORT PEER_PORT < <(python3 -c '
import socket
s1, s2 = socket.socket(), socket.socket()
s1.bind(("127.0.0.1", 0)); s2.bind(("127.0.0.1", 0))
print(s1.getsockname()[1], s2.getsockname()[1])')
ENDPOINT=http://127.0.0.1:$CLIENT_PORT

echo "==> starting a throwaway etcd on $ENDPOINT (data in $WORK)"
etcd --name demo --data-dir "$WORK/etcd" \
  --listen-client-urls "$ENDPOINT" --advertise-client-urls "$ENDPOINT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "demo=http://127.0.0.1:$PEER_PORT" >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
export ETCDCTL_API=3
for _ in $(seq 1 100); do
  etcdctl --endpoints "$ENDPOINT" endpoint health >/dev/null 2>&1 && break
  kill -0 "$ETCD_PID" 2>/dev/null || { cat "$WORK/etcd.log" >&2; die "etcd exited during start-up"; }
  sleep 0.1
done
etcdctl --endpoints "$ENDPOINT" endpoint health >/dev/null 2>&1 || die "etcd did not become healthy (log: $WORK/etcd.log)"

echo "==> writing 300 keys"
# One etcdctl process per key, four at a time: simple, and well under the demo's time budget.
seq 1 300 | xargs -P 4 -I{} etcdctl --endpoints "$ENDPOINT" put "/registry/demo/key-{}" "value-{}" >/dev/null

SNAPSHOT=$WORK/snapshot.db
etcdctl --endpoints "$ENDPOINT" snapshot save "$SNAPSHOT" >"$WORK/save.log" 2>&1 || { cat "$WORK/save.log" >&2; die "etcdctl snapshot save failed"; }
kill "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true; ETCD_PID=
echo "==> snapshot saved: $SNAPSHOT ($(stat -c %s "$SNAPSHOT") bytes), etcd stopped"

echo "==> drctl validate -i inventory/lab-3.yaml"
"$DRCTL" validate -i "$INVENTORY"

echo "==> drctl plan -i inventory/lab-3.yaml -s snapshot.db -o text"
"$DRCTL" plan -i "$INVENTORY" -s "$SNAPSHOT" --run-id demo -o text

mkdir -p "$OUT"
"$DRCTL" plan -i "$INVENTORY" -s "$SNAPSHOT" --run-id demo -o dot >"$OUT/plan.dot"
dot -Tsvg "$OUT/plan.dot" >"$OUT/plan.svg"
"$DRCTL" plan -i "$INVENTORY" -s "$SNAPSHOT" --run-id demo -o json >"$OUT/plan.json"
echo
echo "==> the DAG, one cluster per host: $OUT/plan.svg  (also $OUT/plan.dot and $OUT/plan.json)"
