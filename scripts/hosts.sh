#!/usr/bin/env bash
# Test hosts on this machine: network namespaces k2h1..k2hN on a bridge, each running its
# own sshd with its own hostname (and, with --private DIR, its own empty DIR, so a file the
# controller writes there is not seen by the hosts). Root only; idempotent.
#
#   scripts/hosts.sh up [--hosts N] [--private DIR]...   make (or keep) the hosts
#   scripts/hosts.sh args [WORKERS_PER_HOST] [PYTHON]    the --px/--tx arguments for them
#   scripts/hosts.sh check                               ssh to each host, print its name
#   scripts/hosts.sh down                                stop sshd, remove namespaces
#
# State (keys, configs, pid files) in $K2_HOSTS_DIR (default /tmp/k2hosts). The bridge is
# k2br0 at 10.231.0.1/24 (the address services listen on for the hosts); host i is
# 10.231.0.(10+i). Needs iproute2 and openssh-server (apt-get install -y iproute2
# openssh-server). docs/hosts.md is the recipe this serves.
set -euo pipefail

STATE=${K2_HOSTS_DIR:-/tmp/k2hosts}
BRIDGE=k2br0
NET=10.231.0
SSHD=${SSHD:-/usr/sbin/sshd}

die() { echo "hosts.sh: $*" >&2; exit 2; }

need() {
  [ "$(id -u)" -eq 0 ] || die "network namespaces need root (run as root, or use the proxies on this machine: docs/hosts.md)"
  command -v ip >/dev/null || die "ip not found: apt-get install -y iproute2"
  [ -x "$SSHD" ] || die "$SSHD not found: apt-get install -y openssh-server"
}

hosts_up() {
  local count=2 private=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --hosts) count=$2; shift 2 ;;
      --private) private+=("$(realpath -m "$2")"); shift 2 ;;
      *) die "up: unknown argument $1 (--hosts N, --private DIR)" ;;
    esac
  done
  need
  mkdir -p "$STATE" /run/sshd
  chmod 700 "$STATE"
  [ -f "$STATE/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$STATE/id_ed25519"
  [ -f "$STATE/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$STATE/host_ed25519"
  cp "$STATE/id_ed25519.pub" "$STATE/authorized_keys"
  : > "$STATE/ssh_config"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  for i in $(seq 1 "$count"); do
    local ns=k2h$i addr=$NET.$((10 + i))
    if ! ip netns list | grep -qw "$ns"; then
      ip netns add "$ns"
      ip link add "k2v$i" type veth peer name eth0 netns "$ns"
      ip link set "k2v$i" master "$BRIDGE" up
      ip -n "$ns" addr add "$addr/24" dev eth0
      ip -n "$ns" link set eth0 up
      ip -n "$ns" link set lo up
      ip -n "$ns" route add default via "$NET.1"
    fi
    cat > "$STATE/sshd_$ns.conf" <<EOF
ListenAddress $addr
HostKey $STATE/host_ed25519
PidFile $STATE/sshd_$ns.pid
AuthorizedKeysFile $STATE/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
MaxStartups 64
MaxSessions 64
EOF
    cat >> "$STATE/ssh_config" <<EOF
Host $ns
  HostName $addr
  User root
  IdentityFile $STATE/id_ed25519
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  BatchMode yes
  LogLevel ERROR
EOF
    if [ -f "$STATE/sshd_$ns.pid" ] && kill -0 "$(cat "$STATE/sshd_$ns.pid")" 2>/dev/null; then
      continue  # already serving
    fi
    local mounts=""
    for dir in "${private[@]}"; do
      mkdir -p "$dir"
      mounts+="mount -t tmpfs k2private '$dir'; "
    done
    # its own hostname (UTS namespace) and mounts; sshd detaches and writes its pid file
    ip netns exec "$ns" unshare --uts --mount --propagation private \
      sh -c "hostname $ns; $mounts exec $SSHD -f '$STATE/sshd_$ns.conf'"
    for _ in $(seq 1 50); do [ -s "$STATE/sshd_$ns.pid" ] && break; sleep 0.1; done
    [ -s "$STATE/sshd_$ns.pid" ] || die "sshd in $ns did not start (see $STATE/sshd_$ns.conf)"
  done
  echo "$count" > "$STATE/count"
  echo "hosts up: $(seq -s ' ' -f 'k2h%g' 1 "$count") (ssh -F $STATE/ssh_config k2h1)"
}

hosts_args() {
  local per=${1:-1} python=${2:-$(pwd)/.venv/bin/python} count
  count=$(cat "$STATE/count" 2>/dev/null) || die "no hosts: run scripts/hosts.sh up first"
  for i in $(seq 1 "$count"); do
    printf -- '--px id=k2h%s//ssh=k2h%s//ssh_config=%s/ssh_config//python=%s ' \
      "$i" "$i" "$STATE" "$python"
    printf -- '--tx %s*popen//via=k2h%s ' "$per" "$i"
  done
  echo
}

hosts_check() {
  local count
  count=$(cat "$STATE/count" 2>/dev/null) || die "no hosts: run scripts/hosts.sh up first"
  for i in $(seq 1 "$count"); do
    ssh -F "$STATE/ssh_config" "k2h$i" hostname
  done
}

hosts_down() {
  for pid_file in "$STATE"/sshd_*.pid; do
    [ -f "$pid_file" ] || continue
    kill "$(cat "$pid_file")" 2>/dev/null || true
    rm -f "$pid_file"
  done
  for ns in $(ip netns list 2>/dev/null | awk '/^k2h[0-9]+/ {print $1}'); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns"
  done
  ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE"
  rm -f "$STATE/count"
  echo "hosts down"
}

case "${1:-}" in
  up) shift; hosts_up "$@" ;;
  args) shift; hosts_args "$@" ;;
  check) hosts_check ;;
  down) hosts_down ;;
  *) die "usage: scripts/hosts.sh up [--hosts N] [--private DIR]... | args [PER_HOST] [PYTHON] | check | down" ;;
esac
