#!/bin/sh
# apiserver-ctl start|stop|status: the lab's service control for its API-server stand-in (the inventory's
# `command` kind). The stand-in is etcd's writer, like kube-apiserver: see sim/lab/apiserver_standin.cpp.
set -eu
RUN=/run/etcd-dr-lab
. "$RUN/host.env"
PIDFILE=$RUN/apiserver.pid

running() {
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
  [ "$state" != Z ]
}

case "${1:-}" in
  start)
    running && exit 0
    mkdir -p "$RUN/log"
    setsid "$RUN/bin/drlab-apiserver" --name "$NAME" --listen "$ADDR:6443" --etcd "http://127.0.0.1:2379" \
      --log "$RUN/log/apiserver.log" >> "$RUN/log/apiserver.out" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    ;;
  stop)
    running || exit 0
    kill -TERM "$pid" 2>/dev/null || true
    i=0
    while running; do
      i=$((i + 1))
      [ $i -eq 50 ] && kill -KILL "$pid" 2>/dev/null || true
      [ $i -gt 150 ] && { echo "apiserver-ctl: pid $pid will not stop" >&2; exit 1; }
      sleep 0.1
    done
    ;;
  status)
    running
    ;;
  *)
    echo "usage: apiserver-ctl start|stop|status" >&2
    exit 2
    ;;
esac
