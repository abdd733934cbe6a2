#!/usr/bin/env bash
# make image: builds the router image for linux/amd64 and linux/arm64.
#   IMAGE=my-registry/router:tag PUSH=1 make image
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-out-datadog-go/router:$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
platforms=${PLATFORMS:-linux/amd64,linux/arm64}
if ! docker info >/dev/null 2>&1; then
  echo "make image: no Docker engine here. Build on a machine with Docker and buildx (QEMU for the other arch)." >&2
  exit 1
fi
out=--load
if [ -n "${PUSH:-}" ]; then out=--push; elif [[ "$platforms" == *,* ]]; then
  echo "make image: a multi-platform image cannot be --load-ed; building for the cache only (set PUSH=1 to push)." >&2
  out=
fi
docker buildx build --platform "$platforms" -f docker/Dockerfile \
  --build-arg VERSION="${image##*:}" ${AWS_FOR_FLUENT_BIT_VERSION:+--build-arg AWS_FOR_FLUENT_BIT_VERSION=$AWS_FOR_FLUENT_BIT_VERSION} \
  ${BUILDER_IMAGE:+--build-arg BUILDER_IMAGE=$BUILDER_IMAGE} -t "$image" $out .
