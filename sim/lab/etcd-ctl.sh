#!/bin/sh
# etcd-ctl start|stop|status: the lab's service control for its etcd member (the inventory's `command` kind).
# Runs inside a lab host, where /run/etcd-dr-lab is that host's own run dir. There is no systemd here: the
# member is a plain daemon with a pid file.
set -eu
RUN=/run/etcd-dr-lab
. "$RUN/host.env"
PIDFILE=$RUN/etcd.pid

. "$RUN/bin/pidfile-service.sh"

case "${1:-}" in
  start)
    running "$PIDFILE" /usr/bin/etcd && exit 0
    [ -d "${DATA_DIR%/*}" ] && [ -d "$RUN/log" ] || mkdir -p "${DATA_DIR%/*}" "$RUN/log"
    # --initial-* only matter for an empty data dir; a restored or existing data dir carries its own membership.
    # A replacement member joins the running cluster: replace-member's start (member.service.join) exports
    # ETCD_INITIAL_CLUSTER_STATE=existing and the cluster's ETCD_INITIAL_CLUSTER. They are passed as flags and
    # taken out of the environment (etcd refuses a variable that a flag shadows).
    state=${ETCD_INITIAL_CLUSTER_STATE:-new}
    cluster=${ETCD_INITIAL_CLUSTER:-$INITIAL_CLUSTER}
    unset ETCD_INITIAL_CLUSTER_STATE ETCD_INITIAL_CLUSTER
    setsid /usr/bin/etcd --name "$NAME" --data-dir "$DATA_DIR" \
      --listen-peer-urls "http://$ADDR:2380" --initial-advertise-peer-urls "http://$ADDR:2380" \
      --listen-client-urls "http://$ADDR:2379,http://127.0.0.1:2379" --advertise-client-urls "http://$ADDR:2379" \
      --initial-cluster "$cluster" --initial-cluster-state "$state" --initial-cluster-token lab-initial \
      --heartbeat-interval 50 --election-timeout 500 \
      >> "$RUN/log/etcd.log" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    ;;
  stop)
    # etcd 3.4's SIGTERM shutdown can take a second or more: 20 s before SIGKILL.
    stop_daemon "$PIDFILE" /usr/bin/etcd etcd-ctl 200
    ;;
  status)
    running "$PIDFILE" /usr/bin/etcd
    ;;
  *)
    echo "usage: etcd-ctl start|stop|status" >&2
    exit 2
    ;;
esac
