#!/usr/bin/env bash
# The game-day lab: N real hosts on this one machine (see docs/lab.md).
#
#   lab.sh up [--hosts N] [--build DIR] [--cpus-per-host C] [--shared-var-tmp] [--login-env] [--login-rc FILE]
#                                         make the hosts and start sshd, etcd and the API-server stand-in on each;
#                                         with C (cores, e.g. 0.25) each host's processes share a CPU budget of their own;
#                                         --shared-var-tmp: every host sees one /var/tmp (co-located members);
#                                         --login-env: every SSH command pays root's login shell start-up, as on an
#                                         ordinary host (by default the lab skips it; see make_host);
#                                         --login-rc FILE: the same, with FILE as the hosts' /root/.bashrc (a start-up
#                                         of known cost, whatever this machine's own)
#   lab.sh down                           stop everything the lab started and remove it (idempotent)
#   lab.sh status                         what is running where
#   lab.sh exec HOST CMD...               run CMD inside HOST (its network and mount namespaces)
#   lab.sh op CMD...                      run CMD in the operator namespace (where drctl runs)
#   lab.sh inventory                      print the path of the inventory that describes the lab
#   lab.sh sshd-kill HOST                 kill -9 every sshd of HOST, open sessions included (a fault)
#   lab.sh sshd-restart HOST              start HOST's sshd again
#
# Each host is a network namespace on a private bridge; the bridge lives in a namespace of its own so nothing routes
# from the root namespace. Each host's sshd runs in a private mount namespace where /var/lib/etcd, /etc/kubernetes and
# /run/etcd-dr-lab are the host's own directories (and /var/tmp, where snapshots are staged): every command that arrives over SSH sees only that host's files.
# Addresses: hosts 10.213.0.11.., the operator 10.213.0.100. Traffic goes only to these namespaces.
# --cpus-per-host puts every process of a host (its sshd and all it starts, and `lab.sh exec`) in a CPU cgroup of
# the host's own with a quota of C cores: the hosts then do not compete for this machine's cores, as separate
# machines would not (bench/rto uses it; see docs/lab.md).
set -euo pipefail

LAB=${DR_LAB_ROOT:-/run/etcd-dr-lab}     # the controller's view: the operator's key, known_hosts
HOSTS=$LAB-hosts                          # per-host directories (outside $LAB: each host mounts its own run dir over $LAB)
PREFIX=drlab                              # namespace and interface prefix
SUBNET=10.213.0
OP_ADDR=$SUBNET.100
HERE=$(cd "$(dirname "$0")" && pwd)
CPU_PERIOD_US=10000                       # the budget's period: short, so a throttled host waits at most a few ms

die() { echo "lab: $*" >&2; exit 1; }
say() { echo "lab: $*" >&2; }

host_addr() { echo "$SUBNET.$((10 + $1))"; }
host_names() { local n; n=$(cat "$LAB/hosts.count" 2>/dev/null || echo 0); for ((i = 1; i <= n; i++)); do echo "lab-$i"; done; }
sshd_pid() { cat "$HOSTS/$1/sshd.pid" 2>/dev/null; }

# The CPU cgroups of --cpus-per-host. Written by hand against the kernel's files: there is no cgroup tool on a
# Debian machine without systemd (cgroup-tools' cgcreate is another package and knows only v1 anyway).
# cgroup v1 (a `cpu` hierarchy, as on this machine) or v2 (the unified hierarchy with the cpu controller).
cpu_cgroup_base() {
  if [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then echo /sys/fs/cgroup/cpu/$PREFIX
  elif [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
    echo /sys/fs/cgroup/$PREFIX
  else return 1; fi
}
host_cgroup() { [ -f "$LAB/cpus-per-host" ] && echo "$(cpu_cgroup_base)/$1"; }

make_cpu_cgroups() {  # CORES_PER_HOST COUNT
  local base quota i v2=0
  base=$(cpu_cgroup_base)  # cmd_up checked that there is one
  [ "$base" = /sys/fs/cgroup/$PREFIX ] && v2=1
  quota=$(awk -v c="$1" -v p=$CPU_PERIOD_US 'BEGIN{printf "%d", c * p}')
  mkdir -p "$base" || die "up: cannot make the cgroup $base"
  if [ $v2 -eq 1 ]; then
    echo +cpu > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    echo +cpu > "$base/cgroup.subtree_control" || die "up: cannot enable the cpu controller in $base"
  fi
  for ((i = 1; i <= $2; i++)); do
    mkdir -p "$base/lab-$i"
    if [ $v2 -eq 1 ]; then
      echo "$quota $CPU_PERIOD_US" > "$base/lab-$i/cpu.max"
    else
      echo $CPU_PERIOD_US > "$base/lab-$i/cpu.cfs_period_us" && echo "$quota" > "$base/lab-$i/cpu.cfs_quota_us"
    fi || die "up: cannot set a CPU quota of $1 cores on $base/lab-$i"
  done
  echo "$1" > "$LAB/cpus-per-host"
}

# Moves the calling (sub)shell into HOST's CPU cgroup, when the lab has them; what it starts stays there.
join_host_cgroup() {  # HOST
  local cg
  cg=$(host_cgroup "$1") || return 0
  echo "$BASHPID" > "$cg/cgroup.procs" || die "cannot move into $1's CPU cgroup $cg"
}

# Removes the lab's CPU cgroups. A cgroup can be removed once no task is in it; a killed task leaves it when it
# exits (before it is reaped), so this only waits for the kills `down` already waited for.
remove_cpu_cgroups() {
  local base cg deadline=$((SECONDS + 5))
  base=$(cpu_cgroup_base) || return 0
  [ -d "$base" ] || return 0
  for cg in "$base"/lab-* "$base"; do
    [ -d "$cg" ] || continue
    until rmdir "$cg" 2>/dev/null; do
      [ $SECONDS -lt $deadline ] || die "down: cannot remove the CPU cgroup $cg (tasks: $(tr '\n' ' ' < "$cg/cgroup.procs"))"
      sleep 0.1
    done
  done
}

# A process is gone when /proc/PID is missing or it is a zombie (this machine's PID 1 reaps slowly).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

preflight() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (it creates network namespaces and mounts)"
  ip netns add "$PREFIX-probe" 2>/dev/null || die "cannot create network namespaces here (ip netns add failed)"
  ip netns del "$PREFIX-probe"
  unshare --mount --propagation private true 2>/dev/null || die "cannot create mount namespaces here (unshare --mount failed)"
  for bin in /usr/sbin/sshd /usr/bin/etcd /usr/bin/etcdctl ssh-keygen; do
    command -v "$bin" >/dev/null || die "missing $bin (run ./run setup)"
  done
}

write_host_env() {  # NAME INDEX COUNT
  local name=$1 i=$2 n=$3 cluster="" endpoints=""
  for ((j = 1; j <= n; j++)); do
    cluster+="${cluster:+,}lab-$j=http://$(host_addr "$j"):2380"
    endpoints+="${endpoints:+,}http://$(host_addr "$j"):2379"
  done
  cat > "$HOSTS/$name/run/host.env" <<ENV
NAME=$name
ADDR=$(host_addr "$i")
INITIAL_CLUSTER=$cluster
ENDPOINTS=$endpoints
DATA_DIR=/var/lib/etcd/data
ENV
}

make_host() {  # NAME INDEX COUNT BUILD
  local name=$1 i=$2 n=$3 build=$4 dir="$HOSTS/$1" addr
  addr=$(host_addr "$i")
  mkdir -p "$dir"/{ssh,var-lib-etcd,var-tmp,etc-kubernetes/manifests,run/bin,run/log}
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/ssh/host_ed25519"
  # SHLVL=1: Debian's bash sources ~/.bashrc for every command sshd runs unless it is a nested shell, and this
  # machine's root .bashrc (pyenv init) costs about half a second per command. The lab measures recoveries, not
  # the image's shell start-up; drctl and the OpenSSH script in bench/rto get the same hosts.
  # With --login-env the hosts are ordinary instead: no SHLVL, and Debian's own sftp-server, which sshd also starts
  # through root's login shell (internal-sftp would skip it).
  local key_options='environment="SHLVL=1" ' user_env="PermitUserEnvironment SHLVL" sftp=internal-sftp
  if [ -e "$LAB/login-env" ]; then key_options="" user_env="PermitUserEnvironment no" sftp=/usr/lib/openssh/sftp-server; fi
  printf '%s%s\n' "$key_options" "$(cat "$LAB/id_ed25519.pub")" > "$dir/ssh/authorized_keys"
  cat > "$dir/ssh/sshd_config" <<CFG
ListenAddress $addr:22
HostKey $dir/ssh/host_ed25519
AuthorizedKeysFile $dir/ssh/authorized_keys
PidFile $dir/sshd.pidfile
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
$user_env
PrintMotd no
MaxSessions 64
MaxStartups 64:30:128
Subsystem sftp $sftp
CFG
  install -m 0755 "$HERE/etcd-ctl.sh" "$dir/run/bin/etcd-ctl"
  install -m 0755 "$HERE/apiserver-ctl.sh" "$dir/run/bin/apiserver-ctl"
  install -m 0755 "$HERE/component-ctl.sh" "$dir/run/bin/component-ctl"
  for role in kube-controller-manager kube-scheduler kubelet; do install -m 0755 "$(command -v sleep)" "$dir/run/bin/drlab-$role"; done
  install -m 0644 "$HERE/pidfile-service.sh" "$dir/run/bin/pidfile-service.sh"
  install -m 0755 "$build/sim/drlab-apiserver" "$dir/run/bin/drlab-apiserver"
  write_host_env "$name" "$i" "$n"
  echo "$addr $(cut -d' ' -f1,2 "$dir/ssh/host_ed25519.pub")" >> "$LAB/known_hosts"

  ip netns add "$PREFIX-$name"
  ip link add "dl-$name" netns "$PREFIX-$name" type veth peer name "db-$name" netns "$PREFIX-br"
  ip -n "$PREFIX-br" link set "db-$name" master br0 up
  ip -n "$PREFIX-$name" link set lo up
  ip -n "$PREFIX-$name" addr add "$addr/24" dev "dl-$name"
  ip -n "$PREFIX-$name" link set "dl-$name" up
  start_sshd "$name"
}

# sshd in the host's network namespace and a private mount namespace with the host's own directories.
# The host's run dir covers $LAB (the operator's key is not visible on the hosts). A restarted sshd gets a new
# mount namespace with the same bind mounts: the host's processes still in the old one see the very same files.
start_sshd() {  # NAME
  local dir="$HOSTS/$1" var_tmp="$HOSTS/$1/var-tmp" rc_mount=true
  [ -d "$HOSTS/shared-var-tmp" ] && var_tmp="$HOSTS/shared-var-tmp"
  # The hosts' /root/.bashrc, when --login-rc gave one (copied out of $LAB, which the run dir covers).
  if [ -e "$LAB/login-rc" ]; then
    cp "$LAB/login-rc" "$dir/login-rc"
    rc_mount="mount --bind '$dir/login-rc' /root/.bashrc"
  fi
  ( join_host_cgroup "$1"; exec ip netns exec "$PREFIX-$1" unshare --mount --propagation private /bin/sh -c "
    mkdir -p /var/lib/etcd /etc/kubernetes /run/etcd-dr-lab /run/sshd &&
    mount --bind '$dir/var-lib-etcd' /var/lib/etcd &&
    mount --bind '$dir/etc-kubernetes' /etc/kubernetes &&
    mount --bind '$var_tmp' /var/tmp &&
    mount --bind '$dir/run' /run/etcd-dr-lab &&
    $rc_mount &&
    exec /usr/sbin/sshd -D -e -f '$dir/ssh/sshd_config'" ) >> "$dir/sshd.log" 2>&1 &
  echo $! > "$dir/sshd.pid"
}

# The fault "a host's sshd dies": SIGKILL to every sshd of HOST, the listener and each connection's own sshd, so
# open sessions drop too (killing only the listener would leave drctl's established session working). etcd, the
# API-server stand-in and commands already running on the host are left alone.
cmd_sshd_kill() {  # HOST
  local ns="$PREFIX-$1" pids="" p
  [ -d "$HOSTS/$1" ] || die "sshd-kill: no such host $1"
  for p in $(ip netns pids "$ns" 2>/dev/null); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sshd ] && pids+=" $p"
  done
  [ -n "$pids" ] || die "sshd-kill: no sshd runs on $1"
  kill -KILL $pids
  for p in $pids; do while alive "$p"; do sleep 0.05; done; done
  say "sshd-kill: $1: killed sshd$pids"
}

cmd_sshd_restart() {  # HOST
  [ -d "$HOSTS/$1" ] || die "sshd-restart: no such host $1"
  alive "$(sshd_pid "$1")" && die "sshd-restart: $1's sshd is still running (pid $(sshd_pid "$1"))"
  start_sshd "$1"
  wait_port "$1" "$(host_addr "${1#lab-}")" 22 10
  say "sshd-restart: $1: sshd listening again (pid $(sshd_pid "$1"))"
}

wait_port() {  # NAME ADDR PORT SECONDS
  local deadline=$((SECONDS + $4))
  until ip netns exec "$PREFIX-op" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || die "$1: nothing listens on $2:$3 after $4 s (see $HOSTS/$1/*.log)"
    sleep 0.1
  done
}

cmd_up() {
  local n=3 build=${DR_BUILD_DIR:-$HERE/../../build} cpus="" shared_var_tmp=0 login_env=0 login_rc=""
  while [ $# -gt 0 ]; do
    case $1 in
      --hosts) n=$2; shift 2 ;;
      --build) build=$2; shift 2 ;;
      --cpus-per-host) cpus=$2; shift 2 ;;
      --shared-var-tmp) shared_var_tmp=1; shift ;;
      --login-env) login_env=1; shift ;;
      --login-rc) login_env=1; login_rc=$2; shift 2 ;;
      *) die "up: unknown option $1" ;;
    esac
  done
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 9 ] || die "up: --hosts must be 1..9"
  [ -z "$login_rc" ] || [ -f "$login_rc" ] || die "up: --login-rc: no such file '$login_rc'"
  [ -z "$login_rc" ] || [ -f /root/.bashrc ] || die "up: --login-rc needs a /root/.bashrc here to mount it over"
  if [ -n "$cpus" ]; then
    [[ $cpus =~ ^[0-9]*\.?[0-9]+$ ]] && awk -v c="$cpus" 'BEGIN{exit !(c >= 0.05 && c <= 64)}' ||
      die "up: --cpus-per-host must be a number of cores from 0.05 to 64 (e.g. 0.25), not '$cpus'"
    cpu_cgroup_base >/dev/null ||
      die "up: --cpus-per-host needs the cgroup cpu controller (cgroup v1 at /sys/fs/cgroup/cpu, or v2 with cpu in /sys/fs/cgroup/cgroup.controllers); this machine has neither"
    awk -v c="$cpus" -v n="$n" -v m="$(nproc)" 'BEGIN{exit !(c * n > m)}' &&
      say "up: warning: $n hosts x $cpus cores is more than this machine's $(nproc): the hosts will still compete for cores"
  fi
  [ -x "$build/sim/drlab-apiserver" ] || die "up: $build/sim/drlab-apiserver not built (./run build)"
  preflight
  [ -e "$LAB/hosts.count" ] && die "a lab is already up ($LAB); run: $0 down"
  cmd_down >/dev/null 2>&1 || true
  mkdir -p "$LAB"
  echo "$n" > "$LAB/hosts.count"
  if [ $login_env -eq 1 ]; then touch "$LAB/login-env"; fi
  if [ -n "$login_rc" ]; then install -m 0644 "$login_rc" "$LAB/login-rc"; fi
  ssh-keygen -q -t ed25519 -N '' -C drlab-operator -f "$LAB/id_ed25519"
  : > "$LAB/known_hosts"
  write_inventory "$n"
  [ -z "$cpus" ] || make_cpu_cgroups "$cpus" "$n"
  # One /var/tmp for every host, sticky and world-writable like the real one: the hosts' sshd mount it (start_sshd).
  if [ $shared_var_tmp -eq 1 ]; then mkdir -p "$HOSTS/shared-var-tmp" && chmod 1777 "$HOSTS/shared-var-tmp"; fi

  ip netns add "$PREFIX-br"
  ip -n "$PREFIX-br" link add br0 type bridge
  ip -n "$PREFIX-br" link set br0 up
  ip netns add "$PREFIX-op"
  ip link add "dl-op" netns "$PREFIX-op" type veth peer name "db-op" netns "$PREFIX-br"
  ip -n "$PREFIX-br" link set db-op master br0 up
  ip -n "$PREFIX-op" link set lo up
  ip -n "$PREFIX-op" addr add "$OP_ADDR/24" dev dl-op
  ip -n "$PREFIX-op" link set dl-op up

  for ((i = 1; i <= n; i++)); do make_host "lab-$i" "$i" "$n" "$(cd "$build" && pwd)"; done
  for name in $(host_names); do wait_port "$name" "$(host_addr "${name#lab-}")" 22 10; done
  for name in $(host_names); do cmd_exec "$name" /run/etcd-dr-lab/bin/etcd-ctl start; done
  for name in $(host_names); do wait_port "$name" "$(host_addr "${name#lab-}")" 2379 20; done
  local endpoints
  endpoints=$(grep ^ENDPOINTS= "$HOSTS/lab-1/run/host.env" | cut -d= -f2)
  local deadline=$((SECONDS + 30))
  until ip netns exec "$PREFIX-op" env ETCDCTL_API=3 etcdctl --endpoints="$endpoints" endpoint health >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "etcd cluster not healthy after 30 s (see $HOSTS/*/run/log/etcd.log)"
    sleep 0.2
  done
  for name in $(host_names); do
    cmd_exec "$name" /run/etcd-dr-lab/bin/apiserver-ctl start
    for role in kube-controller-manager kube-scheduler kubelet; do cmd_exec "$name" /run/etcd-dr-lab/bin/component-ctl $role start; done
  done
  say "up: $n hosts ($(host_names | tr '\n' ' ')), etcd healthy, API-server, controller-manager, scheduler and kubelet stand-ins started"
  say "inventory: $(cmd_inventory)"
}

cmd_down() {
  local ns pids
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill -TERM $pids 2>/dev/null || true
  done
  # Give daemons a moment for a clean exit, then make sure.
  local deadline=$((SECONDS + 5)) left
  while :; do
    left=""
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true); do
      for p in $(ip netns pids "$ns" 2>/dev/null || true); do alive "$p" && left+=" $p"; done
    done
    [ -z "$left" ] && break
    if [ $SECONDS -ge $deadline ]; then kill -KILL $left 2>/dev/null || true; sleep 0.2; fi
    [ $SECONDS -ge $((deadline + 5)) ] && die "down: processes will not die:$left"
    sleep 0.1
  done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  remove_cpu_cgroups
  rm -rf "$LAB" "$HOSTS"
  say "down: nothing left"
}

cmd_status() {
  [ -e "$LAB/hosts.count" ] || { echo "lab is down"; return 0; }
  for name in $(host_names); do
    printf '%-6s %-12s sshd:%s etcd:%s apiserver:%s\n' "$name" "$(host_addr "${name#lab-}")" \
      "$(alive "$(sshd_pid "$name")" && echo up || echo down)" \
      "$(cmd_exec "$name" /run/etcd-dr-lab/bin/etcd-ctl status >/dev/null 2>&1 && echo up || echo down)" \
      "$(cmd_exec "$name" /run/etcd-dr-lab/bin/apiserver-ctl status >/dev/null 2>&1 && echo up || echo down)"
  done
}

cmd_exec() {
  local name=$1; shift
  local pid
  pid=$(sshd_pid "$name") || die "exec: no such host $name"
  alive "$pid" || die "exec: $name's sshd (pid $pid) is not running"
  ( join_host_cgroup "$name"; exec nsenter --target "$pid" --net --mount -- "$@" )
}

cmd_op() { ip netns exec "$PREFIX-op" "$@"; }

cmd_inventory() { echo "$LAB/inventory.yaml"; }

# The inventory that describes the lab, the same shape as inventory/lab-3.yaml for any number of hosts.
write_inventory() {  # COUNT
  local n=$1 out="$LAB/inventory.yaml"
  cat > "$out" <<YAML
# The game-day lab made by sim/lab/lab.sh: $n hosts in network namespaces on this machine.
cluster: lab
defaults:
  ssh: {user: root, port: 22, identity_file: $LAB/id_ed25519, known_hosts: $LAB/known_hosts, become: none}
  data_dir: /var/lib/etcd/data
  etcd_user: root
  etcd_group: root
  etcd_service: {kind: command, start: /run/etcd-dr-lab/bin/etcd-ctl start, stop: /run/etcd-dr-lab/bin/etcd-ctl stop, status: /run/etcd-dr-lab/bin/etcd-ctl status}
  apiserver_service: {kind: command, start: /run/etcd-dr-lab/bin/apiserver-ctl start, stop: /run/etcd-dr-lab/bin/apiserver-ctl stop, status: /run/etcd-dr-lab/bin/apiserver-ctl status}
  controller_manager_service: {kind: command, start: /run/etcd-dr-lab/bin/component-ctl kube-controller-manager start, stop: /run/etcd-dr-lab/bin/component-ctl kube-controller-manager stop, status: /run/etcd-dr-lab/bin/component-ctl kube-controller-manager status}
  scheduler_service: {kind: command, start: /run/etcd-dr-lab/bin/component-ctl kube-scheduler start, stop: /run/etcd-dr-lab/bin/component-ctl kube-scheduler stop, status: /run/etcd-dr-lab/bin/component-ctl kube-scheduler status}
  kubelet_service: {kind: command, start: /run/etcd-dr-lab/bin/component-ctl kubelet start, stop: /run/etcd-dr-lab/bin/component-ctl kubelet stop, status: /run/etcd-dr-lab/bin/component-ctl kubelet status}
tooling:
  restore_tool: etcdctl
  etcdctl: /usr/bin/etcdctl
  bump_revision: false
members:
YAML
  for ((i = 1; i <= n; i++)); do
    local a; a=$(host_addr "$i")
    printf '  - {name: lab-%d, address: %s, peer_url: http://%s:2380, client_url: http://%s:2379}\n' "$i" "$a" "$a" "$a" >> "$out"
  done
  echo "api_servers:" >> "$out"
  for ((i = 1; i <= n; i++)); do
    printf '  - {host: lab-%d, readyz_url: http://%s:6443/readyz}\n' "$i" "$(host_addr "$i")" >> "$out"
  done
  local list
  for list in controller_managers schedulers kubelets; do
    echo "$list:" >> "$out"
    for ((i = 1; i <= n; i++)); do printf '  - {host: lab-%d}\n' "$i" >> "$out"; done
  done
}

main() {
  local cmd=${1:-}; shift || true
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    exec) [ $# -ge 2 ] || die "usage: lab.sh exec HOST CMD..."; cmd_exec "$@" ;;
    op) cmd_op "$@" ;;
    sshd-kill) [ $# -eq 1 ] || die "usage: lab.sh sshd-kill HOST"; cmd_sshd_kill "$1" ;;
    sshd-restart) [ $# -eq 1 ] || die "usage: lab.sh sshd-restart HOST"; cmd_sshd_restart "$1" ;;
    inventory) cmd_inventory ;;
    *) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0" | sed 's/^# \{0,1\}//'; [ -z "$cmd" ] || exit 2 ;;
  esac
}
main "$@"
