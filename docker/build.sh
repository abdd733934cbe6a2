#!/usr/bin/env bash
# make image: builds the router image for linux/amd64 and linux/arm64.
#   IMAGE=my-registry/router:tag PUSH=1 make image
#   VARIANT=init make image                  # on aws-for-fluent-bit's init image
#   AWS_FOR_FLUENT_BIT_LINE=2 make image     # aws-for-fluent-bit 2.x (Fluent Bit 1.9.10, Amazon Linux 2)
# AWS_FOR_FLUENT_BIT_VERSION, BUILDER_IMAGE and PLATFORMS override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-out-datadog-go/router:$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
platforms=${PLATFORMS:-linux/amd64,linux/arm64}
args=(--build-arg VERSION="${image##*:}")
case "${VARIANT:-}" in
  '') ;;
  init) args+=(--build-arg AWS_FOR_FLUENT_BIT_VARIANT=init-) ;;
  *) echo "make image: VARIANT is empty (standard image) or init, not '$VARIANT'" >&2; exit 2 ;;
esac
case "${AWS_FOR_FLUENT_BIT_LINE:-3}" in
  3) ;;
  2) # Amazon Linux 2 (glibc 2.26): yum has no frozen repositories there, so
     # only the image release is pinned.
     : "${BUILDER_IMAGE:=public.ecr.aws/amazonlinux/amazonlinux:2.0.20250623.0}"
     : "${AWS_FOR_FLUENT_BIT_VERSION:=2.34.3}" ;;
  *) echo "make image: AWS_FOR_FLUENT_BIT_LINE is 3 or 2" >&2; exit 2 ;;
esac
[ -n "${AWS_FOR_FLUENT_BIT_VERSION:-}" ] && args+=(--build-arg AWS_FOR_FLUENT_BIT_VERSION="$AWS_FOR_FLUENT_BIT_VERSION")
[ -n "${BUILDER_IMAGE:-}" ] && args+=(--build-arg BUILDER_IMAGE="$BUILDER_IMAGE")
if ! docker info >/dev/null 2>&1; then
  echo "make image: no Docker engine here. Build on a machine with Docker and buildx (QEMU for the other arch)." >&2
  exit 1
fi
out=--load
if [ -n "${PUSH:-}" ]; then out=--push; elif [[ "$platforms" == *,* ]]; then
  echo "make image: a multi-platform image cannot be --load-ed; building for the cache only (set PUSH=1 to push)." >&2
  out=
fi
docker buildx build --platform "$platforms" -f docker/Dockerfile "${args[@]}" -t "$image" $out .
