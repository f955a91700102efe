# shellcheck shell=bash
# 3-member clusters on 127.0.0.1 for failover tests: an etcd cluster (static --initial-cluster) and a ZooKeeper
# ensemble (one zoo.cfg and myid per server). Sourced by scripts/stores.sh, whose helpers it uses (spawn,
# alive, is_our_server, kill_server, pick_port, port_owned_by, four_letter_word, install_store ...); run the
# commands through stores.sh (see its header).
#
# Layout under <dir>/<store>-cluster/:
#   endpoints   the members' client endpoints (host:port), one per line, member 1 first
#   m<n>/       member n: server.pid, endpoint, server.cmd (the exact command, replayed by start-member),
#               server.start, server.log, data/ (and zoo.cfg for ZooKeeper)
# Every port is random and free (the conventional ones stay for single servers): parallel runs, and a single
# server next to a cluster, never collide. A start that loses a port to another process is retried on fresh
# ports.

CLUSTER_STORES=(etcd zookeeper)
CLUSTER_SIZE=3

cluster_main() {
  local cmd=$1
  STORE=$2
  case $cmd in
    start-cluster | stop-cluster)
      [[ $# -eq 3 ]] || usage
      ;;
    stop-member)
      [[ $# -eq 4 || $# -eq 5 ]] || usage
      SIGNAL=${5:-TERM}
      [[ $SIGNAL == TERM || $SIGNAL == KILL ]] || usage
      ;;
    start-member)
      [[ $# -eq 4 ]] || usage
      ;;
    *) usage ;;
  esac
  DIR=$3
  if [[ $cmd == *-member ]]; then
    MEMBER=$4
    [[ $MEMBER =~ ^[0-9]+$ ]] && ((MEMBER >= 1 && MEMBER <= CLUSTER_SIZE)) ||
      die "member must be 1..$CLUSTER_SIZE, not $MEMBER"
  fi
  "cmd_${cmd//-/_}"
}

# Sets CLUSTER to the cluster's directory; with $1 = must-exist, dies when there is none.
cluster_dir() {
  if [[ ${1:-} == must-exist ]]; then
    [[ -f $DIR/$STORE-cluster/endpoints ]] || die "no $STORE cluster runs from $DIR"
  fi
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  CLUSTER=$DIR/$STORE-cluster
}

member_dir() { echo "$CLUSTER/m$1"; }
member_pid() { cat "$(member_dir "$1")/server.pid" 2>/dev/null; }
member_running() { is_our_server "$(member_pid "$1")" "$(member_dir "$1")"; }

# ---------------------------------------------------------------------------------------------- per store

# cluster_launch_<store> <n> spawns member n from the port arrays CLIENT, PEER (and ELECTION for ZooKeeper).
# member_ready_<store> succeeds once the member on PORT serves clients as part of a cluster with a leader.

cluster_launch_etcd() {
  local n=$1 i initial=
  for ((i = 1; i <= CLUSTER_SIZE; i++)); do initial+="${initial:+,}m$i=http://$HOST:${PEER[i]}"; done
  # The token keeps members of different clusters (parallel runs) from ever joining each other.
  spawn "$(etcd_bin)" --name "m$n" --data-dir "$DATA/data" \
    --listen-client-urls "http://$HOST:${CLIENT[n]}" --advertise-client-urls "http://$HOST:${CLIENT[n]}" \
    --listen-peer-urls "http://$HOST:${PEER[n]}" --initial-advertise-peer-urls "http://$HOST:${PEER[n]}" \
    --initial-cluster "$initial" --initial-cluster-token "$TOKEN" --initial-cluster-state new
}
# etcd's /health is true only while the member sees a leader.
member_ready_etcd() { ready_etcd; }

cluster_launch_zookeeper() {
  local n=$1 i
  mkdir -p "$DATA/data"
  echo "$n" >"$DATA/data/myid"
  {
    zookeeper_cfg "${CLIENT[n]}"
    echo "initLimit=10"
    echo "syncLimit=5"
    for ((i = 1; i <= CLUSTER_SIZE; i++)); do echo "server.$i=$HOST:${PEER[i]}:${ELECTION[i]}"; done
  } >"$DATA/zoo.cfg"
  spawn_zookeeper org.apache.zookeeper.server.quorum.QuorumPeerMain "$DATA/zoo.cfg"
}
# A member serves clients only as leader or follower, i.e. once a quorum elected a leader and it synced.
member_ready_zookeeper() { [[ $(four_letter_word srvr) =~ Mode:\ (leader|follower) ]]; }

# Every member is ready (and, for ZooKeeper, exactly one of them leads).
cluster_ready() {
  local n leaders=0
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    PORT=${CLIENT[n]}
    "member_ready_$STORE" || return 1
    if [[ $STORE == zookeeper && $(four_letter_word srvr) == *"Mode: leader"* ]]; then ((++leaders)); fi
  done
  [[ $STORE != zookeeper ]] || ((leaders == 1))
}

# ---------------------------------------------------------------------------------------------- commands

# SIGKILL, and wait until it is gone: a crash, as far as the cluster can tell.
crash_member() {
  local pid data
  pid=$(member_pid "$1")
  data=$(member_dir "$1")
  is_our_server "$pid" "$data" || return 0
  kill -KILL "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
  ! alive "$pid" || die "$STORE member $1 (pid $pid) survived KILL"
}

# The whole cluster's data is thrown away, so there is nothing to stop gracefully for (and a gracefully stopping
# etcd leader spends seconds handing over leadership to members that are stopping too).
stop_all_members() {
  local n status=0
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do crash_member "$n" || status=1; done
  return "$status"
}

fail_cluster_start() {
  log "$STORE cluster failed to start: $1"
  local n
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    [[ -f $(member_dir "$n")/server.log ]] || continue
    log "last lines of member $n's server.log:"
    tail -n 20 "$(member_dir "$n")/server.log" >&2
  done
  stop_all_members || true
  rm -rf "$CLUSTER"
}

# One attempt: 0 ready, 1 failed for good, 2 a member lost a port to another process (worth retrying).
try_start_cluster() {
  stop_all_members || true
  rm -rf "$CLUSTER"
  mkdir -p "$CLUSTER"
  CLIENT=() PEER=() ELECTION=()
  TOKEN="confd-test-$$-$RANDOM$RANDOM"
  local n taken=()
  RANDOM_PORTS=1
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    CLIENT[n]=$(pick_port 0 "${taken[@]}")
    taken+=("${CLIENT[n]}")
    PEER[n]=$(pick_port 0 "${taken[@]}")
    taken+=("${PEER[n]}")
    ELECTION[n]=$(pick_port 0 "${taken[@]}")
    taken+=("${ELECTION[n]}")
  done
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    DATA=$(member_dir "$n")
    mkdir -p "$DATA"
    PID=
    "cluster_launch_$STORE" "$n"
    echo "$PID" >"$DATA/server.pid"
    echo "$HOST:${CLIENT[n]}" >"$DATA/endpoint"
  done
  local deadline=$((SECONDS + READY_TIMEOUT))
  while :; do
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
      # A ZooKeeper member that cannot bind its quorum or election port keeps running without a quorum: the
      # log is checked whether or not the member is still up.
      if grep -qiE 'address already in use|bind.*(failed|in use)' "$(member_dir "$n")/server.log" 2>/dev/null; then
        stop_all_members || true
        return 2
      fi
      member_running "$n" && continue
      fail_cluster_start "member $n exited"
      return 1
    done
    if cluster_ready; then
      for ((n = 1; n <= CLUSTER_SIZE; n++)); do
        port_owned_by "$(member_pid "$n")" "${CLIENT[n]}" && continue
        # Another server took the port first and is the one answering.
        stop_all_members || true
        return 2
      done
      break
    fi
    if ((SECONDS >= deadline)); then
      fail_cluster_start "no leader after ${READY_TIMEOUT}s"
      return 1
    fi
    sleep 0.2
  done
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do cat "$(member_dir "$n")/endpoint"; done >"$CLUSTER/endpoints"
}

cmd_start_cluster() {
  cluster_dir
  local n running=1
  if [[ -f $CLUSTER/endpoints ]]; then
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do member_running "$n" || running=0; done
    if ((running)); then
      cat "$CLUSTER/endpoints"
      return 0
    fi
  fi
  install_store "$STORE"
  local attempt status
  for attempt in 1 2 3; do
    status=0
    try_start_cluster || status=$?
    case $status in
      0)
        log "$STORE cluster ready: $(paste -sd ' ' "$CLUSTER/endpoints") (data $CLUSTER)"
        cat "$CLUSTER/endpoints"
        return 0
        ;;
      1) exit 1 ;;
      2) log "a $STORE member lost its port to another process, retrying on fresh ports (attempt $attempt)" ;;
    esac
  done
  fail_cluster_start "no free ports after 3 attempts"
  exit 1
}

cmd_stop_cluster() {
  [[ -d $DIR ]] || return 0
  cluster_dir
  [[ -d $CLUSTER ]] || return 0
  stop_all_members
  rm -rf "$CLUSTER"
}

cmd_stop_member() {
  cluster_dir must-exist
  local data pid
  data=$(member_dir "$MEMBER")
  pid=$(member_pid "$MEMBER")
  if [[ $SIGNAL == KILL ]]; then
    crash_member "$MEMBER"
  else
    kill_server "$pid" "$data"
  fi
  log "$STORE member $MEMBER stopped ($SIGNAL, was pid $pid); its data stays in $data"
}

cmd_start_member() {
  cluster_dir must-exist
  DATA=$(member_dir "$MEMBER")
  local endpoint command=()
  endpoint=$(cat "$DATA/endpoint")
  PORT=${endpoint##*:}
  if member_running "$MEMBER"; then
    echo "$endpoint"
    return 0
  fi
  mapfile -d '' command <"$DATA/server.cmd"
  spawn "${command[@]}"
  echo "$PID" >"$DATA/server.pid"
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "member_ready_$STORE"; do
    alive "$PID" || die "$STORE member $MEMBER exited after its start; last lines of $DATA/server.log:
$(tail -n 40 "$DATA/server.log")"
    ((SECONDS < deadline)) || die "$STORE member $MEMBER not serving ${READY_TIMEOUT}s after its start"
    sleep 0.2
  done
  port_owned_by "$PID" "$PORT" || die "another process took port $PORT while $STORE member $MEMBER was down"
  log "$STORE member $MEMBER started again on $endpoint (pid $PID)"
  echo "$endpoint"
}
