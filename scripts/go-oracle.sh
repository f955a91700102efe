#!/usr/bin/env bash
# The Go toolchain the differential tests build their oracle with (test/go-oracle: Go's own text/template
# with confd's function map, standard library only, nothing downloaded).
#
#   scripts/go-oracle.sh install    install Debian's golang-go if `go` is missing (idempotent)
#
# The tests build the oracle themselves (test/support/go-oracle.ts) and fail, not skip, without Go.
set -euo pipefail

log() { echo "go-oracle: $*" >&2; }

as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    log "need root (or sudo) to run: $*"
    exit 1
  fi
}

install() {
  if command -v go >/dev/null; then
    log "$(go version)"
    return 0
  fi
  local opts=(-y -q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600 --no-install-recommends)
  log "apt-get install golang-go"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" golang-go >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 update >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" golang-go >/dev/null
  fi
  log "$(go version)"
}

case "${1:-}" in
  install) install ;;
  *)
    echo "usage: $0 install" >&2
    exit 2
    ;;
esac
