#!/usr/bin/env bash
# The lab's own contract (issue 6, item 1): up, down, up again leaves nothing behind (no namespaces, mounts,
# processes, directories or cgroups), down twice is harmless, bad options change nothing, and --cpus-per-host puts
# every process of a host in a CPU cgroup of its own whose quota holds.
#
#   labcycle.sh [--build DIR]
#
# Each check prints PASS or FAIL; exit 0 only when every check passed. Needs root (CTest: lab_up_down_up).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$ROOT/build
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "labcycle: unknown option $1" >&2; exit 2 ;;
  esac
done
LAB="$HERE/lab.sh"
WORK=$(mktemp -d /tmp/etcd-dr-cycle.XXXXXX)
HOSTS_N=2
# shellcheck source=scenario.sh
. "$HERE/scenario.sh"
trap '"$LAB" down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

CG_V1=/sys/fs/cgroup/cpu
# The cgroup path of PID in the cpu controller's hierarchy ("/" when in none of the lab's).
cpu_cgroup_of() { awk -F: '$2 == "cpu" || $2 == "cpu,cpuacct" || ($1 == "0" && $2 == "") {print $3; exit}' "/proc/$1/cgroup"; }
# Processes that are not zombies and whose command line or mounts name the lab's directories (the pattern's [b]
# keeps the grep from matching its own command line).
lab_processes() {
  local p stat out=""
  for p in /proc/[0-9]*; do
    stat=$(cat "$p/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    [ "${stat%% *}" = Z ] && continue
    if tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q '/run/etcd-dr-la[b]' ||
       grep -q '/run/etcd-dr-la[b]' "$p/mountinfo" 2>/dev/null; then
      out+=" ${p#/proc/}($(cat "$p/comm" 2>/dev/null))"
    fi
  done
  echo "${out# }"
}
# Everything the lab could leave behind, one line each; empty when nothing is left.
leftovers() {
  ip netns list 2>/dev/null | awk '{print "netns " $1}' | grep ' drlab-' || true
  local procs; procs=$(lab_processes); [ -z "$procs" ] || echo "processes $procs"
  for d in /run/etcd-dr-lab /run/etcd-dr-lab-hosts /sys/fs/cgroup/cpu/drlab /sys/fs/cgroup/drlab; do
    [ ! -e "$d" ] || echo "path $d"
  done
  grep -h 'etcd-dr-lab\|/run/netns/drlab' /proc/self/mountinfo | sed 's/^/mount /' || true
}
nothing_left() { local l; l=$(leftovers); [ -z "$l" ] || { echo "left behind:"; echo "$l"; return 1; }; }

step "from a clean machine"
"$LAB" down
check "nothing of an earlier lab is left" nothing_left

step "bad options are refused before anything is made"
for bad in "--cpus-per-host abc" "--cpus-per-host 0" "--hosts 0" "--hosts 12" "--frobnicate 1"; do
  # shellcheck disable=SC2086
  if out=$("$LAB" up $bad --build "$BUILD" 2>&1); then failc "lab.sh up $bad was accepted"; else
    echo "$out"
    check "lab.sh up $bad: refused, and nothing was made" nothing_left
  fi
done

if [ -f "$CG_V1/cpu.cfs_quota_us" ] || grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
  step "up: $HOSTS_N hosts, each with a CPU budget of 0.25 cores"
  CPUS_PER_HOST=0.25 scenario_lab_up
  CG=""  # v1 or v2, whichever lab.sh made
  for d in /sys/fs/cgroup/cpu/drlab /sys/fs/cgroup/drlab; do [ -d "$d" ] && CG=$d && break; done
  check "the lab made its CPU cgroups (${CG:-none})" test -n "$CG"
  throttled() { awk '/^nr_throttled/{print $2}' "$CG/lab-1/cpu.stat"; }
  for h in $(hosts); do
    if [ -f "$CG/$h/cpu.cfs_quota_us" ]; then quota="$(cat "$CG/$h/cpu.cfs_quota_us") $(cat "$CG/$h/cpu.cfs_period_us")"
    else quota=$(cat "$CG/$h/cpu.max"); fi
    check "$h's cgroup has a quota of 0.25 cores (quota period: $quota)" test "$quota" = "2500 10000"
    sshd=$(cat "/run/etcd-dr-lab-hosts/$h/sshd.pid")
    check "$h's sshd is in its cgroup ($(cpu_cgroup_of "$sshd"))" test "$(cpu_cgroup_of "$sshd")" = "/drlab/$h"
    etcd=$(on "$h" cat /run/etcd-dr-lab/etcd.pid)
    check "$h's etcd is in its cgroup ($(cpu_cgroup_of "$etcd"))" test "$(cpu_cgroup_of "$etcd")" = "/drlab/$h"
    over_ssh=$(op ssh -o BatchMode=yes -o UserKnownHostsFile=/run/etcd-dr-lab/known_hosts -i /run/etcd-dr-lab/id_ed25519 \
                 "root@$(addr "$h")" 'cat /proc/self/cgroup')
    check "a command that arrives over SSH runs in $h's cgroup" grep -q ":/drlab/$h\$" <<<"$over_ssh"
  done
  # The quota holds: a second of busy looping on lab-1 is throttled, and gets about a quarter of a core.
  before=$(throttled)
  used=$(on lab-1 bash -c 'TIMEFORMAT=%U; { time timeout 1 bash -c "while :; do :; done"; } 2>&1 | tail -1')
  after=$(throttled)
  check "a busy loop on lab-1 was throttled ($before -> $after periods) and ran ${used}s in 1 s (<= 0.4)" \
    awk -v a="$after" -v b="$before" -v u="$used" 'BEGIN{exit !(a > b && u <= 0.4)}'
  step "down"
  "$LAB" down
  check "nothing is left: no namespace, process, mount, directory or cgroup" nothing_left
else
  echo "SKIP  --cpus-per-host: this machine has no cgroup cpu controller (lab.sh up must refuse it)"
  if "$LAB" up --hosts 1 --cpus-per-host 0.25 --build "$BUILD" 2>"$WORK/refused"; then failc "accepted without cgroups"; else
    check "lab.sh up --cpus-per-host is refused with a reason" grep -q "cgroup cpu controller" "$WORK/refused"
    "$LAB" down >/dev/null 2>&1 || true
  fi
fi

step "up again: $HOSTS_N hosts, no budget"
scenario_lab_up
check "the cluster answers" ectl --endpoints="$(endpoints)" endpoint health
check "no CPU cgroup was made" test ! -e /sys/fs/cgroup/cpu/drlab -a ! -e /sys/fs/cgroup/drlab
sshd=$(cat "/run/etcd-dr-lab-hosts/lab-1/sshd.pid")
check "lab-1's sshd is in no lab cgroup ($(cpu_cgroup_of "$sshd"))" test "$(cpu_cgroup_of "$sshd")" != /drlab/lab-1
step "down, and down again"
"$LAB" down
check "nothing is left after the second up and down" nothing_left
check "a second down succeeds and changes nothing" "$LAB" down
check "still nothing left" nothing_left

printf '\nlab cycle: %s\n' "$([ $FAILURES -eq 0 ] && echo 'every check passed' || echo "$FAILURES checks FAILED")"
[ $FAILURES -eq 0 ]
