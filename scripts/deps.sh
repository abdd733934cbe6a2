#!/usr/bin/env bash
# Installs what `make test` needs beyond Go and gcc on a fresh Debian 12
# machine, idempotently: Go modules (from go.sum), the Debian packages the
# engine-free image checks use, and the arm64 cross compiler the arm64 .so is
# built with. Quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v jq >/dev/null || need+=(jq)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/include/stdlib.h ] || need+=(libc6-dev-arm64-cross)
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
go mod download
# Dockerfile linter for make image-check (no hadolint in Debian 12; this is
# the npm registry's dockerfilelint, pinned, in a project-local prefix).
if [ ! -x build/npm/node_modules/.bin/dockerfilelint ]; then
  if ! command -v npm >/dev/null; then
    echo "deps: installing Debian packages: npm"
    ${SUDO-} apt-get update -qq
    DEBIAN_FRONTEND=noninteractive ${SUDO-} apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  echo "deps: installing dockerfilelint@1.8.0 into build/npm"
  npm install --silent --no-audit --no-fund --prefix build/npm dockerfilelint@1.8.0 >/dev/null
fi
