#!/bin/sh
# component-ctl ROLE start|stop|status: the lab's stand-ins for the Kubernetes components that cache etcd's state
# (ROLE: kube-controller-manager, kube-scheduler or kubelet), controlled like a service of the `command` kind.
# Each is a daemon with a pid file whose program is its own copy of sleep(1) (so `running` tells them apart), and
# each start and stop is appended to log/ROLE.events as "MILLISECONDS start|stop": a game day reads from them that
# the restore stopped the components with the API servers and started them after, and restarted the kubelets
# before the API servers came back.
set -eu
RUN=/run/etcd-dr-lab
ROLE=${1:-}
case "$ROLE" in
  kube-controller-manager | kube-scheduler | kubelet) ;;
  *) echo "usage: component-ctl kube-controller-manager|kube-scheduler|kubelet start|stop|status" >&2; exit 2 ;;
esac
PIDFILE=$RUN/$ROLE.pid
EXE=$RUN/bin/drlab-$ROLE
EVENTS=$RUN/log/$ROLE.events

. "$RUN/bin/pidfile-service.sh"

event() { [ -d "$RUN/log" ] || mkdir -p "$RUN/log"; echo "$(date +%s%3N) $1" >> "$EVENTS"; }

case "${2:-}" in
  start)
    running "$PIDFILE" "$EXE" && exit 0
    [ -d "$RUN/log" ] || mkdir -p "$RUN/log"
    setsid "$EXE" 2147483647 < /dev/null > /dev/null 2>&1 &
    echo $! > "$PIDFILE"
    event start
    ;;
  stop)
    running "$PIDFILE" "$EXE" || exit 0
    stop_daemon "$PIDFILE" "$EXE" "component-ctl $ROLE" 50
    event stop
    ;;
  status)
    running "$PIDFILE" "$EXE"
    ;;
  *)
    echo "usage: component-ctl $ROLE start|stop|status" >&2
    exit 2
    ;;
esac
