#!/usr/bin/env bash
# A replace-member game day: one member of a serving cluster dies with its data, and is replaced while the others
# keep serving writes, on the lab (sim/lab/lab.sh), over real SSH, checked end to end.
#
#   gameday-replace.sh [--hosts N] [--member NAME]... [--build DIR] [--work DIR] [--keep] [--max-refusal-ms MS]
#                      [--crash-after K]
#
# lab up -> load data -> the failure (each NAME's etcd killed, its data dir wiped; lab-2 by default) -> drctl
# diagnose (members-failed, recommends replace-member with the exact command, changes nothing) -> drctl sim (the
# plan proved) -> drctl apply --dry-run (changes nothing) -> a writer starts (one write every 20 ms, failing over
# between endpoints) -> drctl apply -p replace-member (the failed members read from the cluster) -> the writer stops
# -> checks: every member a healthy voter of the SAME cluster, each new member holds every key and every
# acknowledged write, the longest time the cluster refused writes below --max-refusal-ms (default 1000: two of the
# lab's 500 ms election timeouts). --crash-after K: drctl is killed (-9) after its K-th journal record,
# mid-replacement, and `drctl resume` finishes the run (the membership steps read the cluster first).
# Exit 0 only when every check passed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$ROOT/build
HOSTS_N=3
MEMBERS=()
WORK=""
KEEP=0
MAX_REFUSAL_MS=1000
while [ $# -gt 0 ]; do
  case $1 in
    --hosts) HOSTS_N=$2; shift 2 ;;
    --member) MEMBERS+=("$2"); shift 2 ;;
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --max-refusal-ms) MAX_REFUSAL_MS=$2; shift 2 ;;
    --crash-after) CRASH_AFTER=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gameday-replace: unknown option $1" >&2; exit 2 ;;
  esac
done
[ ${#MEMBERS[@]} -gt 0 ] || MEMBERS=(lab-2)
WORK=${WORK:-$(mktemp -d /tmp/etcd-dr-gameday-replace.XXXXXX)}
mkdir -p "$WORK"
LAB="$HERE/lab.sh"
DRCTL="$BUILD/orchestrator/drctl"
# shellcheck source=scenario.sh
. "$HERE/scenario.sh"
T0=$(now)
# The cluster keeps running: the digests around diagnose and the dry-run leave out what etcd itself writes.
LIVE_ETCD=1

WRITER_STOP=$WORK/writer.stop
cleanup() {
  local rc=$?
  touch "$WRITER_STOP"
  if [ $KEEP -eq 0 ]; then "$LAB" down >/dev/null 2>&1 || true; fi
  exit $rc
}
trap cleanup EXIT

step "lab up: $HOSTS_N hosts"
scenario_lab_up
CLUSTER_ID=$(cluster_id "http://$(addr lab-1):2379")
replaced() { local m; for m in "${MEMBERS[@]}"; do [ "$m" = "$1" ] && return 0; done; return 1; }
OTHER=""
for h in $(hosts); do replaced "$h" || { OTHER=$h; break; }; done
NAMED=""
for m in "${MEMBERS[@]}"; do NAMED+=" --member $m"; done

step "data: 1,000 keys, 4 MB"
scenario_load /gameday/data/ 1000 4000

step "the failure: ${MEMBERS[*]}: etcd killed and the data dir wiped (the others keep the quorum)"
for m in "${MEMBERS[@]}"; do
  on "$m" sh -c 'kill -9 $(cat /run/etcd-dr-lab/etcd.pid) 2>/dev/null; sleep 0.2; rm -rf /var/lib/etcd/data'
  check "$m has no data dir any more" on "$m" test ! -e /var/lib/etcd/data
done

step "diagnose: the incident commander's first command (reads etcd and each host, changes nothing)"
hosts_digest diagnose before
RC=0
op "$DRCTL" diagnose -i "$INV" --timeout 1s > "$WORK/diagnose.out" 2>&1 || RC=$?
cat "$WORK/diagnose.out"
check "diagnose says action is needed (exit $RC, want 1)" test "$RC" -eq 1
check "diagnose finds the situation: members-failed" grep -q "^SITUATION  members-failed:" "$WORK/diagnose.out"
check "diagnose recommends replace-member, with the exact command" \
  grep -qxF "  drctl apply -i $INV -p replace-member$NAMED" "$WORK/diagnose.out"
check_hosts_unchanged diagnose diagnose

step "the simulator: replace-member keeps every rule under every order, crash and fault (touches no host)"
# shellcheck disable=SC2086
check "drctl sim found no violation" op "$DRCTL" sim -i "$INV" -p replace-member $NAMED --orders 50

step "dry-run first: it must change nothing on any host"
hosts_digest dry-run before
op "$DRCTL" apply --dry-run -i "$INV" -p replace-member --runs "$WORK/runs" --yes | tee "$WORK/dry-run.out"
check_hosts_unchanged dry-run dry-run
check "dry-run wrote no run directory" test -z "$(ls -A "$WORK/runs" 2>/dev/null)"

step "a writer starts: one write every 20 ms through every endpoint in turn (an API server's view of etcd)"
rm -f "$WRITER_STOP"
op "$BUILD/sim/drlab-writer" --etcd "$(endpoints)" --prefix /gameday/writer/ --interval-ms 20 \
  --stop-file "$WRITER_STOP" --report "$WORK/writer.report" &
WRITER=$!
sleep 2

step "the replacement: drctl apply -p replace-member over SSH (the failed member read from the cluster)"
R0=$(now)
R0_MS=$(now_ms)
if [ -n "${CRASH_AFTER:-}" ]; then
  RC=0
  op env DRCTL_TEST_CRASH_AFTER_RECORDS="$CRASH_AFTER" "$DRCTL" apply -i "$INV" -p replace-member --runs "$WORK/runs" \
    --yes > "$WORK/crashed.out" 2>&1 || RC=$?
  tail -n 3 "$WORK/crashed.out"
  RUN_ID=$(ls "$WORK/runs" | grep -v '^locks$' | head -1)
  check "drctl was killed after journal record $CRASH_AFTER, mid-replacement (exit $RC)" test "$RC" -ne 0
  RC=0
  op "$DRCTL" resume "$RUN_ID" --runs "$WORK/runs" > "$WORK/resume.out" 2>&1 || RC=$?
  grep -E "resuming run|taking over|skipped|FAILED|finished" "$WORK/resume.out" | head -n 6 || true
  check "drctl resume finished the replacement (exit $RC)" test "$RC" -eq 0
else
  op "$DRCTL" apply -i "$INV" -p replace-member --runs "$WORK/runs" --yes --report "$WORK/report"
fi
R1=$(now)
RUN_ID=$(ls "$WORK/runs" | grep -v '^locks$' | head -1)
printf 'replacement took %s s (run %s)\n' "$(elapsed "$R0" "$R1")" "$RUN_ID"
sleep 2
touch "$WRITER_STOP"
wait "$WRITER"
cat "$WORK/writer.report"
ACKED=$(awk '$1 == "acked" {print $2}' "$WORK/writer.report")
LONGEST=$(awk '$1 == "longest_refusal_ms" {print $2}' "$WORK/writer.report")

step "checks"
EP=$(endpoints)
check "every endpoint healthy" ectl --endpoints="$EP" endpoint health
LEADERS=$(ectl --endpoints="$EP" endpoint status -w json | grep -o '"leader":[0-9]*' | sort -u | wc -l)
check "all members agree on one leader" test "$LEADERS" -eq 1
ectl --endpoints="$EP" member list > "$WORK/members.txt"
cat "$WORK/members.txt"
check "$HOSTS_N members, every one started and voting" \
  test "$(grep -c ', started, .*, false$' "$WORK/members.txt")" -eq "$HOSTS_N"
dump "http://$(addr "$OTHER"):2379" /gameday/data/ > "$WORK/data-$OTHER.kv"
check "the writer was acknowledged throughout ($ACKED writes)" test "$ACKED" -gt 100
check "the longest write refusal, ${LONGEST} ms, is below ${MAX_REFUSAL_MS} ms" test "$LONGEST" -lt "$MAX_REFUSAL_MS"
for MEMBER in "${MEMBERS[@]}"; do
  check "the same cluster as before on $MEMBER (id $CLUSTER_ID): nothing was restored" \
    test "$(cluster_id "http://$(addr "$MEMBER"):2379")" = "$CLUSTER_ID"
  dump "http://$(addr "$MEMBER"):2379" /gameday/data/ > "$WORK/data-$MEMBER.kv"
  check "$MEMBER holds all 1,000 data keys, as $OTHER does" \
    eval 'test "$(wc -l < "$WORK/data-$MEMBER.kv")" -eq 1000 && cmp -s "$WORK/data-$OTHER.kv" "$WORK/data-$MEMBER.kv"'
  WRITTEN=$(ectl --endpoints="http://$(addr "$MEMBER"):2379" get --prefix /gameday/writer/ --keys-only --consistency=s | grep -c . || true)
  check "no acknowledged write lost: $MEMBER holds $WRITTEN writer keys, $ACKED acknowledged" test "$WRITTEN" -ge "$ACKED"
  check "$MEMBER's data dir is new (it joined empty)" on "$MEMBER" test -d /var/lib/etcd/data/member
  check "$MEMBER had no data dir to set aside, and none was made up" on "$MEMBER" test ! -e "/var/lib/etcd/data.before-$RUN_ID"
done
for h in $(hosts); do
  check "$h's recovery lock is released" on "$h" test ! -e /var/lib/etcd/.etcd-dr-lock-lab
  # Nothing was restored, so nothing that caches etcd's state needed a restart: the replacement leaves them alone.
  for role in kube-controller-manager kube-scheduler kubelet; do
    check "$h's $role was left alone (no stop or start since the replacement began)" \
      test -z "$(component_events "$h" "$role" "$R0_MS")"
  done
done
RC=0
op "$DRCTL" diagnose -i "$INV" --timeout 5s --settle 20s > "$WORK/diagnose-after.out" 2>&1 || RC=$?
head -n 1 "$WORK/diagnose-after.out"
check "diagnose after the replacement: healthy (exit $RC, want 0)" \
  eval 'test "$RC" -eq 0 && grep -q "^SITUATION  healthy:" "$WORK/diagnose-after.out"'
STATUS=$(op "$DRCTL" status "$RUN_ID" --runs "$WORK/runs" 2>&1 || true)
echo "$STATUS" | tail -n 5
check "the journal says the run finished" grep -qi finished <<<"$STATUS"

T1=$(now)
printf '\ngame day (replace-member): %d hosts, %s replaced in %s s, longest write refusal %s ms, %s s in all, %s\n' \
  "$HOSTS_N" "${MEMBERS[*]}" "$(elapsed "$R0" "$R1")" "$LONGEST" "$(elapsed "$T0" "$T1")" \
  "$([ $FAILURES -eq 0 ] && echo 'every check passed' || echo "$FAILURES checks FAILED")"
echo "report: $WORK/report/report.md"
echo "work dir: $WORK"
[ $FAILURES -eq 0 ]
