#!/bin/sh
# etcd-ctl start|stop|status: the lab's service control for its etcd member (the inventory's `command` kind).
# Runs inside a lab host, where /run/etcd-dr-lab is that host's own run dir. There is no systemd here: the
# member is a plain daemon with a pid file.
set -eu
RUN=/run/etcd-dr-lab
. "$RUN/host.env"
PIDFILE=$RUN/etcd.pid

# Running means: the pid file names a live process (a zombie counts as gone: this machine reaps slowly).
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
    mkdir -p "$(dirname "$DATA_DIR")" "$RUN/log"
    # --initial-* only matter for an empty data dir; a restored or existing data dir carries its own membership.
    setsid /usr/bin/etcd --name "$NAME" --data-dir "$DATA_DIR" \
      --listen-peer-urls "http://$ADDR:2380" --initial-advertise-peer-urls "http://$ADDR:2380" \
      --listen-client-urls "http://$ADDR:2379,http://127.0.0.1:2379" --advertise-client-urls "http://$ADDR:2379" \
      --initial-cluster "$INITIAL_CLUSTER" --initial-cluster-state new --initial-cluster-token lab-initial \
      --heartbeat-interval 50 --election-timeout 500 \
      >> "$RUN/log/etcd.log" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    ;;
  stop)
    running || exit 0
    kill -TERM "$pid" 2>/dev/null || true
    # etcd 3.4's SIGTERM shutdown can take a second or more; give it 20 s, then kill.
    i=0
    while running; do
      i=$((i + 1))
      [ $i -eq 200 ] && kill -KILL "$pid" 2>/dev/null || true
      [ $i -gt 300 ] && { echo "etcd-ctl: pid $pid will not stop" >&2; exit 1; }
      sleep 0.1
    done
    ;;
  status)
    running
    ;;
  *)
    echo "usage: etcd-ctl start|stop|status" >&2
    exit 2
    ;;
esac
