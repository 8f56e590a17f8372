# Shared steps of lab scenarios (sourced by sim/lab/gameday.sh, sim/lab/faults.sh and bench/rto.sh; needs LAB,
# BUILD, HOSTS_N, WORK; CPUS_PER_HOST, when set, gives each host a CPU budget of its own: lab.sh up --cpus-per-host;
# SHARED_VAR_TMP, LOGIN_ENV and LOGIN_RC, when set, pass --shared-var-tmp, --login-env and --login-rc FILE).
# Each function does one thing of a game day on the lab made by sim/lab/lab.sh.

op() { "$LAB" op "$@"; }
on() { local h=$1; shift; "$LAB" exec "$h" "$@"; }
ectl() { op env ETCDCTL_API=3 etcdctl --command-timeout=5s "$@"; }
hosts() { for ((i = 1; i <= HOSTS_N; i++)); do echo "lab-$i"; done; }
addr() { echo "10.213.0.$((10 + ${1#lab-}))"; }
endpoints() { local e=""; for h in $(hosts); do e+="${e:+,}http://$(addr "$h"):2379"; done; echo "$e"; }
now() { date +%s.%N; }

# A scenario's checks: each prints PASS or FAIL; FAILURES counts the failed ones (the script exits 1 if any).
FAILURES=0
step() { printf '\n== %s\n' "$*"; }
pass() { printf 'PASS  %s\n' "$*"; }
failc() { printf 'FAIL  %s\n' "$*"; FAILURES=$((FAILURES + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else failc "$what"; fi; }
elapsed() { awk "BEGIN{printf \"%.2f\", $2 - $1}"; }

# The lab up with HOSTS_N hosts; sets INV to a copy of its inventory in WORK.
scenario_lab_up() {
  "$LAB" down >/dev/null 2>&1 || true
  "$LAB" up --hosts "$HOSTS_N" --build "$BUILD" ${CPUS_PER_HOST:+--cpus-per-host "$CPUS_PER_HOST"} \
    ${SHARED_VAR_TMP:+--shared-var-tmp} ${LOGIN_ENV:+--login-env} ${LOGIN_RC:+--login-rc "$LOGIN_RC"}
  cp "$("$LAB" inventory)" "$WORK/inventory.yaml"
  INV=$WORK/inventory.yaml
}

# KEYS keys of BYTES bytes under PREFIX, through lab-1.
scenario_load() {  # PREFIX KEYS BYTES
  op "$BUILD/sim/drlab-load" --etcd "http://$(addr lab-1):2379" --prefix "$1" --keys "$2" --value-bytes "$3"
}

scenario_snapshot() {  # FILE
  op "$BUILD/orchestrator/drctl" snapshot save -i "$INV" -o "$1"
}

# The disaster: every member's etcd killed and its data destroyed (the data dir itself stays, empty but for a
# marker, as after a disk wipe of the member's files).
scenario_disaster() {
  for h in $(hosts); do scenario_disaster_on "$h"; done
}
scenario_disaster_on() {  # HOST
  on "$1" sh -c 'kill -9 $(cat /run/etcd-dr-lab/etcd.pid) 2>/dev/null; sleep 0.2
                 rm -rf /var/lib/etcd/data/member /var/lib/etcd/data.*
                 mkdir -p /var/lib/etcd/data && echo "destroyed by the game day" > /var/lib/etcd/data/DISASTER'
}

# Leaves the lab as it was before a recovery ran, so the same disaster can be recovered again: old data dirs, staged
# snapshots and recovery locks of earlier runs removed (the game days check each run released its own), every
# API-server stand-in stopped, etcd killed and data destroyed.
scenario_reset_to_disaster() {
  for h in $(hosts); do
    on "$h" sh -c '/run/etcd-dr-lab/bin/apiserver-ctl stop; rm -rf /var/tmp/etcd-dr /var/lib/etcd/.etcd-dr-lock-*'
  done
  scenario_disaster
}

# The stand-ins for the components that cache etcd's state (sim/lab/component-ctl.sh) and the API-server stand-in:
# their starts and stops since MS (milliseconds since the epoch), one "MS start|stop" per line, oldest first.
now_ms() { date +%s%3N; }
component_events() {  # HOST ROLE SINCE_MS
  on "$1" cat "/run/etcd-dr-lab/log/$2.events" 2>/dev/null | awk -v since="$3" '$1 >= since'
}
apiserver_starts() {  # HOST SINCE_MS: the times the API-server stand-in started
  on "$1" cat /run/etcd-dr-lab/log/apiserver.log 2>/dev/null | awk -v since="$2" '$1 >= since && $2 == "started" {print $1}'
}

# key<TAB>value lines of every key under PREFIX on one endpoint, read locally (serializable) from that member.
dump() {  # ENDPOINT PREFIX
  ectl --endpoints="$1" get --prefix "$2" --consistency=s | paste - - | sort
}
cluster_id() { ectl --endpoints="$1" endpoint status -w json | grep -o '"cluster_id":[0-9]*' | head -1 | cut -d: -f2; }
# sha256 of every file under the host's etcd and kubernetes dirs (logs and pid files change by themselves).
# Directories too (an mkdir is a change), including the staging area the upload would use. LIVE_ETCD=1: a running
# member's own files (var/lib/etcd/data/member, which etcd writes by itself) are left out, every other path counts.
host_files_digest() {
  on "$1" env LIVE_ETCD="${LIVE_ETCD:-}" sh -c '
    prune=""; [ -z "$LIVE_ETCD" ] || prune="-path var/lib/etcd/data/member -prune -o"
    cd / && { find var/lib/etcd etc/kubernetes var/tmp/etcd-dr $prune -print 2>/dev/null | sort
              find var/lib/etcd etc/kubernetes var/tmp/etcd-dr $prune -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum; } | sha256sum'
}
# Around a command that must change nothing: every host's digest before (PHASE before), then after, compared.
hosts_digest() {  # LABEL PHASE
  for h in $(hosts); do host_files_digest "$h" > "$WORK/$1-$2-$h.sha"; done
}
check_hosts_unchanged() {  # LABEL WHAT
  hosts_digest "$1" after
  for h in $(hosts); do check "$2 left $h's files byte-identical" cmp -s "$WORK/$1-before-$h.sha" "$WORK/$1-after-$h.sha"; done
}

# What a snapshot holds, as dump prints it: restored into a throwaway etcd in the operator namespace (loopback
# ports of its own), read, and stopped. The expected state of every member after a recovery.
scenario_snapshot_contents() {  # SNAPSHOT OUT_KV
  local dir probe
  dir=$(mktemp -d "$WORK/snapshot-contents.XXXXXX")
  op env ETCDCTL_API=3 etcdctl snapshot restore "$1" --data-dir "$dir/data" --name probe \
    --initial-cluster probe=http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 >/dev/null
  # Through a pid file: $! would be the lab.sh wrapper, and killing it would leave etcd running.
  op sh -c 'echo $$ > "$1/probe.pid"; exec /usr/bin/etcd --name probe --data-dir "$1/data" \
    --listen-peer-urls http://127.0.0.1:23800 --listen-client-urls http://127.0.0.1:23790 \
    --advertise-client-urls http://127.0.0.1:23790' sh "$dir" >"$dir/probe.log" 2>&1 &
  for _ in $(seq 100); do ectl --endpoints=http://127.0.0.1:23790 endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
  dump http://127.0.0.1:23790 / > "$2"
  probe=$(cat "$dir/probe.pid")
  kill "$probe"
  while [ -e "/proc/$probe" ] && [ "$(sed 's/.*) //' "/proc/$probe/stat" 2>/dev/null | cut -c1)" != Z ]; do sleep 0.1; done
  rm -rf "$dir"
}
