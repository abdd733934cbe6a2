#!/usr/bin/env bash
# Engine-free checks of the router image, the compose stack and the ECS
# example (`make image-check`; part of `make test`). There is no Docker
# engine in CI, so nothing is built or run here: files are validated. What
# runs the image's files under real Fluent Bit is test/realfb (image_test.go,
# compose_test.go); the task definition and the Terraform are checked by
# test/deploy.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
ok()  { echo "image-check: ok   $*"; }
bad() { echo "image-check: FAIL $*"; fail=1; }

# 1. The compose file validates, for the local intake and for Datadog.
if docker-compose -f docker/compose.yaml config -q; then ok "compose.yaml validates (local intake)"; else bad "compose.yaml"; fi
if DD_ENDPOINT= DD_API_KEY=x DD_SITE=datadoghq.eu docker-compose -f docker/compose.yaml config -q; then
  ok "compose.yaml validates (Datadog site)"; else bad "compose.yaml with DD_* set"; fi
for f in docker/local/fluent-bit.conf docker/metadata/v4/local/task docker/intake/Dockerfile; do
  [ -f "$f" ] && ok "compose uses $f" || bad "missing $f"
done
jq -e '.TaskARN and (.Containers | length > 0)' docker/metadata/v4/local/task >/dev/null && ok "metadata task document" || bad "metadata task document"

# 2. The Dockerfiles pass a linter (dockerfilelint, installed by scripts/deps.sh).
lint="$PWD/build/npm/node_modules/.bin/dockerfilelint"
if [ -x "$lint" ]; then
  for f in docker/Dockerfile docker/intake/Dockerfile; do
    if "$lint" "$f" >/tmp/dockerfilelint.out 2>&1; then
      ok "dockerfilelint $f"
    else
      cat /tmp/dockerfilelint.out; bad "dockerfilelint $f"
    fi
  done
else
  bad "dockerfilelint not installed (run make deps)"
fi

# 3. The router image: pinned inputs, AWS's command kept, the plugin loaded
#    by the shipped include.
df=docker/Dockerfile
arg() { sed -n "s/^ARG $1=\(.*\)\$/\1/p" "$2"; }
v=$(arg AWS_FOR_FLUENT_BIT_VERSION "$df")
[[ "$v" =~ ^3\.[0-9]+\.[0-9]+$ ]] && ok "aws-for-fluent-bit pinned to $v (3.x)" || bad "AWS_FOR_FLUENT_BIT_VERSION not pinned to a 3.x release: '$v'"
[ -z "$(arg AWS_FOR_FLUENT_BIT_VARIANT "$df")" ] && grep -q '^FROM public.ecr.aws/aws-observability/aws-for-fluent-bit:\${AWS_FOR_FLUENT_BIT_VARIANT}\${AWS_FOR_FLUENT_BIT_VERSION}$' "$df" \
  && ok "runtime stage is aws-for-fluent-bit (standard by default, init- variant by build arg)" || bad "runtime stage"
b=$(arg BUILDER_IMAGE "$df")
[[ "$b" =~ ^public\.ecr\.aws/amazonlinux/amazonlinux:2023\.[0-9]+\.[0-9]{8}\.[0-9]+@sha256:[0-9a-f]{64}$ ]] \
  && ok "builder Amazon Linux 2023 (glibc 2.34, as aws-for-fluent-bit 3.x) pinned to a release and digest" || bad "builder not a pinned Amazon Linux 2023 release@digest: '$b'"
tc=$(sed -n 's/^toolchain go\(.*\)$/\1/p' go.mod)
for f in "$df" docker/intake/Dockerfile; do
  g=$(arg GO_VERSION "$f")
  [ -n "$tc" ] && [ "$g" = "$tc" ] && grep -q 'GOTOOLCHAIN=local' "$f" && grep -q '^FROM public.ecr.aws/docker/library/golang:\${GO_VERSION}' "$f" \
    && ok "$f builds with Go $g, go.mod's toolchain, and no other" || bad "$f: Go '$g', go.mod's toolchain '$tc' (or GOTOOLCHAIN not local)"
done
last=$(awk '/^FROM /{s=""} {s=s $0 "\n"} END{printf "%s", s}' "$df")
grep -Eq '^(CMD|ENTRYPOINT)' <<<"$last" && bad "the runtime stage overrides aws-for-fluent-bit's command" \
  || ok "aws-for-fluent-bit's entrypoint and command kept"
dest() { sed -n "s#^COPY $1 \(/.*\)\$#\1#p" <<<"$last"; }
so=$(dest '--from=builder /out/out_datadog_go.so')
inc=$(dest docker/router/out_datadog_go.conf)
plugins=$(dest docker/router/out_datadog_go.plugins.conf)
[ "$so" = /fluent-bit/out_datadog_go.so ] && ok "plugin at $so, next to AWS's Go plugins" || bad "plugin path '$so'"
grep -Eq "^\s*Plugins_File\s+$plugins\$" docker/router/out_datadog_go.conf && grep -Eq "^\s*Path\s+$so\$" docker/router/out_datadog_go.plugins.conf \
  && ok "$inc names $plugins, which names $so" || bad "include ($inc) -> plugins file ($plugins) -> .so ($so) do not chain"
# aws-for-fluent-bit's init process hands a file holding these section names
# to -R (parsers) instead of including it.
grep -Eq '\[(PARSER|MULTILINE_PARSER)\]' docker/router/out_datadog_go.conf && bad "$inc would be taken for a parsers file by the init image" \
  || ok "$inc is included, not taken for a parsers file, by the init image"
[ "$(jq -r '.containerDefinitions[] | .firelensConfiguration.options["config-file-value"] // empty' docker/ecs/task-definition.json)" = "$inc" ] \
  && ok "the task definition's config-file-value is $inc" || bad "task definition's config-file-value is not $inc"
grep -q '^COPY LICENSE ' "$df" && ok "LICENSE in the image" || bad "LICENSE not copied"
# The example task's health check runs curl, which aws-for-fluent-bit has
# from 3.0.1 on (README's compatibility table says so for 2.x).
if jq -e '.containerDefinitions[] | select(.name == "log-router") | .healthCheck.command | index("curl")' docker/ecs/task-definition.json >/dev/null; then
  [ "$(printf '%s\n' 3.0.1 "$v" | sort -V | head -1)" = 3.0.1 ] && grep -q 'curl.*3\.0\.1' README.md \
    && ok "the health check's curl: the image's base ($v) has it, README says from 3.0.1" || bad "the health check runs curl, which aws-for-fluent-bit $v lacks (or README does not say 3.0.1)"
fi
grep -q 'org.opencontainers.image.version' "$df" && grep -q 'org.opencontainers.image.source' "$df" && ok "OCI labels" || bad "labels"

exit $fail
