#!/usr/bin/env bash
# A game day: a real recovery of a real etcd cluster over real SSH, on the lab (sim/lab/lab.sh), checked end to end.
#
#   gameday.sh [--hosts N] [--build DIR] [--work DIR] [--keep] [--shared-var-tmp] [--login-env] [--new-hosts]
#              [--from-member] [--crash-after K]
#
# lab up -> load data -> drctl snapshot save -> writes after the snapshot -> the disaster (every member's etcd
# killed and its data destroyed) -> drctl diagnose (must say so and change nothing) -> drctl sim (the plan
# proved) -> drctl apply --dry-run (must change nothing) ->
# drctl apply (over SSH from the operator namespace) -> checks -> lab down. Exit 0 only when every check passed;
# each check prints PASS or FAIL. --shared-var-tmp: the hosts share one /var/tmp, where the snapshot is staged.
# --login-env: ordinary hosts, where every SSH command and Debian's sftp-server start through root's login shell.
# --new-hosts: the disaster replaces the hosts: /var/lib/etcd is empty (no data dir), a rebuild from the snapshot.
# --from-member: the disaster spares lab-1 (its etcd runs on, alone, without quorum): diagnose recommends restoring
#   from it, and drctl apply --from-member lab-1 keeps the writes made after the snapshot.
# --crash-after K: drctl is killed (-9) after its K-th journal record and `drctl resume` finishes the run.
# --members-fetch: the snapshot is uploaded to an S3-compatible bucket (s3rver in the operator namespace) and every
#   member fetches it from there itself (drctl apply -s s3://... --members-fetch): nothing goes over SFTP.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$ROOT/build
HOSTS_N=3
WORK=""
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --hosts) HOSTS_N=$2; shift 2 ;;
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --shared-var-tmp) SHARED_VAR_TMP=1; shift ;;
    --login-env) LOGIN_ENV=1; shift ;;
    --new-hosts) NEW_HOSTS=1; shift ;;
    --from-member) FROM_MEMBER=lab-1; shift ;;
    --crash-after) CRASH_AFTER=$2; shift 2 ;;
    --members-fetch) MEMBERS_FETCH=1; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gameday: unknown option $1" >&2; exit 2 ;;
  esac
done
WORK=${WORK:-$(mktemp -d /tmp/etcd-dr-gameday.XXXXXX)}
mkdir -p "$WORK"
LAB="$HERE/lab.sh"
DRCTL="$BUILD/orchestrator/drctl"
# shellcheck source=scenario.sh
. "$HERE/scenario.sh"
T0=$(now)

cleanup() {
  local rc=$?
  # s3rver (--members-fetch) runs in the operator namespace: it goes before the lab does.
  if [ -n "${MEMBERS_FETCH:-}" ]; then pkill -f "s3rver -d $WORK/s3 " 2>/dev/null || true; fi
  if [ $KEEP -eq 0 ]; then "$LAB" down >/dev/null 2>&1 || true; fi
  exit $rc
}
trap cleanup EXIT

step "lab up: $HOSTS_N hosts"
scenario_lab_up
OLD_CLUSTER_ID=$(cluster_id "http://$(addr lab-1):2379")

step "data: 3,000 keys, 21 MB"
scenario_load /gameday/data/ 3000 7000

step "drctl snapshot save"
scenario_snapshot "$WORK/snapshot.db"
ls -l "$WORK/snapshot.db"*

if [ -n "${MEMBERS_FETCH:-}" ]; then
  step "the snapshot in a bucket: s3rver in the operator namespace (10.213.0.100:9000), drctl snapshot upload"
  S3RVER=${DR_S3RVER:-$ROOT/tools/s3rver/node_modules/.bin/s3rver}
  mkdir -p "$WORK/s3"
  op "$S3RVER" -d "$WORK/s3" -a 10.213.0.100 -p 9000 --configure-bucket etcd-dr-lab --no-vhost-buckets \
    > "$WORK/s3rver.log" 2>&1 &
  for _ in $(seq 100); do op bash -c 'exec 3<>/dev/tcp/10.213.0.100/9000' 2>/dev/null && break; sleep 0.1; done
  export DR_S3_ENDPOINT=http://10.213.0.100:9000 AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  check "the snapshot is in the bucket, with its sidecars" op "$DRCTL" snapshot upload "$WORK/snapshot.db" s3://etcd-dr-lab/prod/
  BUCKET_SNAPSHOT=s3://etcd-dr-lab/prod/snapshot.db
fi

step "writes after the snapshot (a restore must discard them)"
scenario_load /gameday/after/ 200 100

step "what the snapshot holds: restored into a throwaway etcd in the operator namespace"
scenario_snapshot_contents "$WORK/snapshot.db" "$WORK/snapshot.kv"
echo "snapshot holds $(wc -l < "$WORK/snapshot.kv") keys under /"
check "the snapshot holds all 3,000 data keys" test "$(grep -c '^/gameday/data/' "$WORK/snapshot.kv")" -eq 3000
check "the snapshot holds none of the later writes" test "$(grep -c '^/gameday/after/' "$WORK/snapshot.kv" || true)" -eq 0

if [ -n "${NEW_HOSTS:-}" ]; then
  step "the disaster: every member's host replaced (etcd killed, /var/lib/etcd emptied: no data dir at all)"
  scenario_disaster
  for h in $(hosts); do on "$h" sh -c 'rm -rf /var/lib/etcd/* /var/lib/etcd/.[!.]*'; done
  for h in $(hosts); do check "$h has an empty /var/lib/etcd" on "$h" sh -c 'test -d /var/lib/etcd && test -z "$(ls -A /var/lib/etcd)"'; done
elif [ -n "${FROM_MEMBER:-}" ]; then
  step "the disaster: every member but $FROM_MEMBER killed with its data destroyed; $FROM_MEMBER runs on alone, no quorum"
  for h in $(hosts); do [ "$h" = "$FROM_MEMBER" ] || scenario_disaster_on "$h"; done
  # A member alone keeps campaigning: its WAL changes by itself, so the digests leave its own files out.
  LIVE_ETCD=1
else
  step "the disaster: every member's etcd killed and its data destroyed"
  scenario_disaster
fi

step "diagnose: the incident commander's first command (reads etcd and each host, changes nothing)"
hosts_digest diagnose before
RC=0
op "$DRCTL" diagnose -i "$INV" -s "$WORK/snapshot.db" --timeout 1s > "$WORK/diagnose.out" 2>&1 || RC=$?
cat "$WORK/diagnose.out"
SITUATION=$([ -n "${NEW_HOSTS:-}" ] && echo new-hosts || echo quorum-lost)
check "diagnose says action is needed (exit $RC, want 1)" test "$RC" -eq 1
check "diagnose finds the situation: $SITUATION" grep -q "^SITUATION  $SITUATION:" "$WORK/diagnose.out"
if [ -n "${FROM_MEMBER:-}" ]; then
  SOURCE=(--from-member "$FROM_MEMBER")
  check "diagnose recommends restoring from $FROM_MEMBER's data (newer than the snapshot), with the exact command" \
    grep -qxF "  drctl apply -i $INV --from-member $FROM_MEMBER" "$WORK/diagnose.out"
elif [ -n "${MEMBERS_FETCH:-}" ]; then
  SOURCE=(-s "$BUCKET_SNAPSHOT" --members-fetch)
  check "diagnose recommends the full restore, with the exact command" \
    grep -qxF "  drctl apply -i $INV -s $WORK/snapshot.db" "$WORK/diagnose.out"
else
  SOURCE=(-s "$WORK/snapshot.db")
  check "diagnose recommends the full restore, with the exact command" \
    grep -qxF "  drctl apply -i $INV -s $WORK/snapshot.db" "$WORK/diagnose.out"
fi
check_hosts_unchanged diagnose diagnose

step "the simulator: this plan keeps every ordering rule under every order, crash and fault (touches no host)"
SIM_NEW_HOSTS=()
if [ -n "${NEW_HOSTS:-}" ]; then for h in $(hosts); do SIM_NEW_HOSTS+=(--new-host "$h"); done; fi
check "drctl sim found no violation${NEW_HOSTS:+ (every host new)}" op "$DRCTL" sim -i "$INV" -s "$WORK/snapshot.db" --orders 50 "${SIM_NEW_HOSTS[@]}"

step "dry-run first: it must change nothing on any host"
hosts_digest dry-run before
op "$DRCTL" apply --dry-run -i "$INV" "${SOURCE[@]}" --runs "$WORK/runs" --yes 2>&1 | tee "$WORK/dry-run.out"
if [ -n "${NEW_HOSTS:-}" ]; then
  check "the dry-run's preflights say each host is new" test "$(grep -c 'a new host, restored with no old data to set aside' "$WORK/dry-run.out")" -eq "$HOSTS_N"
fi
check_hosts_unchanged dry-run dry-run
# (--members-fetch: drctl downloaded the snapshot into RUNS/downloads/ to plan with it: that is no run.)
check "dry-run wrote no run directory" test -z "$(ls -A "$WORK/runs" 2>/dev/null | grep -vx downloads)"

step "the recovery: drctl apply over SSH from the operator namespace"
R0=$(now)
R0_MS=$(now_ms)
if [ -n "${CRASH_AFTER:-}" ]; then
  RC=0
  op env DRCTL_TEST_CRASH_AFTER_RECORDS="$CRASH_AFTER" "$DRCTL" apply -i "$INV" "${SOURCE[@]}" --runs "$WORK/runs" \
    --yes > "$WORK/crashed.out" 2>&1 || RC=$?
  tail -n 3 "$WORK/crashed.out"
  RUN_ID=$(ls "$WORK/runs" | grep -v '^locks$' | grep -v '^downloads$' | grep -v '^\.' | head -1)
  check "drctl was killed after journal record $CRASH_AFTER (exit $RC)" test "$RC" -ne 0
  if [ -n "${FROM_MEMBER:-}" ]; then
    check "the snapshot taken from $FROM_MEMBER stays for the resume (owner-only)" \
      test "$(stat -c %a "$WORK/runs/.survivor/$RUN_ID.db" 2>/dev/null)" = 600
  fi
  RC=0
  op "$DRCTL" resume "$RUN_ID" --runs "$WORK/runs" > "$WORK/resume.out" 2>&1 || RC=$?
  grep -E "resuming run|taking over|FAILED|finished" "$WORK/resume.out" | head -n 6 || true
  check "drctl resume finished the recovery (exit $RC)" test "$RC" -eq 0
else
  op "$DRCTL" apply -i "$INV" "${SOURCE[@]}" --runs "$WORK/runs" --yes --report "$WORK/report" 2>&1 | tee "$WORK/apply.out"
fi
R1=$(now)
RUN_ID=$(ls "$WORK/runs" | grep -v '^locks$' | grep -v '^downloads$' | grep -v '^\.' | head -1)
printf 'recovery took %s s (run %s)\n' "$(elapsed "$R0" "$R1")" "$RUN_ID"

step "checks"
EP=$(endpoints)
check "every endpoint healthy" ectl --endpoints="$EP" endpoint health
LEADERS=$(ectl --endpoints="$EP" endpoint status -w json | grep -o '"leader":[0-9]*' | sort -u | wc -l)
check "all members agree on one leader" test "$LEADERS" -eq 1
NEW_CLUSTER_ID=$(cluster_id "http://$(addr lab-1):2379")
check "a new cluster id ($OLD_CLUSTER_ID -> $NEW_CLUSTER_ID)" test "$NEW_CLUSTER_ID" != "$OLD_CLUSTER_ID"
for h in $(hosts); do
  dump "http://$(addr "$h"):2379" / > "$WORK/after-$h.kv"
  MISSING=$(comm -23 "$WORK/snapshot.kv" "$WORK/after-$h.kv" | wc -l)
  check "$h holds every key of the snapshot with the same value ($MISSING missing or different)" test "$MISSING" -eq 0
  AFTER_KEYS=$(grep -c '^/gameday/after/' "$WORK/after-$h.kv" || true)
  if [ -n "${FROM_MEMBER:-}" ]; then
    check "$h holds all 200 writes made after the snapshot ($AFTER_KEYS): $FROM_MEMBER's data kept them" test "$AFTER_KEYS" -eq 200
  else
    check "$h holds none of the writes made after the snapshot" test "$AFTER_KEYS" -eq 0
  fi
  if [ -n "${FROM_MEMBER:-}" ] && [ "$h" = "$FROM_MEMBER" ]; then
    check "$h kept its own old data dir (its etcd data, set aside)" on "$h" test -f "/var/lib/etcd/data.before-$RUN_ID/member/snap/db"
  elif [ -n "${NEW_HOSTS:-}" ]; then
    check "$h had no data dir, and none was made up to set aside" on "$h" sh -c "test ! -e /var/lib/etcd/data.before-$RUN_ID && test -z \"\$(ls -d /var/lib/etcd/data.* 2>/dev/null)\""
  else
    check "$h kept its old data dir" on "$h" test -f "/var/lib/etcd/data.before-$RUN_ID/DISASTER"
  fi
  check "$h has no staged snapshot left (it holds every Secret in plaintext)" on "$h" test ! -e "/var/tmp/etcd-dr/$RUN_ID"
  check "$h's recovery lock is released" on "$h" test ! -e /var/lib/etcd/.etcd-dr-lock-lab
done
# The components that cache etcd's state: the controller managers and schedulers stopped before the first API
# server started on the restored data and started after the last one; the kubelets restarted in between (after the
# API servers stopped, before the first one started again). Read from each stand-in's own start/stop log.
FIRST_API=""; LAST_API=0
for h in $(hosts); do
  for t in $(apiserver_starts "$h" "$R0_MS"); do
    [ -z "$FIRST_API" ] || [ "$t" -lt "$FIRST_API" ] && FIRST_API=$t
    [ "$t" -gt "$LAST_API" ] && LAST_API=$t
  done
done
check "every API server started again during the recovery (first at +$((${FIRST_API:-0} - R0_MS)) ms)" test -n "$FIRST_API"
for h in $(hosts); do
  for role in kube-controller-manager kube-scheduler kubelet; do
    EVENTS=$(component_events "$h" "$role" "$R0_MS")
    FIRST_STOP=$(awk '$2 == "stop" {print $1; exit}' <<<"$EVENTS")
    LAST_START=$(awk '$2 == "start" {t = $1} END {print t}' <<<"$EVENTS")
    if [ "$role" = kubelet ]; then
      check "$h's kubelet restarted while no API server ran (stopped +$((${FIRST_STOP:-0} - R0_MS)) ms, started +$((${LAST_START:-0} - R0_MS)) ms, API servers back +$((${FIRST_API:-0} - R0_MS)) ms)" \
        test -n "$FIRST_STOP" -a -n "$LAST_START" -a "${LAST_START:-0}" -lt "${FIRST_API:-0}" -a "${FIRST_STOP:-0}" -le "${LAST_START:-0}"
    else
      check "$h's $role stopped before the API servers came back and started after the last one (+$((${FIRST_STOP:-0} - R0_MS)) / +$((${LAST_START:-0} - R0_MS)) ms)" \
        test -n "$FIRST_STOP" -a -n "$LAST_START" -a "${FIRST_STOP:-0}" -lt "${FIRST_API:-0}" -a "${LAST_START:-0}" -gt "$LAST_API"
    fi
    check "$h's $role runs" on "$h" /run/etcd-dr-lab/bin/component-ctl "$role" status
  done
done

RC=0
op "$DRCTL" diagnose -i "$INV" --timeout 5s --settle 20s > "$WORK/diagnose-after.out" 2>&1 || RC=$?
head -n 1 "$WORK/diagnose-after.out"
check "diagnose after the recovery: healthy, nothing to recover (exit $RC, want 0)" \
  eval 'test "$RC" -eq 0 && grep -q "^SITUATION  healthy:" "$WORK/diagnose-after.out"'
STATUS=$(op "$DRCTL" status "$RUN_ID" --runs "$WORK/runs" 2>&1 || true)
echo "$STATUS" | tail -n 5
check "the journal says the run finished" grep -qi finished <<<"$STATUS"
if [ -n "${FROM_MEMBER:-}" ]; then
  check "the dry-run said where its snapshot came from" grep -q "snapshot taken from member $FROM_MEMBER's own data" "$WORK/dry-run.out"
  check "the snapshot taken from $FROM_MEMBER (every Secret in plaintext) is gone with the finished run" \
    test -z "$(ls -A "$WORK/runs/.survivor" 2>/dev/null)"
fi
if [ -n "${MEMBERS_FETCH:-}" ]; then
  for h in $(hosts); do
    FETCH_LOG="$WORK/runs/$RUN_ID/logs/$(ls "$WORK/runs/$RUN_ID/logs" | grep -E "^upload-snapshot.*$h\.log$" | head -1)"
    check "$h fetched the snapshot from the bucket itself and verified it there (no SFTP upload)" \
      eval 'grep -q "^fetched $BUCKET_SNAPSHOT to .* on the host" "$FETCH_LOG" && ! grep -q "^uploaded " "$FETCH_LOG"'
  done
  check "the controller downloaded the snapshot once, for the dry-run, and the apply used that copy" \
    grep -q "already downloaded to" "$WORK/apply.out"
fi
# Every upload got through at its first attempt: a retry would hide two members writing one staging file (they
# share /var/tmp with --shared-var-tmp).
UPLOAD_ATTEMPTS=$(awk '$1 ~ /^upload-snapshot@/ {print $4}' <<<"$STATUS" | sort -u | tr '\n' ' ')
check "every upload-snapshot finished at its first attempt${SHARED_VAR_TMP:+, the hosts sharing /var/tmp} (attempts: $UPLOAD_ATTEMPTS)" \
  test "$UPLOAD_ATTEMPTS" = "1 "

T1=$(now)
printf '\ngame day: %d hosts%s%s%s, recovery %s s, %s s in all, %s\n' "$HOSTS_N" "${SHARED_VAR_TMP:+ sharing /var/tmp}" "${NEW_HOSTS:+, new (no data dir)}" \
  "${FROM_MEMBER:+, restored from $FROM_MEMBER}" "$(elapsed "$R0" "$R1")" "$(elapsed "$T0" "$T1")" \
  "$([ $FAILURES -eq 0 ] && echo 'every check passed' || echo "$FAILURES checks FAILED")"
echo "report: $WORK/report/report.md (junit.xml, report.json, timeline.svg beside it)"
echo "work dir: $WORK"
[ $FAILURES -eq 0 ]
