#!/usr/bin/env bash
# bench/rto: the time to recover the lab with drctl, against a plain sequential OpenSSH script that runs the very
# same plan's commands in its order (one `ssh` per command, one `scp` per upload, as a wiki page of commands would),
# on the same lab and the same snapshot, measured in this run. For 3 and 5 members.
#
#   bench/rto.sh [--build DIR] [--members "3 5"] [--runs K] [--cpus-per-host C]
#                                                       (root; makes and removes the lab itself)
#
# Targets (issue 6): drctl at most 0.25x the script's time; 5 members within 1.2x of 3 members' time.
# By default the lab's hosts share this machine's cores. With --cpus-per-host C each host's processes get a CPU
# budget of C cores of their own (a cgroup quota, lab.sh up --cpus-per-host), for every member count alike: the
# hosts then stop competing for the same cores, as separate machines would not, and the member counts compare the
# orchestration rather than the machine. drctl and the script (the operator's side) are not limited. C must leave
# room for them: 0.25 on 2 cores (5 hosts take 1.25 cores); at 0.3 the hosts and drctl fill both cores again during
# the upload (see docs/lab.md).
# With --runs K each is measured K times (alternating which goes first) and the medians are compared. Beside each
# time it prints the CPU the whole machine spent meanwhile and how busy that kept its cores: the lab's hosts share
# this machine's cores, so a run that keeps them ~100% busy takes as long as its CPU work divided by the cores.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build
MEMBERS="3 5"
RUNS=1
CPUS_PER_HOST=""
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --members) MEMBERS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --cpus-per-host) CPUS_PER_HOST=$2; shift 2 ;;
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

CORES=$(nproc)
# CPU time the whole machine has spent, in clock ticks (user, nice, system, irq, softirq; not idle, iowait, steal).
cpu_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
TICK=$(getconf CLK_TCK)
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# One timed recovery from the same disaster: "WALL CPU_SECONDS".
timed() {  # LOG COMMAND...
  local log=$1; shift
  scenario_reset_to_disaster >&2
  local c0 t0 t1 c1
  c0=$(cpu_ticks); t0=$(now)
  op "$@" > "$log" 2>&1 || { echo "rto: failed, see $log" >&2; exit 1; }
  t1=$(now); c1=$(cpu_ticks)
  echo "$(elapsed "$t0" "$t1") $(awk "BEGIN{printf \"%.2f\", ($c1 - $c0) / $TICK}")"
}

declare -A DRCTL_S SCRIPT_S DRCTL_CPU SCRIPT_CPU
for n in $MEMBERS; do
  HOSTS_N=$n
  echo "== $n members: lab, data, snapshot" >&2
  scenario_lab_up >&2
  scenario_load /bench/data/ 3000 7000 >&2
  scenario_snapshot "$WORK/snapshot-$n.db" >&2

  op "$DRCTL" plan -i "$INV" -s "$WORK/snapshot-$n.db" --run-id "script-$n" -o json > "$WORK/plan-$n.json"
  write_sequential_script "$WORK/plan-$n.json" "$WORK/sequential-$n.sh"

  drctl_runs=() script_runs=()
  for ((k = 1; k <= RUNS; k++)); do
    order="script drctl"
    [ $((k % 2)) -eq 0 ] && order="drctl script"
    for who in $order; do
      if [ "$who" = script ]; then
        echo "== $n members, run $k: sequential ssh script ($(jq ".steps | length" "$WORK/plan-$n.json") steps)" >&2
        r=$(timed "$WORK/sequential-$n-$k.log" bash "$WORK/sequential-$n.sh") || exit 1
        script_runs+=("$r")
      else
        echo "== $n members, run $k: drctl apply" >&2
        r=$(timed "$WORK/drctl-$n-$k.log" "$DRCTL" apply -i "$INV" -s "$WORK/snapshot-$n.db" --runs "$WORK/runs-$n" \
              --yes) || exit 1
        drctl_runs+=("$r")
      fi
    done
  done
  DRCTL_S[$n]=$(printf '%s\n' "${drctl_runs[@]}" | cut -d' ' -f1 | median)
  DRCTL_CPU[$n]=$(printf '%s\n' "${drctl_runs[@]}" | cut -d' ' -f2 | median)
  SCRIPT_S[$n]=$(printf '%s\n' "${script_runs[@]}" | cut -d' ' -f1 | median)
  SCRIPT_CPU[$n]=$(printf '%s\n' "${script_runs[@]}" | cut -d' ' -f2 | median)
  echo "   drctl runs (wall s, CPU s): ${drctl_runs[*]}; script runs: ${script_runs[*]}" >&2
  "$LAB" down >&2
done

busy() { awk "BEGIN{printf \"%.0f%%\", 100 * $2 / ($1 * $CORES)}"; }
echo
echo "bench/rto: time to recover the lab (same lab, same snapshot, same plan; measured in this run; median of $RUNS)"
echo "CPU: what the whole machine spent meanwhile ($CORES cores; busy = CPU / (time x cores))"
if [ -n "$CPUS_PER_HOST" ]; then
  echo "hosts: each with a CPU budget of its own, $CPUS_PER_HOST cores (a cgroup quota); drctl and the script unlimited"
else
  echo "hosts: all sharing this machine's $CORES cores (no budget; --cpus-per-host C gives each host its own)"
fi
printf '%-8s %10s %9s %6s %16s %9s %6s %8s %8s\n' members "drctl (s)" "CPU (s)" busy "ssh script (s)" "CPU (s)" busy ratio target
for n in $MEMBERS; do
  printf '%-8s %10s %9s %6s %16s %9s %6s %8s %8s\n' "$n" "${DRCTL_S[$n]}" "${DRCTL_CPU[$n]}" \
    "$(busy "${DRCTL_S[$n]}" "${DRCTL_CPU[$n]}")" "${SCRIPT_S[$n]}" "${SCRIPT_CPU[$n]}" \
    "$(busy "${SCRIPT_S[$n]}" "${SCRIPT_CPU[$n]}")" \
    "$(awk "BEGIN{printf \"%.3f\", ${DRCTL_S[$n]} / ${SCRIPT_S[$n]}}")" "<= 0.25"
done
set -- $MEMBERS
if [ $# -ge 2 ]; then
  printf 'drctl %s members / %s members: %s in time (target <= 1.2), %s in CPU spent\n' "$2" "$1" \
    "$(awk "BEGIN{printf \"%.3f\", ${DRCTL_S[$2]} / ${DRCTL_S[$1]}}")" \
    "$(awk "BEGIN{printf \"%.3f\", ${DRCTL_CPU[$2]} / ${DRCTL_CPU[$1]}}")"
  if [ -z "$CPUS_PER_HOST" ]; then
    echo "(every member's etcd, etcdctl and sshd run on these same $CORES cores: where drctl keeps them near 100% busy,"
    echo " more members cannot take less time than their CPU work divided by the cores)"
  fi
fi
echo "work dir: $WORK"
