#!/usr/bin/env bash
# Separate NATS and etcd processes on loopback, for the cluster-mode tests.
#   .ci/cluster.sh start   start both and wait until they answer
#   .ci/cluster.sh env     print the variables the tests read
#   .ci/cluster.sh stop    stop both
# NATS runs with the users of deploy/nats/authorization.conf, as a deployment
# would: the server's user `conveyor` and the driver `compiler`, each with a
# password made at start (kept in the cluster dir, 0600, until stop).
set -euo pipefail

dir="${CONVEYOR_CLUSTER_DIR:-${TMPDIR:-/tmp}/conveyor-cluster}"
nats_port="${CONVEYOR_CLUSTER_NATS_PORT:-14222}"
etcd_port="${CONVEYOR_CLUSTER_ETCD_PORT:-12379}"
etcd_peer_port="${CONVEYOR_CLUSTER_ETCD_PEER_PORT:-12380}"
gobin="$(go env GOBIN 2>/dev/null || true)"
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
nats_bin="${NATS_SERVER_BIN:-$gobin/nats-server}"
etcd_bin="${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}"
authorization="$(cd "$(dirname "$0")/.." && pwd)/deploy/nats/authorization.conf"

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "cluster.sh: $name did not answer within 10s" >&2
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# password is 32 random hex digits after a letter: nats-server reads a value
# of digits alone, or digits and a size suffix such as 1e, as a number.
password() { printf 'p%s' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"; }

start() {
  [ -x "$nats_bin" ] || { echo "cluster.sh: no nats-server at $nats_bin (go install github.com/nats-io/nats-server/v2@v2.15.2)" >&2; exit 1; }
  [ -x "$etcd_bin" ] || { echo "cluster.sh: no etcd at $etcd_bin (apt-get install etcd-server)" >&2; exit 1; }
  stop >/dev/null 2>&1 || true
  mkdir -p "$dir/nats" "$dir/etcd"
  (umask 077 && printf 'NATS_CONVEYOR_PASSWORD=%s\nNATS_COMPILER_PASSWORD=%s\n' "$(password)" "$(password)" >"$dir/nats.passwords")
  # shellcheck disable=SC1091
  (set -a && . "$dir/nats.passwords" && exec "$nats_bin" --config "$authorization" \
    --addr 127.0.0.1 --port "$nats_port" --jetstream --store_dir "$dir/nats") >"$dir/nats.log" 2>&1 &
  echo $! >"$dir/nats.pid"
  ETCD_UNSUPPORTED_ARCH="${ETCD_UNSUPPORTED_ARCH:-}" "$etcd_bin" --name conveyor-test --data-dir "$dir/etcd/data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "conveyor-test=http://127.0.0.1:$etcd_peer_port" >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  wait_for nats port_open "$nats_port" || { tail -20 "$dir/nats.log" >&2; exit 1; }
  wait_for etcd curl -fsS "http://127.0.0.1:$etcd_port/health" || { tail -20 "$dir/etcd.log" >&2; exit 1; }
  echo "cluster.sh: nats on 127.0.0.1:$nats_port, etcd on 127.0.0.1:$etcd_port ($("$nats_bin" --version), $("$etcd_bin" --version | head -1))"
}

stop() {
  local pids=()
  for name in nats etcd; do
    if [ -f "$dir/$name.pid" ]; then
      pids+=("$(cat "$dir/$name.pid")")
      rm -f "$dir/$name.pid"
    fi
  done
  [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  rm -rf "$dir"
}

env_vars() {
  [ -f "$dir/nats.passwords" ] || { echo "cluster.sh: not started (.ci/cluster.sh start)" >&2; exit 1; }
  # shellcheck disable=SC1091
  . "$dir/nats.passwords"
  # The server's URL, and the driver compiler's (its user is its name).
  echo "export CONVEYOR_TEST_NATS_URL=nats://conveyor:$NATS_CONVEYOR_PASSWORD@127.0.0.1:$nats_port"
  echo "export CONVEYOR_TEST_NATS_DRIVER_URL=nats://compiler:$NATS_COMPILER_PASSWORD@127.0.0.1:$nats_port"
  echo "export CONVEYOR_TEST_ETCD_ENDPOINTS=http://127.0.0.1:$etcd_port"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_vars ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
