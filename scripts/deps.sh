#!/usr/bin/env bash
# Installs what `make test` needs beyond Go and gcc on a fresh Debian 12
# machine, idempotently: Go modules (from go.sum) and the Debian packages the
# engine-free image checks use. Quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v jq >/dev/null || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "deps: installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
go mod download
