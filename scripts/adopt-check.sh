#!/usr/bin/env bash
# The proof of issue 12's "the tool's tests run on fixtures": converts a scratch clone of this
# checkout the way docs/adopting.md does (three tiers dev → test → prod, then a qa tier added by
# `tiers add tier`, then a third service added by `tiers add service`), checks each step with
# `tiers validate`, `tiers plan` and `kubectl kustomize`, and runs the unit project there.
# Slow (the whole unit project, ~7 minutes on 2 cores), so it is a script, not part of the suite.
# Usage: scripts/adopt-check.sh [scratch-dir]   (uses this checkout's node_modules)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$(mktemp -d /tmp/tiers-adopt-check-XXXXXX)}"
git clone -q "$src" "$dir"
cp -a "$src/node_modules" "$dir/"
for d in pipelines services/*; do
  if [ -d "$src/$d/node_modules" ]; then cp -a "$src/$d/node_modules" "$dir/$d/"; fi
done
cd "$dir"
tiers() { node pipelines/bin/tiers.js --no-color "$@"; }
step() { printf '\n== %s\n' "$*"; }
check() { # $1: a new tier to plan and render
  tiers validate | tail -1
  tiers plan --env "$1" >/dev/null 2>&1 || echo "plan --env $1: blocked (nothing published yet), exit $?"
  kubectl kustomize "k8s/overlays/$1" >/dev/null && echo "kubectl kustomize k8s/overlays/$1: ok"
}
step "three tiers: dev → test → prod"
rm -r environments/staging.yaml k8s/overlays/staging terraform/live/staging.tfvars docs/environments/staging.md
sed -i 's/^  from: staging/  from: test/' environments/prod.yaml
tiers ci generate
tiers admission generate
check prod
step "a qa tier: tiers add tier qa --after test --runtime kubernetes"
tiers add tier qa --after test --runtime kubernetes
check qa
step "a third service: tiers add service billing --port 8090"
tiers add service billing --port 8090
check qa
kubectl kustomize k8s/overlays/prod >/dev/null && echo "kubectl kustomize k8s/overlays/prod: ok"
step "the unit project on the converted repository"
npx vitest run --project unit --maxWorkers=2 --exclude 'test/unit/sample*' --exclude 'test/unit/**/sample*'
