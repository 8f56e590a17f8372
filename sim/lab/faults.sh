#!/usr/bin/env bash
# The game day's fault scenarios (issue 6, item 3): real faults injected into real recoveries on the lab
# (sim/lab/lab.sh), each followed by the checks that say whether drctl kept the cluster safe and got it back.
#
#   faults.sh [--hosts N] [--build DIR] [--seed S] [--only NAME] [--plan FILE] [--work DIR] [--keep]
#
# One lab serves every scenario: lab up -> data -> drctl snapshot save -> writes after the snapshot, then
#   rollback          on the HEALTHY cluster: a forced apply whose restore fails on one member after the others
#                     were stopped and swapped, then drctl rollback: the old cluster with its old data
#   (the disaster: every member's etcd killed and its data destroyed)
#   corrupt-snapshot  flipped bytes / a disagreeing .sha256: apply refuses before any host changes
#   kill-drctl        kill -9 of drctl at a step picked by the seed, then drctl resume: the same end state
#   sshd-loss         one host's sshd killed mid-run: a clean halt naming the host; sshd back, resume: success
# (a dry-run changing nothing is checked by gameday.sh). The seed is printed; --seed replays the same choices.
# --plan runs every scenario with another plan template (e.g. a fix of plans/full-restore.yaml, before it lands).
# Each check prints PASS or FAIL; exit 0 only when every check passed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$ROOT/build
HOSTS_N=3
WORK=""
KEEP=0
SEED=$(( $(date +%s%N) / 1000 % 1000000 ))
ONLY=""
PLAN=""
SCENARIOS="rollback corrupt-snapshot kill-drctl sshd-loss"
while [ $# -gt 0 ]; do
  case $1 in
    --hosts) HOSTS_N=$2; shift 2 ;;
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --plan) PLAN=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "faults: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $SEED =~ ^[0-9]+$ ]] || { echo "faults: --seed must be a non-negative integer" >&2; exit 2; }
if [ -n "$ONLY" ] && ! grep -qw -- "$ONLY" <<<"$SCENARIOS"; then
  echo "faults: --only must be one of: $SCENARIOS" >&2; exit 2
fi
WORK=${WORK:-$(mktemp -d /tmp/etcd-dr-faults.XXXXXX)}
mkdir -p "$WORK"
LAB="$HERE/lab.sh"
LAB_HOSTS_DIR=${DR_LAB_ROOT:-/run/etcd-dr-lab}-hosts   # lab.sh's per-host directories, seen from every host
DRCTL="$BUILD/orchestrator/drctl"
RUNS=$WORK/runs
PLAN_ARGS=()
[ -z "$PLAN" ] || PLAN_ARGS=(-p "$PLAN")
# shellcheck source=scenario.sh
. "$HERE/scenario.sh"
T0=$(now)

# Every random choice comes from the seed, drawn here in a fixed order (bash's RANDOM is a seeded generator).
RANDOM=$SEED
PICK_KILL_STEP=$RANDOM
PICK_KILL_WHEN=$RANDOM
PICK_SSHD_HOST=$RANDOM
PICK_ROLLBACK_HOST=$RANDOM
PICK_FLIP=$RANDOM
echo "seed $SEED (replay with: $0 --hosts $HOSTS_N --seed $SEED${PLAN:+ --plan $PLAN})"

cleanup() {
  local rc=$?
  if [ $KEEP -eq 0 ]; then "$LAB" down >/dev/null 2>&1 || true; fi
  exit $rc
}
trap cleanup EXIT

wanted() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
drctl() { op "$DRCTL" "$@"; }

# drctl in the background in the operator namespace, its own pid in PIDFILE (not the lab.sh wrapper's), its output
# in OUT. Sets BG to the wrapper's pid, whose exit status is drctl's.
drctl_bg() {  # PIDFILE OUT ARGS...
  local pidfile=$1 out=$2; shift 2
  rm -f "$pidfile"
  op sh -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$DRCTL" "$@" >"$out" 2>&1 &
  BG=$!
}
# The run id drctl apply prints first ("run ID: N steps, journal PATH"), waited for up to 30 s.
run_id_of() {  # OUT
  local id=""
  for _ in $(seq 300); do
    id=$(sed -n 's/^run \([^ ]*\): [0-9]* steps, journal .*/\1/p' "$1" | head -1)
    [ -n "$id" ] && { echo "$id"; return 0; }
    sleep 0.1
  done
  return 1
}
# A step's state in the run's journal, as drctl status shows it (not-started, in-doubt, finished, failed, ...).
# Read in the root namespace (status reads only local files): ip netns exec would add 0.2 s to every poll, and a
# restore takes about 0.6 s.
step_state() {  # RUN_ID STEP
  "$DRCTL" status "$1" --runs "$RUNS" 2>/dev/null | awk -v s="$2" '$1 == s {print $3; exit}'
}
# The journal records (flat JSON payloads between binary headers, docs/journal-format.md) about STEP, one a line.
step_records() {  # RUN_ID STEP
  grep -ao "{[^{}]*\"step\":\"$2\"[^{}]*}" "$RUNS/$1/journal" 2>/dev/null
}
# Waits (up to SECONDS) until STEP has started (WHEN=started: its StepStarted record is in the journal) or finished
# (WHEN=finished: a record with a duration and no message, i.e. StepFinished) while the background drctl runs.
# Reads the journal file itself: one grep costs milliseconds where drctl status costs tens (hundreds on a busy
# machine), and a restore lasts about a second. Fails when drctl ended first or time ran out.
wait_step() {  # RUN_ID STEP WHEN SECONDS
  local deadline=$((SECONDS + $4))
  while :; do
    case $3 in
      started) step_records "$1" "$2" | grep -q . && return 0 ;;
      finished) step_records "$1" "$2" | grep '"duration_ms"' | grep -vq '"message"' && return 0 ;;
    esac
    kill -0 "$BG" 2>/dev/null || return 1
    [ $SECONDS -lt "$deadline" ] || return 1
    sleep 0.02
  done
}
# Milliseconds from STEP's first record (its start) to now: how late a fault landed.
ms_since_start() {  # RUN_ID STEP
  local t
  t=$(step_records "$1" "$2" | head -1 | grep -o '"time_ms":[0-9]*' | cut -d: -f2)
  echo $(( $(date +%s%3N) - ${t:-0} ))
}
readyz() { op curl -fsS --max-time 2 "http://$(addr "$1"):6443/readyz" >/dev/null 2>&1; }
apiserver_running() { on "$1" /run/etcd-dr-lab/bin/apiserver-ctl status; }
wait_healthy() {  # SECONDS
  for _ in $(seq $(($1 * 5))); do ectl --endpoints="$(endpoints)" endpoint health >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
wait_readyz() {  # HOST SECONDS
  for _ in $(seq $(($2 * 5))); do readyz "$1" && return 0; sleep 0.2; done
  return 1
}
leaders() { ectl --endpoints="$(endpoints)" endpoint status -w json | grep -o '"leader":[0-9]*' | sort -u | wc -l; }
run_dirs() { ls "$RUNS" 2>/dev/null | grep -v -e '^locks$' -e '^decrypted$' | sort; }

# The end state of a successful recovery by RUN_ID, as gameday.sh checks it, plus the API servers.
check_recovered() {  # RUN_ID LABEL
  local run=$1 label=$2 id
  check "$label: every endpoint healthy" wait_healthy 30
  check "$label: all members agree on one leader" test "$(leaders)" -eq 1
  id=$(cluster_id "http://$(addr lab-1):2379")
  check "$label: a new cluster id ($OLD_CLUSTER_ID -> $id)" test -n "$id" -a "$id" != "$OLD_CLUSTER_ID" -a "$id" != "$LAST_CLUSTER_ID"
  LAST_CLUSTER_ID=$id
  for h in $(hosts); do
    dump "http://$(addr "$h"):2379" / > "$WORK/$label-$h.kv"
    local missing
    missing=$(comm -23 "$WORK/snapshot.kv" "$WORK/$label-$h.kv" | wc -l)
    check "$label: $h holds every key of the snapshot with the same value ($missing missing or different)" test "$missing" -eq 0
    check "$label: $h holds none of the writes made after the snapshot" test "$(grep -c '^/gameday/after/' "$WORK/$label-$h.kv" || true)" -eq 0
    check "$label: $h kept its old data dir" on "$h" test -f "/var/lib/etcd/data.before-$run/DISASTER"
    check "$label: $h has no staged snapshot left" on "$h" test ! -e "/var/tmp/etcd-dr/$run"
    check "$label: $h's recovery lock is released" on "$h" test ! -e /var/lib/etcd/.etcd-dr-lock-lab
    check "$label: $h's API-server stand-in runs and answers /readyz" eval 'apiserver_running "$h" && wait_readyz "$h" 30'
  done
  # Exactly that line: after a resume, an earlier session's halt is not quoted as the reason of a finished run.
  # (awk reads the whole status: `grep -q` would stop reading at its match, and drctl, still writing a long status,
  # would die of SIGPIPE and fail the pipeline under pipefail.)
  check "$label: the journal says the run finished (no stale reason)" eval 'drctl status "$run" --runs "$RUNS" | awk '\''$0 == "state: finished" {f = 1} END {exit !f}'\'''
}

# etcdctl snapshot restore writes member/snap/db first and the WAL and the raft snapshot last: a restore cut off
# (its session dropped, drctl killed) leaves a db without them, which etcd starts as a new, empty member of another
# cluster. This scenario found that full-restore.yaml's check took such a dir as done; the plan now restores into
# RESTORE_DIR.partial and renames it into place on success, and this check keeps it that way.
check_complete_restores() {  # LABEL
  for h in $(hosts); do
    check "$1: $h's data dir is a whole restore (member/wal/*.wal and member/snap/*.snap)" \
      on "$h" sh -c 'ls /var/lib/etcd/data/member/wal/*.wal /var/lib/etcd/data/member/snap/*.snap >/dev/null 2>&1'
  done
}

# drctl resume RUN_ID, then the end state of a recovery (not checked, one FAIL, when the resume failed).
resume_and_check() {  # LABEL RUN_ID
  local rc=0
  drctl resume "$2" --runs "$RUNS" >"$WORK/$1-resume.out" 2>&1 || rc=$?
  grep -E "taking over|resuming run|skipped|FAILED" "$WORK/$1-resume.out" | head -n 8 || true
  check "$1: drctl resume exit $rc (want 0)" test "$rc" -eq 0
  check_complete_restores "$1"
  if [ "$rc" -eq 0 ]; then check_recovered "$2" "$1"; else failc "$1: end state not checked: the resume failed"; fi
}

# A copy of the plan template (--plan's, else full-restore.yaml) with ANCHOR, which must occur in it exactly once,
# replaced: the scenarios below inject their faults and pauses into the plan this way.
patched_template() {  # OUT ANCHOR REPLACEMENT
  /usr/bin/python3 - "${PLAN:-$ROOT/plans/full-restore.yaml}" "$@" <<'PY'
import sys
src, out, anchor, replacement = sys.argv[1:]
text = open(src).read()
assert text.count(anchor) == 1, f"the plan template changed, update faults.sh: {anchor!r} is not in it exactly once"
open(out, "w").write(text.replace(anchor, replacement))
PY
}
RESTORE_ANCHOR=$'      set -e\n      # Verified again right before use'

# A copy of the full-restore template whose restore fails on HOST, but only after every other member has swapped
# its data dir (it watches their directories through the lab's shared /run): a failure partway, after the point of
# no return on the other members, which is what a rollback is for.
faulty_template() {  # HOST OUT
  patched_template "$2" "$RESTORE_ANCHOR" "      set -e
      # Injected by sim/lab/faults.sh: on $1 the restore fails once the other members have swapped.
      if [ \${member.name} = $1 ]; then
        for i in \$(seq 300); do
          [ \"\$(ls -d $LAB_HOSTS_DIR/lab-*/var-lib-etcd/data.before-\${run.id} 2>/dev/null | wc -l)\" -ge $((HOSTS_N - 1)) ] && break
          sleep 0.1
        done
        echo \"injected fault: the restore on $1 fails\" >&2; exit 1
      fi
      # Verified again right before use"
}

# A copy of the full-restore template whose restore on HOST lingers 3 s after its work is done, for sshd-loss: the
# host's sshd is killed once that restore has started, and the watcher that sees the start polls the journal (up to
# half a second late on a busy machine, longer than a whole restore). So the session always drops under a restore that
# has changed the host and is not yet journaled done: the hardest case for resume.
lingering_restore_template() {  # HOST OUT
  patched_template "$2" "$RESTORE_ANCHOR" "      set -e
      # Injected by sim/lab/faults.sh (sshd-loss): on $1 the restore lingers after its work.
      [ \${member.name} != $1 ] || trap 'sleep 3' EXIT
      # Verified again right before use"
}

# A copy of the template whose last step (unlock-member, which needs every other) first waits 2 s, for kill-drctl:
# it kills drctl once a step that others wait on has started or finished, and the watcher polls the journal. With the
# last stretch of a recovery under a second, a kill picked near the end could find drctl done already on a busy
# machine (seen: 660 ms from a step's start to the kill; and remove-snapshot, run after verify-apiserver on its host,
# left only unlock-member's 0.1 s behind it). The wait keeps drctl running for any pick, and the locks held through
# it; what the scenario proves is unchanged.
slow_tail_template() {  # OUT
  patched_template "$1" $'    run: |\n      if [ "$(cat ${member.lock_dir}/owner 2>/dev/null)" = ${run.id} ]; then rm -rf' \
    $'    run: |\n      sleep 2  # injected by sim/lab/faults.sh (kill-drctl)\n      if [ "$(cat ${member.lock_dir}/owner 2>/dev/null)" = ${run.id} ]; then rm -rf'
}

step "lab up: $HOSTS_N hosts"
scenario_lab_up
OLD_CLUSTER_ID=$(cluster_id "http://$(addr lab-1):2379")
LAST_CLUSTER_ID=$OLD_CLUSTER_ID
step "data, snapshot, writes after the snapshot"
scenario_load /gameday/data/ 3000 7000
scenario_snapshot "$WORK/snapshot.db"
scenario_load /gameday/after/ 200 100
scenario_snapshot_contents "$WORK/snapshot.db" "$WORK/snapshot.kv"
echo "the snapshot holds $(wc -l < "$WORK/snapshot.kv") keys"

# ---- rollback: the old cluster with its old data -----------------------------------------------------------------
if wanted rollback; then
  FAULT_HOST=lab-$((PICK_ROLLBACK_HOST % HOSTS_N + 1))
  step "rollback: a forced apply on the healthy cluster whose restore fails on $FAULT_HOST, then drctl rollback"
  S0=$(now)
  # Old data = the writes after the snapshot (values compared) and every data key (a range's count is the whole
  # range's, whatever --limit), on the original cluster id.
  for h in $(hosts); do dump "http://$(addr "$h"):2379" /gameday/after/ > "$WORK/rollback-before-$h.kv"; done
  faulty_template "$FAULT_HOST" "$WORK/faulty-restore.yaml"
  # --force: the cluster is healthy (the point is to get the old one back), and apply refuses a full restore while
  # a quorum is healthy.
  RC=0
  drctl apply --force -i "$INV" -s "$WORK/snapshot.db" -p "$WORK/faulty-restore.yaml" --runs "$RUNS" --yes \
    >"$WORK/rollback-apply.out" 2>&1 || RC=$?
  tail -n 12 "$WORK/rollback-apply.out"
  RUN=$(run_id_of "$WORK/rollback-apply.out" || true)
  check "rollback: the faulty apply failed (exit $RC, want 1)" test "$RC" -eq 1
  check "rollback: its output names the injected fault" grep -q "injected fault: the restore on $FAULT_HOST fails" "$WORK/rollback-apply.out"
  check "rollback: its output prints the rollback command" grep -q "drctl rollback $RUN" "$WORK/rollback-apply.out"
  for h in $(hosts); do
    check "rollback: stop-etcd@$h finished before the failure" test "$(step_state "$RUN" "stop-etcd@$h")" = finished
    if [ "$h" = "$FAULT_HOST" ]; then
      check "rollback: restore@$h failed" test "$(step_state "$RUN" "restore@$h")" = failed
    else
      check "rollback: swap-data-dir@$h finished (the point of no return was passed)" test "$(step_state "$RUN" "swap-data-dir@$h")" = finished
    fi
  done
  check "rollback: no API server was started" eval 'test -z "$(drctl status "$RUN" --runs "$RUNS" | awk '\''/^start-apiserver/ && !/not-started/'\'')"'
  # One recovery per cluster, whatever the runs directory (or machine): while this halted run holds the members'
  # locks, an apply from another runs dir is refused at its preflight and changes nothing on any host.
  for h in $(hosts); do
    check "member-lock: $h holds the lock of run $RUN" eval 'test "$(on "$h" cat /var/lib/etcd/.etcd-dr-lock-lab/owner)" = "$RUN"'
  done
  RC=0
  drctl apply --force -i "$INV" -s "$WORK/snapshot.db" --runs "$WORK/other-runs" --yes >"$WORK/other-apply.out" 2>&1 || RC=$?
  grep -m 2 "is locked by run" "$WORK/other-apply.out" || tail -n 4 "$WORK/other-apply.out"
  OTHER=$(run_id_of "$WORK/other-apply.out" || true)
  check "member-lock: an apply from another runs dir is refused (exit $RC, want 1), naming run $RUN" \
    eval 'test "$RC" -eq 1 && grep -q "is locked by run \"*$RUN" "$WORK/other-apply.out"'
  check "member-lock: the refused run started no step but preflights" \
    eval 'test -n "$OTHER" && test -z "$(drctl status "$OTHER" --runs "$WORK/other-runs" | awk '\''/^[a-z-]+@/ && !/^preflight-/ && !/not-started/'\'')"'
  for h in $(hosts); do
    check "member-lock: $h still holds run $RUN's lock" eval 'test "$(on "$h" cat /var/lib/etcd/.etcd-dr-lock-lab/owner)" = "$RUN"'
  done
  RC=0
  drctl rollback "$RUN" --runs "$RUNS" --yes >"$WORK/rollback.out" 2>&1 || RC=$?
  tail -n 6 "$WORK/rollback.out"
  check "rollback: drctl rollback exit $RC (want 0)" test "$RC" -eq 0
  check "rollback: every endpoint healthy again" wait_healthy 30
  check "rollback: all members agree on one leader" test "$(leaders)" -eq 1
  ID=$(cluster_id "http://$(addr lab-1):2379")
  check "rollback: the original cluster id ($OLD_CLUSTER_ID, now $ID)" test "$ID" = "$OLD_CLUSTER_ID"
  for h in $(hosts); do
    dump "http://$(addr "$h"):2379" /gameday/after/ > "$WORK/rollback-after-$h.kv"
    check "rollback: $h holds the writes made after the snapshot, same values ($(wc -l < "$WORK/rollback-after-$h.kv") of 200)" \
      eval 'cmp -s "$WORK/rollback-before-$h.kv" "$WORK/rollback-after-$h.kv" && test "$(wc -l < "$WORK/rollback-after-$h.kv")" -eq 200'
    check "rollback: $h holds all 3,000 data keys" \
      test "$(ectl --endpoints="http://$(addr "$h"):2379" get --prefix /gameday/data/ --consistency=s --keys-only --limit 1 -w json | jq .count)" -eq 3000
    check "rollback: $h's API-server stand-in runs and answers /readyz" eval 'apiserver_running "$h" && wait_readyz "$h" 30'
    check "rollback: $h has no restored data dir left" eval '! on "$h" sh -c "ls -d /var/lib/etcd/data.before-* /var/lib/etcd/data.restore* 2>/dev/null | grep -q ."'
  done
  check "rollback: the journal says rolled back" eval 'drctl status "$RUN" --runs "$RUNS" | awk '\''/^state: rolled back/ {f = 1} END {exit !f}'\'''
  for h in $(hosts); do
    check "rollback: $h's recovery lock is released" on "$h" test ! -e /var/lib/etcd/.etcd-dr-lock-lab
    check "rollback: $h has no staged snapshot left" on "$h" test ! -e "/var/tmp/etcd-dr/$RUN"
  done
  printf 'rollback scenario: %s s\n' "$(elapsed "$S0" "$(now)")"
fi

NEEDS_RESET=0
# The disaster every other scenario recovers from; after a scenario that recovered, the same disaster again.
disaster() {
  if [ -z "${DISASTER_DONE:-}" ]; then
    step "the disaster: every member's etcd killed and its data destroyed"
    scenario_disaster
    DISASTER_DONE=1
  elif [ $NEEDS_RESET -eq 1 ]; then
    step "back to the disaster (API servers stopped, etcd killed, data destroyed, old runs' leftovers removed)"
    scenario_reset_to_disaster
  fi
  NEEDS_RESET=0
}

# ---- corrupt-snapshot: refused before any host changes ----------------------------------------------------------
if wanted corrupt-snapshot; then
  disaster
  step "corrupt-snapshot: damaged copies of the snapshot must be refused before any host changes"
  S0=$(now)
  SIZE=$(stat -c %s "$WORK/snapshot.db")
  FLIP_AT=$(( 4096 + PICK_FLIP * 97 % (SIZE - 8192) ))   # inside the bbolt pages, away from the trailer
  echo "flipping 16 bytes at offset $FLIP_AT of $SIZE"
  for kind in flipped flipped-trailer-fixed sidecar-mismatch; do
    mkdir -p "$WORK/$kind"
    cp "$WORK/snapshot.db" "$WORK/snapshot.db.sha256" "$WORK/snapshot.db.json" "$WORK/$kind/" 2>/dev/null ||
      cp "$WORK"/snapshot.db* "$WORK/$kind/"
  done
  # flipped: the content disagrees with the sidecars (and with etcd's own trailer).
  # flipped-trailer-fixed: etcd's trailer recomputed over the damaged bytes, so only our .sha256 sidecar can tell.
  # sidecar-mismatch: the content intact, the .sha256 sidecar names another hash.
  /usr/bin/python3 - "$WORK" "$FLIP_AT" <<'PY'
import hashlib, sys
work, at = sys.argv[1], int(sys.argv[2])
for kind in ("flipped", "flipped-trailer-fixed"):
    path = f"{work}/{kind}/snapshot.db"
    data = bytearray(open(path, "rb").read())
    for i in range(at, at + 16):
        data[i] ^= 0xFF
    if kind == "flipped-trailer-fixed":
        data[-32:] = hashlib.sha256(bytes(data[:-32])).digest()
    open(path, "wb").write(data)
path = f"{work}/sidecar-mismatch/snapshot.db.sha256"
line = open(path).read()
digest = line.split()[0]
open(path, "w").write(line.replace(digest, hashlib.sha256(b"not the snapshot").hexdigest()))
PY
  for h in $(hosts); do host_files_digest "$h" > "$WORK/corrupt-before-$h.sha"; done
  BEFORE_RUNS=$(run_dirs)
  for kind in flipped flipped-trailer-fixed sidecar-mismatch; do
    RC=0
    drctl apply -i "$INV" -s "$WORK/$kind/snapshot.db" "${PLAN_ARGS[@]}" --runs "$RUNS" --yes >"$WORK/corrupt-$kind.out" 2>&1 || RC=$?
    sed 's/^/    /' "$WORK/corrupt-$kind.out" | head -n 4
    check "corrupt-snapshot ($kind): apply refused (exit $RC, want 1 or 2)" test "$RC" -eq 1 -o "$RC" -eq 2
    check "corrupt-snapshot ($kind): the message names the file and the hash disagreement" \
      eval 'grep -q "$WORK/$kind/snapshot.db" "$WORK/corrupt-$kind.out" && grep -qiE "sha-?256|checksum|trailer|corrupt" "$WORK/corrupt-$kind.out"'
  done
  for h in $(hosts); do
    host_files_digest "$h" > "$WORK/corrupt-after-$h.sha"
    check "corrupt-snapshot: $h's files byte-identical after the three refusals" cmp -s "$WORK/corrupt-before-$h.sha" "$WORK/corrupt-after-$h.sha"
  done
  check "corrupt-snapshot: no run directory was created" test "$(run_dirs)" = "$BEFORE_RUNS"
  printf 'corrupt-snapshot scenario: %s s\n' "$(elapsed "$S0" "$(now)")"
fi

# ---- kill-drctl: kill -9 at a seeded step, then resume ----------------------------------------------------------
if wanted kill-drctl; then
  disaster
  slow_tail_template "$WORK/slow-tail.yaml"
  KILL_PLAN=$WORK/slow-tail.yaml
  # Any step another step waits on (the last ones, read-only probes, end within a poll of drctl's exit, so a kill
  # there would often find no drctl), killed once it has started or once it has finished.
  mapfile -t STEPS < <(drctl plan -i "$INV" -s "$WORK/snapshot.db" -p "$KILL_PLAN" -o json |
                       jq -r '[.steps[].needs[]] as $needed | .steps[].id | select(. as $id | $needed | index($id))')
  KILL_STEP=${STEPS[$((PICK_KILL_STEP % ${#STEPS[@]}))]}
  KILL_WHEN=$([ $((PICK_KILL_WHEN % 2)) -eq 0 ] && echo started || echo finished)
  step "kill-drctl: kill -9 of drctl once $KILL_STEP has $KILL_WHEN (candidate $((PICK_KILL_STEP % ${#STEPS[@]} + 1)) of ${#STEPS[@]}), then drctl resume"
  S0=$(now)
  drctl_bg "$WORK/kill.pid" "$WORK/kill-apply.out" apply -i "$INV" -s "$WORK/snapshot.db" -p "$KILL_PLAN" --runs "$RUNS" --yes
  RUN=$(run_id_of "$WORK/kill-apply.out" || true)
  KILLED=0
  if [ -n "$RUN" ] && wait_step "$RUN" "$KILL_STEP" "$KILL_WHEN" 120; then
    LATE=$(ms_since_start "$RUN" "$KILL_STEP")
    kill -KILL "$(cat "$WORK/kill.pid")" && KILLED=1
    echo "killed $LATE ms after $KILL_STEP started"
  fi
  RC=0; wait "$BG" || RC=$?
  tail -n 3 "$WORK/kill-apply.out"
  [ $KILLED -eq 1 ] || echo "drctl ended (exit $RC) before $KILL_STEP was seen $KILL_WHEN in its journal: nothing was killed"
  check "kill-drctl: drctl was killed by SIGKILL at $KILL_STEP (exit $RC, want 137)" test $KILLED -eq 1 -a "$RC" -eq 137
  drctl status "$RUN" --runs "$RUNS" > "$WORK/kill-status.out" 2>&1 || true
  grep -E "^state:|$KILL_STEP " "$WORK/kill-status.out" || true
  check "kill-drctl: status shows the run interrupted (drctl no longer running)" grep -q "^state: .*interrupted" "$WORK/kill-status.out"
  # A different run must not take the dead run's lock (--force: the cluster may be whole again by now, and the quorum
  # gate comes before the lock).
  BEFORE_RUNS=$(run_dirs)
  RC=0
  drctl apply --force -i "$INV" -s "$WORK/snapshot.db" -p "$KILL_PLAN" --runs "$RUNS" --yes >"$WORK/kill-other.out" 2>&1 || RC=$?
  tail -n 1 "$WORK/kill-other.out"
  check "kill-drctl: another run is refused the dead run's lock (exit $RC, want 1)" \
    eval 'test "$RC" -eq 1 && grep -q "locked by run $RUN" "$WORK/kill-other.out"'
  check "kill-drctl: the refused run created no run directory" test "$(run_dirs)" = "$BEFORE_RUNS"
  resume_and_check kill-drctl "$RUN"
  check "kill-drctl: resume took over the dead run's stale lock" grep -q "taking over the stale lock of this same run" "$WORK/kill-drctl-resume.out"
  NEEDS_RESET=1
  printf 'kill-drctl scenario: %s s\n' "$(elapsed "$S0" "$(now)")"
fi

# ---- sshd-loss: one host's sshd dies mid-run ---------------------------------------------------------------------
if wanted sshd-loss; then
  disaster
  LOST=lab-$((PICK_SSHD_HOST % HOSTS_N + 1))
  # When its restore starts: that restore lingers 3 s after its work (lingering_restore_template), so the session
  # drops under a command that has changed the host, the hardest case for resume.
  LOST_AT=restore@$LOST
  lingering_restore_template "$LOST" "$WORK/lingering-restore.yaml"
  step "sshd-loss: $LOST's sshd killed (open sessions too) once $LOST_AT starts, then sshd back and drctl resume"
  S0=$(now)
  drctl_bg "$WORK/sshd.pid" "$WORK/sshd-apply.out" apply -i "$INV" -s "$WORK/snapshot.db" -p "$WORK/lingering-restore.yaml" \
    --runs "$RUNS" --yes
  RUN=$(run_id_of "$WORK/sshd-apply.out" || true)
  KILLED=0
  LATE="?"
  if [ -n "$RUN" ] && wait_step "$RUN" "$LOST_AT" started 120; then
    LATE=$(ms_since_start "$RUN" "$LOST_AT")
    "$LAB" sshd-kill "$LOST" && KILLED=1
  fi
  check "sshd-loss: $LOST's sshd killed once $LOST_AT started (seen after $LATE ms; $(step_state "$RUN" "$LOST_AT") just after the kill)" test $KILLED -eq 1
fi
if wanted sshd-loss && [ $KILLED -eq 0 ]; then
  failc "sshd-loss: not checked further: the fault was not injected"
  wait "$BG" || true
  echo "what drctl printed (run ${RUN:-not started}):"; tail -n 8 "$WORK/sshd-apply.out" | sed 's/^/    /'
elif wanted sshd-loss; then
  H0=$(now)
  RC=0; wait "$BG" || RC=$?
  printf 'drctl ended %s s after the kill; its last lines:\n' "$(elapsed "$H0" "$(now)")"
  tail -n 12 "$WORK/sshd-apply.out" | sed 's/^/    /'
  check "sshd-loss: drctl halted with exit $RC (want 1)" test "$RC" -eq 1
  check "sshd-loss: a message names $LOST and says it is unreachable or its connection was lost" \
    grep -qiE "FAILED.*($LOST|$(addr "$LOST")).*(unreachable|connection)" "$WORK/sshd-apply.out"
  check "sshd-loss: the resume command is printed" grep -q "drctl resume $RUN" "$WORK/sshd-apply.out"
  check "sshd-loss: the journal shows no API server started" \
    eval 'test -z "$(drctl status "$RUN" --runs "$RUNS" | awk '\''/^start-apiserver/ && !/not-started/'\'')"'
  for h in $(hosts); do check "sshd-loss: nothing answers on $h's API-server port" eval '! readyz "$h"'; done
  "$LAB" sshd-restart "$LOST"
  for h in $(hosts); do check "sshd-loss: $h's API-server stand-in is not running" eval '! apiserver_running "$h"'; done
  resume_and_check sshd-loss "$RUN"
  NEEDS_RESET=1
  printf 'sshd-loss scenario: %s s\n' "$(elapsed "$S0" "$(now)")"
fi

T1=$(now)
printf '\nfaults: %d hosts, seed %s, %s s in all, %s\n' "$HOSTS_N" "$SEED" "$(elapsed "$T0" "$T1")" \
  "$([ $FAILURES -eq 0 ] && echo 'every check passed' || echo "$FAILURES checks FAILED")"
echo "work dir: $WORK"
[ $FAILURES -eq 0 ]
