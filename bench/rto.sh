#!/usr/bin/env bash
# bench/rto: the time to recover the lab with drctl, against two OpenSSH scripts that run the very same plan's
# commands (built from `drctl plan -o json`), on the same lab and the same snapshot, measured in this run:
#   - a sequential script, as a wiki page of commands would be: one `ssh` per command, one `scp` per upload, in
#     plan order;
#   - a parallel script, the hand-written floor: the plan's phases one after another, the steps of a phase side by
#     side, every `ssh` and `scp` over a ControlMaster connection opened before the clock starts.
# Each time is the whole process (what `time drctl apply ... --yes` says); beside drctl's it prints drctl's own RTO,
# from the first service stopped to the recovery verified (report.json's rto).
#
#   bench/rto.sh [--build DIR] [--members "3 5"] [--envs "lab login"] [--login-rc FILE] [--runs K]
#                [--cpus-per-host C]
#                                                       (root; makes and removes the lab itself)
#
# Environments (--envs): `lab`, the lab's hosts as the game days use them, whose SSH commands skip root's login shell
# start-up; `login`, ordinary hosts (lab.sh up --login-env), where every command sshd runs, sftp-server included,
# first runs root's shell start-up files: this machine's, or FILE as root's ~/.bashrc with --login-rc (a start-up
# of known cost). The bench prints what one command's start-up costs in each.
# Targets: lab, drctl at most 0.25x the sequential script (issue 6), 5 members within 1.2x of 3 members' time;
# login, drctl at most 0.3x the sequential script and 0.8x the parallel ControlMaster script (issue 17).
# By default the lab's hosts share this machine's cores. With --cpus-per-host C each host's processes get a CPU
# budget of C cores of their own (a cgroup quota, lab.sh up --cpus-per-host), for every member count alike: the
# hosts then stop competing for the same cores, as separate machines would not, and the member counts compare the
# orchestration rather than the machine. drctl and the scripts (the operator's side) are not limited. C must leave
# room for them: 0.25 on 2 cores (5 hosts take 1.25 cores); at 0.3 the hosts and drctl fill both cores again during
# the upload (see docs/lab.md).
# With --runs K each is measured K times (rotating which goes first) and the medians are compared. Beside each
# time it prints the CPU the whole machine spent meanwhile: the lab's hosts share this machine's cores, so a run
# that keeps them busy takes as long as its CPU work divided by the cores.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=$ROOT/build
MEMBERS="3 5"
ENVS="lab login"
RUNS=1
CPUS_PER_HOST=""
LOGIN_RC_FILE=""
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --members) MEMBERS=$2; shift 2 ;;
    --envs) ENVS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --login-rc) LOGIN_RC_FILE=$(realpath "$2"); shift 2 ;;
    --cpus-per-host) CPUS_PER_HOST=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rto: unknown option $1" >&2; exit 2 ;;
  esac
done
for env in $ENVS; do
  case $env in lab|login) ;; *) echo "rto: unknown environment '$env' (lab or login)" >&2; exit 2 ;; esac
done
LAB=$ROOT/sim/lab/lab.sh
DRCTL=$BUILD/orchestrator/drctl
WORK=$(mktemp -d /tmp/etcd-dr-rto.XXXXXX)
CM_DIR=$(mktemp -d /tmp/etcd-dr-rto-cm.XXXXXX)  # short: a control socket's path must fit in 108 bytes
close_masters() {
  local socket
  for socket in "$CM_DIR"/*; do
    [ -S "$socket" ] && op ssh -o ControlPath="$socket" -O exit x >/dev/null 2>&1
  done
  return 0
}
trap 'close_masters; "$LAB" down >/dev/null 2>&1 || true; rm -rf "$CM_DIR"' EXIT
# shellcheck source=../sim/lab/scenario.sh
. "$ROOT/sim/lab/scenario.sh"

SSH_OPTS="-o BatchMode=yes -o UserKnownHostsFile=/run/etcd-dr-lab/known_hosts -i /run/etcd-dr-lab/id_ed25519"
CM_OPTS="-o ControlMaster=no -o ControlPath=$CM_DIR/%h"

# The plan's commands as shell lines, one step per line group: jq filter shared by both scripts. $ssh and $scp are
# the commands (with options) to reach a host.
STEP_LINES='
  def step_lines($ssh; $scp):
    if .host == "controller" then
      (if .command != "" then "sh -c " + (.command | @sh) else empty end)
    else
      (if .upload then
         $ssh + " root@" + .host + " " + ("mkdir -p \"$(dirname " + (.upload.remote_path | @sh) + ")\"" | @sh),
         $scp + " " + (.upload.local_path | @sh) + " root@" + .host + ":" + (.upload.remote_path | @sh)
       else empty end),
      (if .command != "" then $ssh + " root@" + .host + " " + (.command | @sh) else empty end)
    end;'

# The plan as a sequential shell script: every step in plan order, each command through its own ssh.
write_sequential_script() {  # PLAN_JSON OUT
  {
    echo "set -e"
    echo "export PATH=$BUILD/orchestrator:\$PATH"
    jq -r --arg ssh "ssh $SSH_OPTS" --arg scp "scp -q $SSH_OPTS" "$STEP_LINES"'
      .steps[] | step_lines($ssh; $scp)' "$1"
  } > "$2"
}

# The plan as a parallel script over ControlMaster connections: a step's phase is one more than the latest phase of
# the steps it needs; the phases run one after another, the steps of a phase at once (each step's own commands in
# order), and a failed step fails the script once its phase has ended.
write_parallel_script() {  # PLAN_JSON OUT
  {
    echo "set -e"
    echo "export PATH=$BUILD/orchestrator:\$PATH"
    jq -r --arg ssh "ssh $SSH_OPTS $CM_OPTS" --arg scp "scp -q $SSH_OPTS $CM_OPTS" "$STEP_LINES"'
      (reduce .steps[] as $s ({}; .[$s.id] = (([$s.needs[] as $n | .[$n]] | max // 0) + 1))) as $phase
      | [.steps[] | {phase: $phase[.id], lines: [step_lines($ssh; $scp)]}]
      | group_by(.phase)[]
      | "pids=()",
        (.[] | "{ " + (.lines | join(" && ")) + "; } >/dev/null & pids+=($!)"),
        "for p in \"${pids[@]}\"; do wait \"$p\"; done"' "$1"
  } > "$2"
}

# One ControlMaster per host, opened before a parallel run's clock starts (and closed after it).
open_masters() {  # PLAN_JSON
  local host
  for host in $(jq -r '[.steps[].host | select(. != "controller")] | unique[]' "$1"); do
    op ssh $SSH_OPTS -o ControlMaster=yes -o ControlPersist=600 -o ControlPath="$CM_DIR/%h" -N -f "root@$host"
  done
}

CORES=$(nproc)
# CPU time the whole machine has spent, in clock ticks (user, nice, system, irq, softirq; not idle, iowait, steal).
cpu_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
TICK=$(getconf CLK_TCK)
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# One timed recovery from the same disaster: "WALL CPU_SECONDS". BEFORE_CLOCK, when set, runs after the reset and
# before the clock starts.
timed() {  # LOG COMMAND...
  local log=$1; shift
  scenario_reset_to_disaster >&2
  [ -z "${BEFORE_CLOCK:-}" ] || $BEFORE_CLOCK >&2
  local c0 t0 t1 c1
  c0=$(cpu_ticks); t0=$(now)
  op "$@" > "$log" 2>&1 || { echo "rto: failed, see $log" >&2; exit 1; }
  t1=$(now); c1=$(cpu_ticks)
  echo "$(elapsed "$t0" "$t1") $(awk "BEGIN{printf \"%.2f\", ($c1 - $c0) / $TICK}")"
}

# What one command's shell start-up costs on the hosts: the median of 9 `ssh HOST true` over a ControlMaster (no
# connection set-up in the figure; what is left is sshd's session and the login shell).
command_cost() {  # PLAN_JSON
  local host times=() t0 t1
  host=$(jq -r '[.steps[].host | select(. != "controller")][0]' "$1")
  open_masters "$1"
  for _ in 1 2 3 4 5 6 7 8 9; do
    t0=$(now); op ssh $SSH_OPTS $CM_OPTS "root@$host" true; t1=$(now)
    times+=("$(elapsed "$t0" "$t1")")
  done
  close_masters
  printf '%s\n' "${times[@]}" | median
}

declare -A DRCTL_S DRCTL_CPU DRCTL_RTO SEQ_S SEQ_CPU PAR_S PAR_CPU COMMAND_S
for env in $ENVS; do
  LOGIN_ENV="" LOGIN_RC=""
  [ "$env" = login ] && LOGIN_ENV=1 LOGIN_RC=${LOGIN_RC_FILE:-}
  for n in $MEMBERS; do
    HOSTS_N=$n key="$env-$n"
    echo "== $env, $n members: lab, data, snapshot" >&2
    scenario_lab_up >&2
    scenario_load /bench/data/ 3000 7000 >&2
    scenario_snapshot "$WORK/snapshot-$n.db" >&2

    op "$DRCTL" plan -i "$INV" -s "$WORK/snapshot-$n.db" --run-id "script-$n" -o json > "$WORK/plan-$key.json"
    write_sequential_script "$WORK/plan-$key.json" "$WORK/sequential-$key.sh"
    write_parallel_script "$WORK/plan-$key.json" "$WORK/parallel-$key.sh"
    COMMAND_S[$key]=$(command_cost "$WORK/plan-$key.json")

    drctl_runs=() rto_runs=() seq_runs=() par_runs=()
    for ((k = 1; k <= RUNS; k++)); do
      case $((k % 3)) in 1) order="sequential drctl parallel" ;; 2) order="drctl parallel sequential" ;;
                         *) order="parallel sequential drctl" ;; esac
      for who in $order; do
        case $who in
          sequential)
            echo "== $env, $n members, run $k: sequential ssh script ($(jq ".steps | length" "$WORK/plan-$key.json") steps)" >&2
            r=$(timed "$WORK/sequential-$key-$k.log" bash "$WORK/sequential-$key.sh") || exit 1
            seq_runs+=("$r") ;;
          parallel)
            echo "== $env, $n members, run $k: parallel ssh script over ControlMaster connections" >&2
            r=$(BEFORE_CLOCK="open_masters $WORK/plan-$key.json" timed "$WORK/parallel-$key-$k.log" \
                  bash "$WORK/parallel-$key.sh") || exit 1
            close_masters
            par_runs+=("$r") ;;
          drctl)
            echo "== $env, $n members, run $k: drctl apply" >&2
            r=$(timed "$WORK/drctl-$key-$k.log" "$DRCTL" apply -i "$INV" -s "$WORK/snapshot-$n.db" \
                  --runs "$WORK/runs-$key" --report "$WORK/report-$key-$k" --yes) || exit 1
            drctl_runs+=("$r")
            rto_runs+=("$(jq -r '.rto.ms / 1000' "$WORK/report-$key-$k/report.json")") ;;
        esac
      done
    done
    DRCTL_S[$key]=$(printf '%s\n' "${drctl_runs[@]}" | cut -d' ' -f1 | median)
    DRCTL_CPU[$key]=$(printf '%s\n' "${drctl_runs[@]}" | cut -d' ' -f2 | median)
    DRCTL_RTO[$key]=$(printf '%s\n' "${rto_runs[@]}" | median)
    SEQ_S[$key]=$(printf '%s\n' "${seq_runs[@]}" | cut -d' ' -f1 | median)
    SEQ_CPU[$key]=$(printf '%s\n' "${seq_runs[@]}" | cut -d' ' -f2 | median)
    PAR_S[$key]=$(printf '%s\n' "${par_runs[@]}" | cut -d' ' -f1 | median)
    PAR_CPU[$key]=$(printf '%s\n' "${par_runs[@]}" | cut -d' ' -f2 | median)
    echo "   (wall s, CPU s) drctl: ${drctl_runs[*]}; RTO: ${rto_runs[*]}; sequential: ${seq_runs[*]}; parallel: ${par_runs[*]}" >&2
    "$LAB" down >&2
  done
done

ratio() { awk "BEGIN{printf \"%.3f\", $1 / $2}"; }
echo
echo "bench/rto: time to recover the lab (same lab, same snapshot, same plan; measured in this run; median of $RUNS)"
echo "whole-process wall seconds, and in brackets the CPU seconds the whole machine ($CORES cores) spent meanwhile;"
echo "RTO: drctl's first service stopped to recovery verified; command: one ssh HOST true over an open connection"
if [ -n "$CPUS_PER_HOST" ]; then
  echo "hosts: each with a CPU budget of its own, $CPUS_PER_HOST cores (a cgroup quota); drctl and the scripts unlimited"
else
  echo "hosts: all sharing this machine's $CORES cores (no budget; --cpus-per-host C gives each host its own)"
fi
printf '%-6s %-7s %8s %15s %6s %16s %16s %11s %9s %9s\n' env members command drctl RTO sequential "parallel (CM)" \
  "drctl/seq" target "drctl/par"
for env in $ENVS; do
  for n in $MEMBERS; do
    key="$env-$n"
    target="<= 0.25" par_target=""
    [ "$env" = login ] && target="<= 0.3" par_target=" (<= 0.8)"
    printf '%-6s %-7s %8s %15s %6s %16s %16s %11s %9s %9s\n' "$env" "$n" "${COMMAND_S[$key]}" \
      "${DRCTL_S[$key]} (${DRCTL_CPU[$key]})" "${DRCTL_RTO[$key]}" "${SEQ_S[$key]} (${SEQ_CPU[$key]})" \
      "${PAR_S[$key]} (${PAR_CPU[$key]})" "$(ratio "${DRCTL_S[$key]}" "${SEQ_S[$key]}")" "$target" \
      "$(ratio "${DRCTL_S[$key]}" "${PAR_S[$key]}")$par_target"
  done
  set -- $MEMBERS
  if [ $# -ge 2 ]; then
    printf '%s: drctl %s members / %s members: %s in time (target <= 1.2), %s in CPU spent\n' "$env" "$2" "$1" \
      "$(ratio "${DRCTL_S[$env-$2]}" "${DRCTL_S[$env-$1]}")" "$(ratio "${DRCTL_CPU[$env-$2]}" "${DRCTL_CPU[$env-$1]}")"
  fi
done
if [ -z "$CPUS_PER_HOST" ] && [ "$(set -- $MEMBERS; echo $#)" -ge 2 ]; then
  echo "(every member's etcd, etcdctl and sshd run on these same $CORES cores: where drctl keeps them near 100% busy,"
  echo " more members cannot take less time than their CPU work divided by the cores)"
fi
echo "work dir: $WORK"
