#!/bin/sh
# apiserver-ctl start|stop|status: the lab's service control for its API-server stand-in (the inventory's
# `command` kind). The stand-in is etcd's writer, like kube-apiserver: see sim/lab/apiserver_standin.cpp.
set -eu
RUN=/run/etcd-dr-lab
. "$RUN/host.env"
PIDFILE=$RUN/apiserver.pid

. "$RUN/bin/pidfile-service.sh"

case "${1:-}" in
  start)
    running "$PIDFILE" "$RUN/bin/drlab-apiserver" && exit 0
    [ -d "$RUN/log" ] || mkdir -p "$RUN/log"
    setsid "$RUN/bin/drlab-apiserver" --name "$NAME" --listen "$ADDR:6443" --etcd "http://127.0.0.1:2379" \
      --log "$RUN/log/apiserver.log" >> "$RUN/log/apiserver.out" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    ;;
  stop)
    stop_daemon "$PIDFILE" "$RUN/bin/drlab-apiserver" apiserver-ctl 50
    ;;
  status)
    running "$PIDFILE" "$RUN/bin/drlab-apiserver"
    ;;
  *)
    echo "usage: apiserver-ctl start|stop|status" >&2
    exit 2
    ;;
esac
