#!/usr/bin/env bash
# bench/rto: the time to recover the lab with drctl, against a plain sequential OpenSSH script that runs the very
# same plan's commands in its order (one `ssh` per command, one `scp` per upload, as a wiki page of commands would),
# on the same lab and the same snapshot, measured in this run. For 3 and 5 members.
#
#   bench/rto.sh [--build DIR] [--members "3 5"]      (root; makes and removes the lab itself)
#
# Targets (issue 6): drctl at most 0.25x the script's time; 5 members within 1.2x of 3 members' time.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build
MEMBERS="3 5"
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --members) MEMBERS=$2; shift 2 ;;
    *) echo "rto: unknown option $1" >&2; exit 2 ;;
  esac
done
LAB=$ROOT/sim/lab/lab.sh
DRCTL=$BUILD/orchestrator/drctl
WORK=$(mktemp -d /tmp/etcd-dr-rto.XXXXXX)
trap '"$LAB" down >/dev/null 2>&1 || true' EXIT
# shellcheck source=../sim/lab/scenario.sh
. "$ROOT/sim/lab/scenario.sh"

# The plan as a sequential shell script: every step in plan order, each command through its own ssh.
write_sequential_script() {  # PLAN_JSON OUT
  local ssh_opts="-o BatchMode=yes -o UserKnownHostsFile=/run/etcd-dr-lab/known_hosts -i /run/etcd-dr-lab/id_ed25519"
  {
    echo "set -e"
    echo "export PATH=$BUILD/orchestrator:\$PATH"
    jq -r --arg ssh "ssh $ssh_opts" --arg scp "scp -q $ssh_opts" '
      .steps[] |
      (if .host == "controller" then
         (if .command != "" then "sh -c " + (.command | @sh) else empty end)
       else
         (if .upload then
            $ssh + " root@" + .host + " " + ("mkdir -p \"$(dirname " + (.upload.remote_path | @sh) + ")\"" | @sh),
            $scp + " " + (.upload.local_path | @sh) + " root@" + .host + ":" + (.upload.remote_path | @sh)
          else empty end),
         (if .command != "" then $ssh + " root@" + .host + " " + (.command | @sh) else empty end)
       end)' "$1"
  } > "$2"
}

declare -A DRCTL_S SCRIPT_S
for n in $MEMBERS; do
  HOSTS_N=$n
  echo "== $n members: lab, data, snapshot" >&2
  scenario_lab_up >&2
  scenario_load /bench/data/ 3000 7000 >&2
  scenario_snapshot "$WORK/snapshot-$n.db" >&2

  op "$DRCTL" plan -i "$INV" -s "$WORK/snapshot-$n.db" --run-id "script-$n" -o json > "$WORK/plan-$n.json"
  write_sequential_script "$WORK/plan-$n.json" "$WORK/sequential-$n.sh"

  echo "== $n members: sequential ssh script ($(jq ".steps | length" "$WORK/plan-$n.json") steps)" >&2
  scenario_reset_to_disaster
  t0=$(now)
  op bash "$WORK/sequential-$n.sh" > "$WORK/sequential-$n.log" 2>&1 || { echo "rto: the script failed, see $WORK/sequential-$n.log" >&2; exit 1; }
  SCRIPT_S[$n]=$(elapsed "$t0" "$(now)")

  echo "== $n members: drctl apply" >&2
  scenario_reset_to_disaster
  t0=$(now)
  op "$DRCTL" apply -i "$INV" -s "$WORK/snapshot-$n.db" --runs "$WORK/runs-$n" --yes > "$WORK/drctl-$n.log" 2>&1 || { echo "rto: drctl failed, see $WORK/drctl-$n.log" >&2; exit 1; }
  DRCTL_S[$n]=$(elapsed "$t0" "$(now)")
  "$LAB" down >&2
done

echo
echo "bench/rto: time to recover the lab (same lab, same snapshot, same plan; measured in this run)"
printf '%-8s %12s %14s %8s %8s\n' members "drctl (s)" "ssh script (s)" ratio target
for n in $MEMBERS; do
  printf '%-8s %12s %14s %8s %8s\n' "$n" "${DRCTL_S[$n]}" "${SCRIPT_S[$n]}" \
    "$(awk "BEGIN{printf \"%.3f\", ${DRCTL_S[$n]} / ${SCRIPT_S[$n]}}")" "<= 0.25"
done
set -- $MEMBERS
if [ $# -ge 2 ]; then
  printf 'drctl %s members / %s members: %s (target <= 1.2)\n' "$2" "$1" \
    "$(awk "BEGIN{printf \"%.3f\", ${DRCTL_S[$2]} / ${DRCTL_S[$1]}}")"
fi
echo "work dir: $WORK"
