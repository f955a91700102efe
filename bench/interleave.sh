#!/usr/bin/env bash
# Times commands interleaved, run by run (this machine's speed moves within minutes, so builds are compared
# alternating, not one after the other), and prints each one's median and quartiles in ms.
#   bench/interleave.sh RUNS "cmd1" "cmd2" ...     (PREP="shell command" runs before every timed run)
# Each command is run through eval, its output discarded. Unset NODE_EXTRA_CA_CERTS first: it adds
# ~130 ms to every node start.
set -euo pipefail
runs=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for ((r = 0; r < runs; r++)); do
  i=0
  for cmd in "$@"; do
    if [[ -n ${PREP:-} ]]; then eval "$PREP"; fi
    start=$(date +%s%N)
    eval "$cmd" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    echo $(((end - start) / 1000)) >>"$dir/$i"
    i=$((i + 1))
  done
done
i=0
for cmd in "$@"; do
  sort -n "$dir/$i" | awk -v name="$cmd" '{ a[NR] = $1 } END {
    printf "%8.1f ms median %8.1f p25 %8.1f p75  %s\n", a[int((NR + 1) / 2)] / 1000, a[int(NR / 4) + 1] / 1000, a[int(3 * NR / 4)] / 1000, name }'
  i=$((i + 1))
done
