# shellcheck shell=bash
# cluster-node.sh — one node of a throw-away Redis Cluster on 127.0.0.1: its redis.conf,
# starting it, and finding its PID. local-cluster.sh uses it for its 6 nodes and chaos.sh
# for the extra node of its scale-out phase, so every node is configured alike.
#
# Usage (sourced; only defines functions, changes no shell option):
#   source "$ROOT/deploy/lib/cluster-node.sh"
#   slotgate_write_node_conf PORT DIR NODE_TIMEOUT_MS [TLS_DIR]
#       mkdir -p DIR, then write DIR/redis.conf: cluster mode on 127.0.0.1:PORT (bus PORT+10000),
#       daemonized, with its pidfile, log and nodes-PORT.conf in DIR, no persistence; with
#       TLS_DIR, PORT, the bus and replication speak only TLS (TLS_DIR/ca.crt, server.crt,
#       server.key; clients must show a certificate the CA signed)
#   slotgate_start_node DIR
#       redis-server DIR/redis.conf (it daemonizes), without our inherited descriptors
#   slotgate_node_pid DIR
#       print the PID of DIR's redis-server; exit 1 when there is none alive
#   slotgate_without_inherited_fds COMMAND [ARG...]
#
# DIR must be an absolute, symlink-free path: redis chdirs into it, and slotgate_node_pid
# compares it with the process's /proc/PID/cwd.

slotgate_write_node_conf() {
  local port=$1 dir=$2 node_timeout_ms=$3 tls_dir=${4:-}
  local listen="port $port"
  if [[ -n "$tls_dir" ]]; then
    listen="port 0
tls-port $port
tls-cluster yes
tls-replication yes
tls-cert-file $tls_dir/server.crt
tls-key-file $tls_dir/server.key
tls-ca-cert-file $tls_dir/ca.crt"
  fi
  mkdir -p "$dir"
  cat >"$dir/redis.conf" <<CONF
$listen
bind 127.0.0.1
protected-mode no
cluster-enabled yes
cluster-config-file nodes-$port.conf
cluster-node-timeout $node_timeout_ms
dir $dir
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
save ""
appendonly no
enable-debug-command local
# Replicas sync right away instead of after the default 5 s batching delay.
repl-diskless-sync-delay 0
CONF
}

# Run a command with every inherited file descriptor above 2 closed, so a daemonized
# redis-server keeps none of our caller's pipes or sockets open. (Foundation's Process,
# for one, treats a script as running until a socket it passed down is closed, so
# `local-cluster.sh start` would never seem to finish.)
slotgate_without_inherited_fds() {
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec "$@"
  )
}

# Start the node whose redis.conf is in DIR. Returns redis-server's status: 0 once it has
# daemonized, not once it answers PING (the caller waits for that, bounded).
slotgate_start_node() {
  slotgate_without_inherited_fds redis-server "$1/redis.conf" </dev/null >/dev/null
}

# PID from DIR/redis.pid, printed only if that process is alive and really is the
# redis-server of this node (its cwd is DIR), so a recycled PID is never mistaken for ours.
slotgate_node_pid() {
  local dir=$1 pid cwd
  [[ -r "$dir/redis.pid" ]] || return 1
  pid=$(<"$dir/redis.pid")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == redis-server ]] || return 1
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
  [[ "$cwd" == "$dir" ]] || return 1
  echo "$pid"
}
