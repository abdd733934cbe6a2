#!/usr/bin/env bash
# Engine-free checks of the router image, the compose stack and the ECS
# examples (`make image-check`; part of `make test`). There is no Docker
# engine in CI, so nothing is built or run here: files are validated.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
ok()  { echo "image-check: ok   $*"; }
bad() { echo "image-check: FAIL $*"; fail=1; }

# 1. The compose file validates, for the local intake and for Datadog.
if docker-compose -f docker/compose.yaml config -q; then ok "compose.yaml validates (local intake)"; else bad "compose.yaml"; fi
if DD_ENDPOINT= DD_API_KEY=x DD_SITE=datadoghq.eu docker-compose -f docker/compose.yaml config -q; then
  ok "compose.yaml validates (Datadog site)"; else bad "compose.yaml with DD_* set"; fi
for f in docker/router/fluent-bit.conf docker/metadata/v4/local/task docker/intake/Dockerfile; do
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

# 3. The router image: pinned base, builder matching the runtime's C library, the .so where Fluent Bit loads it.
df=docker/Dockerfile
v=$(sed -n 's/^ARG AWS_FOR_FLUENT_BIT_VERSION=\(.*\)$/\1/p' "$df")
[[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] && ok "aws-for-fluent-bit pinned to $v" || bad "AWS_FOR_FLUENT_BIT_VERSION not pinned to a release: '$v'"
grep -q '^FROM public.ecr.aws/aws-observability/aws-for-fluent-bit:\${AWS_FOR_FLUENT_BIT_VERSION}' "$df" && ok "runtime stage is aws-for-fluent-bit" || bad "runtime stage"
grep -q '^ARG BUILDER_IMAGE=public.ecr.aws/amazonlinux/amazonlinux:2023' "$df" && [[ "$v" == 3.* ]] \
  && ok "builder Amazon Linux 2023 matches aws-for-fluent-bit 3.x (glibc 2.34)" || bad "builder does not match the runtime line"
grep -q 'COPY --from=builder /out/out_datadog_go.so /fluent-bit/out_datadog_go.so' "$df" && ok "plugin copied to /fluent-bit/out_datadog_go.so" || bad "plugin path"
grep -q '"-e", "/fluent-bit/out_datadog_go.so"' "$df" && grep -q '"-c", "/fluent-bit/etc/fluent-bit.conf"' "$df" \
  && ok "Fluent Bit started with -e out_datadog_go.so and FireLens' config" || bad "CMD does not load the plugin"
grep -q 'org.opencontainers.image.version' "$df" && grep -q 'org.opencontainers.image.source' "$df" && ok "OCI labels" || bad "labels"

# 4. The task definition has the shape ECS expects and uses the plugin as the seed did.
td=docker/ecs/task-definition.json
if jq -e '
  (.containerDefinitions | type == "array") and (.requiresCompatibilities == ["FARGATE"]) and
  ([.containerDefinitions[] | select(.firelensConfiguration.type == "fluentbit")] | length == 1) and
  ([.containerDefinitions[] | .name, .image, (.essential | type == "boolean")] | all) and
  (.containerDefinitions[] | select(.logConfiguration.logDriver == "awsfirelens") | .logConfiguration |
     .options.Name == "datadog_go" and (.options.site | length > 0) and (.options.workers | tonumber > 0) and
     (.options | has("apikey") | not) and (.options | has("Host") | not) and (.options | has("TLS") | not) and
     (.secretOptions | map(select(.name == "apikey" and (.valueFrom | startswith("arn:aws:secretsmanager:")))) | length == 1))
' "$td" >/dev/null; then ok "task-definition.json: FireLens router, datadog_go with site and workers, API key from Secrets Manager"
else bad "task-definition.json shape"; fi

# 5. The Terraform is well-formed as far as can be told without terraform, and matches the JSON.
for f in docker/ecs/terraform/*.tf; do
  o=$(tr -cd '{' < "$f" | wc -c); c=$(tr -cd '}' < "$f" | wc -c)
  ob=$(tr -cd '[' < "$f" | wc -c); cb=$(tr -cd ']' < "$f" | wc -c)
  [ "$o" = "$c" ] && [ "$ob" = "$cb" ] && ok "$f balanced" || bad "$f unbalanced braces/brackets"
done
tf=docker/ecs/terraform/main.tf
for key in $(jq -r '.containerDefinitions[] | select(.logConfiguration) | .logConfiguration.options | keys[]' "$td"); do
  grep -Eq "^\s+$key\s+=" "$tf" && ok "terraform sets $key" || bad "terraform lacks FireLens option $key"
done
grep -q 'resource "aws_ecs_task_definition"' "$tf" && grep -q 'secretOptions' "$tf" && grep -q 'firelensConfiguration' "$tf" \
  && ok "terraform declares the task definition with secretOptions and FireLens" || bad "terraform content"
for v in $(grep -o 'var\.[a-z_]*' "$tf" | sort -u | cut -d. -f2); do
  grep -q "variable \"$v\"" docker/ecs/terraform/variables.tf && ok "variable $v declared" || bad "variable $v not declared"
done

exit $fail
