#!/usr/bin/env bash
# Runs real key/value stores (and a Prometheus) on 127.0.0.1 for integration tests and local experiments.
#
#   scripts/stores.sh install <store|go>     install the server (or the Go toolchain) if missing (idempotent)
#   scripts/stores.sh start <store> <dir>    install if needed, start with throwaway data under <dir>/<store>/,
#                                            wait until it answers, print its client endpoint (host:port)
#   scripts/stores.sh stop <store> <dir>     stop it (TERM, then KILL after a grace) and remove its data
#   scripts/stores.sh restart <store> <dir> [down-seconds]
#                                            stop it, wait down-seconds (default 0), start the same command on
#                                            the same port with the same data (etcd and zookeeper keep theirs)
#
#   scripts/stores.sh start-cluster <etcd|zookeeper> <dir>
#                                            a 3-member cluster under <dir>/<store>-cluster/ (one data dir per
#                                            member); returns once it has a leader, printing the members'
#                                            client endpoints, one per line, member 1 first
#   scripts/stores.sh stop-cluster <etcd|zookeeper> <dir>
#   scripts/stores.sh stop-member <etcd|zookeeper> <dir> <n> [TERM|KILL]
#                                            stop member n (1-3), keeping its data; KILL is a crash (no grace)
#   scripts/stores.sh start-member <etcd|zookeeper> <dir> <n>
#                                            start member n again on its ports with its data, wait until it
#                                            serves (rejoined the cluster), print its client endpoint
#   (cluster commands: scripts/store-clusters.sh)
#
# <store> is one of: etcd zookeeper redis consul prometheus.
# Files under <dir>: <store>.pid (server pid), <store>.endpoint (host:port), <store>/ (data, config, server.log).
# Prometheus reads <dir>/prometheus/prometheus.yml (no scrape jobs at start) and runs with
# --web.enable-lifecycle, so a test rewrites that file and POSTs /-/reload; its TSDB is <dir>/prometheus/data.
# The conventional port (2379, 2181, 6379, 8500, 9090) is used when free, else a random free one: several test
# runs on one machine must not collide. Only the endpoint goes to stdout; progress and errors go to stderr.
#
# Servers come from Debian packages (apt-get), except consul, which bookworm lacks: its bullseye .deb is
# fetched with a private apt state (signature-checked against the system keyring) and unpacked under
# .stores/cache/ in the repository; nothing of it is installed system-wide. The prometheus package would run
# a system-wide service: the install stops and disables it (tests run their own instances).
#
# Tunables (environment): STORES_READY_TIMEOUT (seconds, default 60), STORES_STOP_GRACE (seconds, default 10),
# STORES_CACHE (default <repo>/.stores).
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STORES_CACHE=${STORES_CACHE:-$REPO_DIR/.stores}
READY_TIMEOUT=${STORES_READY_TIMEOUT:-60}
STOP_GRACE=${STORES_STOP_GRACE:-10}
STORES=(etcd zookeeper redis consul prometheus)
# Installed on request only: nothing to start.
TOOLS=(go)
HOST=127.0.0.1

log() { echo "stores: $*" >&2; }
die() {
  log "$*"
  exit 1
}

usage() {
  cat >&2 <<EOF
usage: $0 install <store|tool>
       $0 start <store> <dir>
       $0 stop <store> <dir>
       $0 restart <store> <dir> [down-seconds]
       $0 start-cluster <cluster-store> <dir>
       $0 stop-cluster <cluster-store> <dir>
       $0 stop-member <cluster-store> <dir> <n> [TERM|KILL]
       $0 start-member <cluster-store> <dir> <n>
stores: ${STORES[*]}
tools: ${TOOLS[*]}
cluster-stores: ${CLUSTER_STORES[*]}
EOF
  exit 2
}

as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# Serialises installs: concurrent starts (several stores at once, several test runs) must not race apt/dpkg.
with_install_lock() {
  mkdir -p "$STORES_CACHE"
  (
    exec 9>"$STORES_CACHE/.install.lock"
    flock -w 900 9 || die "timed out waiting for another install to finish"
    "$@"
  )
}

# ---------------------------------------------------------------------------------------------- install

apt_lists_fresh() {
  # Lists younger than a day that exist at all; a fresh CI machine has none.
  [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null) ]]
}

apt_install() {
  local out
  out=$(mktemp)
  local opts=(-y -q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600 --no-install-recommends)
  if ! apt_lists_fresh || ! apt-cache show "$@" >/dev/null 2>&1; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 update >"$out" 2>&1 ||
      { cat "$out" >&2; rm -f "$out"; die "apt-get update failed"; }
  fi
  log "apt-get install $*"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" "$@" >"$out" 2>&1; then
    # Stale lists point at superseded .debs (404): refresh once and retry.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 update >>"$out" 2>&1 || true
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" "$@" >>"$out" 2>&1; then
      tail -n 30 "$out" >&2
      rm -f "$out"
      die "apt-get install $* failed"
    fi
  fi
  rm -f "$out"
}

etcd_bin() { command -v etcd || command -v etcd-server; }
zookeeper_jar() { [[ -f /usr/share/java/zookeeper.jar ]] && command -v java >/dev/null && echo /usr/share/java/zookeeper.jar; }
redis_bin() { command -v redis-server; }
consul_bin() {
  local cached=$STORES_CACHE/cache/consul/usr/bin/consul
  if [[ -x $cached ]]; then echo "$cached"; else command -v consul; fi
}

# Readiness checks of etcd and consul speak HTTP.
need_curl() { command -v curl >/dev/null || apt_install curl; }

install_etcd() {
  need_curl
  etcd_bin >/dev/null || apt_install etcd-server etcd-client
}
install_zookeeper() { zookeeper_jar >/dev/null || apt_install zookeeper; }
install_redis() { { redis_bin >/dev/null && command -v redis-cli >/dev/null; } || apt_install redis-server redis-tools; }

install_prometheus() {
  need_curl
  { command -v prometheus >/dev/null && command -v promtool >/dev/null; } || apt_install prometheus
  stop_system_prometheus
}

# The package's maintainer scripts enable and start a system-wide prometheus (systemd unit, or its init.d
# script where systemd is not running). Tests start their own on free ports; a system one would hold 9090 and
# scrape this machine for nothing. Runs after every install, so a service that came back is stopped again.
stop_system_prometheus() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    if systemctl is-enabled --quiet prometheus 2>/dev/null || systemctl is-active --quiet prometheus 2>/dev/null; then
      log "stopping and disabling the system prometheus service"
      as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
  fi
  if [[ -x /etc/init.d/prometheus ]]; then
    if compgen -G '/etc/rc[2-5].d/S*prometheus' >/dev/null; then
      as_root update-rc.d prometheus disable >/dev/null 2>&1 || true
    fi
    if /etc/init.d/prometheus status >/dev/null 2>&1; then
      log "stopping the system prometheus service"
      as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    fi
  fi
  # Whatever started it: the service runs as the package's own user, test instances never do.
  local pids
  pids=$(pgrep -u prometheus -x prometheus 2>/dev/null || true)
  if [[ -n $pids ]]; then
    log "stopping the system prometheus (pid $(echo $pids))"
    # shellcheck disable=SC2086
    as_root kill -TERM $pids 2>/dev/null || true
  fi
}

# Go (a test oracle needs the reference implementation's template engine); bookworm's golang-go.
install_go() { command -v go >/dev/null || apt_install golang-go; }

# The URI of the Debian mirror the system itself uses for its own release (deb822 .sources or sources.list).
debian_mirror() {
  local codename uri
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  uri=$(
    {
      for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        awk -v codename="$codename" '
          BEGIN { RS = ""; FS = "\n" }
          {
            uris = ""; suites = ""; types = ""; enabled = "yes"
            for (i = 1; i <= NF; i++) {
              line = $i
              if (line ~ /^#/) continue
              if (match(line, /^URIs:[ \t]*/)) uris = substr(line, RLENGTH + 1)
              else if (match(line, /^Suites:[ \t]*/)) suites = substr(line, RLENGTH + 1)
              else if (match(line, /^Types:[ \t]*/)) types = substr(line, RLENGTH + 1)
              else if (match(line, /^Enabled:[ \t]*/)) enabled = tolower(substr(line, RLENGTH + 1))
            }
            if (enabled == "no" || types !~ /(^|[ \t])deb([ \t]|$)/) next
            n = split(suites, s, /[ \t]+/)
            for (j = 1; j <= n; j++) if (s[j] == codename) { split(uris, u, /[ \t]+/); print u[1] }
          }' "$f"
      done
      for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        awk -v codename="$codename" '
          $1 == "deb" {
            i = 2
            if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
            if ($(i + 1) == codename) print $i
          }' "$f"
      done
    } | grep -E '^https?://' | head -n 1
  ) || true
  echo "${uri:-http://deb.debian.org/debian}"
}

install_consul() {
  need_curl
  consul_bin >/dev/null && return 0
  local mirror tmp deb
  mirror=$(debian_mirror)
  tmp=$(mktemp -d "$STORES_CACHE/consul-download.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'; trap - RETURN" RETURN
  mkdir -p "$tmp/state/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror%/} bullseye main" >"$tmp/sources.list"
  local apt_private=(-q -o "Dir::State=$tmp/state" -o "Dir::Cache=$tmp/cache"
    -o "Dir::Etc::SourceList=$tmp/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "APT::Sandbox::User=root")
  log "downloading consul from ${mirror%/} bullseye (private apt state)"
  apt-get "${apt_private[@]}" update >"$tmp/apt.log" 2>&1 ||
    { tail -n 20 "$tmp/apt.log" >&2; die "apt-get update for bullseye failed"; }
  (cd "$tmp/debs" && apt-get "${apt_private[@]}" download consul) >>"$tmp/apt.log" 2>&1 ||
    { tail -n 20 "$tmp/apt.log" >&2; die "apt-get download consul failed"; }
  deb=$(find "$tmp/debs" -name 'consul_*.deb' -print -quit)
  [[ -n $deb ]] || die "apt-get download consul produced no .deb"
  dpkg-deb -x "$deb" "$tmp/root"
  [[ -x $tmp/root/usr/bin/consul ]] || die "the consul package has no usr/bin/consul"
  mkdir -p "$STORES_CACHE/cache"
  rm -rf "$STORES_CACHE/cache/consul"
  mv "$tmp/root" "$STORES_CACHE/cache/consul"
  log "consul installed: $("$STORES_CACHE/cache/consul/usr/bin/consul" version | head -n 1)"
}

install_store() { with_install_lock "install_$1"; }

# ---------------------------------------------------------------------------------------------- ports

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# The preferred port when free (and RANDOM_PORTS unset), else a random free one not in the already-chosen
# list ($2...).
RANDOM_PORTS=
random_port() { echo $((20000 + RANDOM % 40000)); }
pick_port() {
  local port=$1 tries=0
  shift
  [[ -z $RANDOM_PORTS ]] || port=$(random_port)
  while port_in_use "$port" || [[ " $* " == *" $port "* ]]; do
    ((++tries > 200)) && die "no free port found"
    port=$(random_port)
  done
  echo "$port"
}

# True when the listening socket on $2 belongs to pid $1; without ss we cannot tell and trust the caller.
port_owned_by() {
  command -v ss >/dev/null || return 0
  ss -Hltnp "sport = :$2" 2>/dev/null | grep -q "pid=$1,"
}

# ---------------------------------------------------------------------------------------------- processes

# Field $1 of /proc/<pid>/stat counted after the command name, which may itself contain spaces: 1 is the
# state, 20 the start time.
proc_stat_field() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  awk -v n="$2" '{ print $n }' <<<"$stat"
}

# Alive and not a zombie (a reparented server may linger unreaped as Z).
alive() {
  local state
  [[ -n $1 ]] && state=$(proc_stat_field "$1" 1) && [[ -n $state && $state != Z ]]
}

# Guards against pid reuse: the pid must still be the process started for this data dir (same start time,
# recorded at spawn; servers like redis rewrite their command line, so that cannot serve).
is_our_server() {
  alive "$1" && [[ -f $2/server.start && $(proc_stat_field "$1" 20) == "$(cat "$2/server.start")" ]]
}

kill_server() {
  local pid=$1 data=$2
  is_our_server "$pid" "$data" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_GRACE))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  if alive "$pid"; then
    log "pid $pid ignored TERM for ${STOP_GRACE}s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  fi
  ! alive "$pid" || die "pid $pid is still running"
}

# ---------------------------------------------------------------------------------------------- per store

# Each launch_<store> sets PORT, then starts the server in the background with `spawn`.
# Each ready_<store> succeeds once the server answers on PORT.

spawn() {
  # setsid: the server outlives this script and is not hit by signals sent to the caller's process group.
  # Running in $DATA keeps whatever a server drops in its working directory (JVM crash logs) throwaway.
  (cd "$DATA" && exec setsid "$@") >>"$DATA/server.log" 2>&1 </dev/null &
  PID=$!
  # Not this shell's job: killing it later (a failed start, a crashed member) prints no "Killed" notice.
  disown "$PID"
  # restart replays the exact command: servers like redis rewrite what /proc shows of it.
  printf '%s\0' "$@" >"$DATA/server.cmd"
  proc_stat_field "$PID" 20 >"$DATA/server.start"
}

launch_etcd() {
  local peer
  PORT=$(pick_port 2379)
  peer=$(pick_port 2380 "$PORT")
  spawn "$(etcd_bin)" --name default --data-dir "$DATA/data" \
    --listen-client-urls "http://$HOST:$PORT" --advertise-client-urls "http://$HOST:$PORT" \
    --listen-peer-urls "http://$HOST:$peer" --initial-advertise-peer-urls "http://$HOST:$peer" \
    --initial-cluster "default=http://$HOST:$peer" --initial-cluster-state new
}
ready_etcd() { curl -fsS --max-time 2 "http://$HOST:$PORT/health" 2>/dev/null | grep -q '"health":"true"'; }

# The settings every test ZooKeeper shares, single or ensemble member; the caller appends its own.
zookeeper_cfg() {
  cat <<EOF
tickTime=2000
dataDir=$DATA/data
clientPort=$1
clientPortAddress=$HOST
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
forceSync=no
preAllocSize=4096
EOF
}

# Spawns the ZooKeeper server class $1 with config $2: a small heap and the serial collector, since a test run
# may start several servers at once on a small machine.
spawn_zookeeper() {
  local cp
  cp=$(zookeeper_jar)
  # slf4j-simple (when present) sends the server's log to server.log instead of discarding it.
  [[ -f /usr/share/java/slf4j-simple.jar ]] && cp="$cp:/usr/share/java/slf4j-simple.jar"
  spawn java -Xms32m -Xmx256m -XX:+UseSerialGC -Djava.net.preferIPv4Stack=true -cp "$cp" "$1" "$2"
}

launch_zookeeper() {
  PORT=$(pick_port 2181)
  mkdir -p "$DATA/data"
  zookeeper_cfg "$PORT" >"$DATA/zoo.cfg"
  spawn_zookeeper org.apache.zookeeper.server.ZooKeeperServerMain "$DATA/zoo.cfg"
}
# ruok answers imok as soon as the process runs; srvr shows a Mode only once it serves requests.
ready_zookeeper() { [[ $(four_letter_word ruok) == imok && $(four_letter_word srvr) == *"Mode: "* ]]; }
four_letter_word() {
  (
    exec 2>/dev/null 3<>"/dev/tcp/$HOST/$PORT" || exit 1
    printf '%s' "$1" >&3
    timeout 2 cat <&3
  )
}

launch_redis() {
  PORT=$(pick_port 6379)
  mkdir -p "$DATA/data"
  spawn "$(redis_bin)" --bind "$HOST" --port "$PORT" --save "" --appendonly no --daemonize no \
    --dir "$DATA/data" --logfile ""
}
ready_redis() { [[ $(redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null) == PONG ]]; }

launch_consul() {
  local serf_lan serf_wan server
  PORT=$(pick_port 8500)
  server=$(pick_port 8300 "$PORT")
  serf_lan=$(pick_port 8301 "$PORT" "$server")
  serf_wan=$(pick_port 8302 "$PORT" "$server" "$serf_lan")
  # -dev keeps all data in memory.
  spawn "$(consul_bin)" agent -dev -node confd-test \
    -bind "$HOST" -client "$HOST" -http-port "$PORT" -server-port "$server" \
    -serf-lan-port "$serf_lan" -serf-wan-port "$serf_wan" -dns-port -1 -grpc-port -1
}
ready_consul() {
  local leader
  leader=$(curl -fsS --max-time 2 "http://$HOST:$PORT/v1/status/leader" 2>/dev/null) || return 1
  [[ -n $leader && $leader != '""' ]]
}

launch_prometheus() {
  PORT=$(pick_port 9090)
  mkdir -p "$DATA/data"
  # No scrape jobs: tests write the configuration they need and reload.
  cat >"$DATA/prometheus.yml" <<EOF
global:
  scrape_interval: 15s
scrape_configs: []
EOF
  spawn prometheus --config.file="$DATA/prometheus.yml" --storage.tsdb.path="$DATA/data" \
    --web.listen-address="$HOST:$PORT" --web.enable-lifecycle
}
ready_prometheus() { curl -fsS --max-time 2 "http://$HOST:$PORT/-/ready" >/dev/null 2>&1; }

# ---------------------------------------------------------------------------------------------- commands

fail_start() {
  log "$STORE failed to start: $1"
  if [[ -f $DATA/server.log ]]; then
    log "last lines of $DATA/server.log:"
    tail -n 40 "$DATA/server.log" >&2
  fi
  kill_server "$PID" "$DATA" || true
  rm -rf "$DATA" "$DIR/$STORE.pid" "$DIR/$STORE.endpoint"
}

# One attempt: 0 ready, 1 failed for good, 2 lost its port to another server (worth retrying).
try_start() {
  rm -rf "$DATA"
  mkdir -p "$DATA"
  PID=
  "launch_$STORE"
  echo "$PID" >"$DIR/$STORE.pid"
  local deadline=$((SECONDS + READY_TIMEOUT))
  while :; do
    if ! alive "$PID"; then
      if grep -qiE 'address already in use|bind.*(failed|in use)' "$DATA/server.log" 2>/dev/null; then
        return 2
      fi
      fail_start "the server exited"
      return 1
    fi
    if "ready_$STORE"; then
      # Another server may have taken the port first and be the one answering.
      port_owned_by "$PID" "$PORT" && break
      kill_server "$PID" "$DATA" || true
      return 2
    fi
    if ((SECONDS >= deadline)); then
      fail_start "not ready after ${READY_TIMEOUT}s"
      return 1
    fi
    sleep 0.2
  done
  echo "$HOST:$PORT" >"$DIR/$STORE.endpoint"
}

cmd_start() {
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  DATA=$DIR/$STORE
  if [[ -f $DIR/$STORE.pid && -f $DIR/$STORE.endpoint ]] && is_our_server "$(cat "$DIR/$STORE.pid")" "$DATA"; then
    cat "$DIR/$STORE.endpoint"
    return 0
  fi
  install_store "$STORE"
  local attempt status
  for attempt in 1 2 3; do
    status=0
    ((attempt == 1)) || RANDOM_PORTS=1
    try_start || status=$?
    case $status in
      0)
        log "$STORE ready on $(cat "$DIR/$STORE.endpoint") (pid $PID, data $DATA)"
        cat "$DIR/$STORE.endpoint"
        return 0
        ;;
      1) exit 1 ;;
      2) log "$STORE lost its port to another process, retrying on a random port" ;;
    esac
  done
  fail_start "no free port after 3 attempts"
  exit 1
}

cmd_stop() {
  [[ -d $DIR ]] || return 0
  DIR=$(cd "$DIR" && pwd)
  DATA=$DIR/$STORE
  if [[ -f $DIR/$STORE.pid ]]; then
    kill_server "$(cat "$DIR/$STORE.pid")" "$DATA"
  fi
  rm -rf "$DATA" "$DIR/$STORE.pid" "$DIR/$STORE.endpoint"
}

# A real outage for clients: the server goes away, then comes back where they expect it.
cmd_restart() {
  [[ -d $DIR ]] || die "$STORE is not running from $DIR"
  DIR=$(cd "$DIR" && pwd)
  DATA=$DIR/$STORE
  [[ -f $DIR/$STORE.pid && -f $DIR/$STORE.endpoint && -f $DATA/server.cmd ]] ||
    die "$STORE is not running from $DIR"
  local endpoint command=()
  endpoint=$(cat "$DIR/$STORE.endpoint")
  PORT=${endpoint##*:}
  mapfile -d '' command <"$DATA/server.cmd"
  kill_server "$(cat "$DIR/$STORE.pid")" "$DATA"
  sleep "$DOWN"
  spawn "${command[@]}"
  echo "$PID" >"$DIR/$STORE.pid"
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "ready_$STORE"; do
    alive "$PID" || die "$STORE exited after restart; last lines of $DATA/server.log:
$(tail -n 40 "$DATA/server.log")"
    ((SECONDS < deadline)) || die "$STORE not ready ${READY_TIMEOUT}s after restart"
    sleep 0.2
  done
  port_owned_by "$PID" "$PORT" || die "another process took port $PORT while $STORE was down"
  log "$STORE restarted on $endpoint (pid $PID)"
  echo "$endpoint"
}

# Cluster commands (start-cluster, stop-cluster, stop-member, start-member) and CLUSTER_STORES.
# shellcheck source=scripts/store-clusters.sh
. "$REPO_DIR/scripts/store-clusters.sh"

main() {
  [[ $# -ge 2 ]] || usage
  local cmd=$1
  STORE=$2
  case $cmd in
    install)
      [[ $# -eq 2 ]] || usage
      [[ " ${STORES[*]} ${TOOLS[*]} " == *" $STORE "* ]] || { log "unknown store or tool: $STORE"; usage; }
      install_store "$STORE"
      return
      ;;
    *-cluster | *-member)
      [[ " ${CLUSTER_STORES[*]} " == *" $STORE "* ]] || { log "no cluster of: $STORE"; usage; }
      cluster_main "$@"
      return
      ;;
  esac
  [[ " ${STORES[*]} " == *" $STORE "* ]] || { log "unknown store: $STORE"; usage; }
  case $cmd in
    start | stop)
      [[ $# -eq 3 ]] || usage
      DIR=$3
      "cmd_$cmd"
      ;;
    restart)
      [[ $# -eq 3 || $# -eq 4 ]] || usage
      DIR=$3
      DOWN=${4:-0}
      [[ $DOWN =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage
      cmd_restart
      ;;
    *) usage ;;
  esac
}

main "$@"
