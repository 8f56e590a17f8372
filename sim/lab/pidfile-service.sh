# Shared by etcd-ctl and apiserver-ctl (sourced; sets nothing until called): a daemon with a pid file, as the
# lab runs its services without systemd.

# running PIDFILE EXE: the pid file names a live process that runs EXE. Sets $pid. A zombie counts as gone (this
# machine's PID 1 reaps slowly), and so does a pid the kernel has given to another program since the daemon died
# (a pid file outlives a kill -9): such a process must be neither waited for nor signalled.
# Shell builtins only (no cat, no readlink): the service commands run in every step that starts, stops or checks a
# service, and on this machine each extra process costs ~4 ms of CPU that the lab's hosts share.
running() {
  [ -f "$1" ] || return 1
  pid=
  read -r pid < "$1" || [ -n "$pid" ] || return 1
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  # -ef: the link and EXE name the same file. A zombie has no exe link (and a gone process no /proc entry).
  [ "/proc/$pid/exe" -ef "$2" ]
}

# stop_daemon PIDFILE EXE NAME TERM_TENTHS: SIGTERM, then SIGKILL after TERM_TENTHS tenths of a second; fails if the
# process is still there 10 s after that.
stop_daemon() {
  running "$1" "$2" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  i=0
  while running "$1" "$2"; do
    i=$((i + 1))
    [ $i -eq "$4" ] && kill -KILL "$pid" 2>/dev/null || true
    [ $i -gt $(($4 + 100)) ] && { echo "$3: pid $pid will not stop" >&2; return 1; }
    sleep 0.1
  done
}
