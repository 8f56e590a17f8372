# Shared by etcd-ctl and apiserver-ctl (sourced; sets nothing until called): a daemon with a pid file, as the
# lab runs its services without systemd.

# running PIDFILE: the pid file names a live process (a zombie counts as gone: this machine's PID 1 reaps slowly).
# Sets $pid.
running() {
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
  [ "$state" != Z ]
}

# stop_daemon PIDFILE NAME TERM_TENTHS: SIGTERM, then SIGKILL after TERM_TENTHS tenths of a second; fails if the
# process is still there 10 s after that.
stop_daemon() {
  running "$1" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  i=0
  while running "$1"; do
    i=$((i + 1))
    [ $i -eq "$3" ] && kill -KILL "$pid" 2>/dev/null || true
    [ $i -gt $(($3 + 100)) ] && { echo "$2: pid $pid will not stop" >&2; return 1; }
    sleep 0.1
  done
}
