# shellcheck shell=bash
# Go-installed tools of scripts/provision.sh: real binaries where the project would otherwise
# imitate a tool. Go only installs pinned tools here; the project itself stays TypeScript.
# Sourced after lib.sh.
#
# The pins, one line each: <name> <module path of the main package> <version>. cosign's
# version is the tag of the cosign image the Dagger module runs (toolImages.cosign in
# pipelines/src/tools/images.ts); test/unit/provision/go-tools.test.ts fails when they drift.
# actionlint is the real GitHub Actions linter (expressions, shellcheck-free job checks), next
# to the schema-only @action-validator/core in test/unit/ci/templates.test.ts. promtool is
# Prometheus's own rule checker and rule unit tester, for the PrometheusRules the overlays carry
# (its cold build is the heaviest: ~20 min of CPU, docs/machines.md#promtool).
GO_TOOLS=(
  "cosign github.com/sigstore/cosign/v2/cmd/cosign v2.4.3"
  "actionlint github.com/rhysd/actionlint/cmd/actionlint v1.7.12"
  "promtool github.com/prometheus/prometheus/cmd/promtool v0.316.0"
)

# Where the binaries go: on every PATH, so the tiers host runner and `tiers doctor` find them.
GO_TOOLS_BIN=${TIERS_GO_TOOLS_BIN:-/usr/local/bin}

# True when $1 is a Go binary built from module path $2 at version $3 (`go version -m` reads
# the build info Go embeds, so this needs no tool-specific version flag).
go_binary_is() {
  local info
  [[ -x $1 ]] || return 1
  info=$(go version -m "$1" 2>/dev/null) || return 1
  grep -q -P "^\tpath\t\Q$2\E$" <<<"$info" || return 1
  # The main module line: `mod <module> <version> <sum>`; $2 is a package inside that module.
  awk -v v="$3" '$1 == "mod" && $3 == v { found = 1 } END { exit !found }' <<<"$info"
}

# Installs Go tool "$1" (module $2, version $3) into GO_TOOLS_BIN unless it is already there.
step_go_tool() {
  local name=$1 module=$2 version=$3
  local target=$GO_TOOLS_BIN/$name log=/var/log/tiers-go-$name.log
  command -v go >/dev/null 2>&1 ||
    die "go is not on PATH; it installs $name ($module@$version)" \
      "install Go 1.22 or later (https://go.dev/dl), then re-run scripts/provision.sh"
  if go_binary_is "$target" "$module" "$version"; then
    outcome "already there ($target)"
    return 0
  fi
  local go_version
  go_version=$(go env GOVERSION)
  # Built into a scratch GOBIN and moved into place only when complete: a failed or interrupted
  # build never leaves a half-written binary where doctor and the tests look.
  work=$(mktemp -d "/var/tmp/tiers-go-$name.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  note "go install $module@$version with $go_version (log: $log)"
  note "a cold build compiles about 1,500 packages: it may take many minutes on 2 cores (38 min measured under load)"
  local started
  started=$(date +%s%N)
  if ! GOBIN=$work GOFLAGS=${GOFLAGS:--buildvcs=false} go install "$module@$version" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "go install $module@$version failed with $go_version after $(elapsed_since "$started")" \
      "full output in $log; a module that needs a newer Go says so there (go.mod 'go' line)"
  fi
  go_binary_is "$work/$name" "$module" "$version" ||
    die "go install $module@$version built a binary whose build info does not name $module $version" \
      "see $log and: go version -m $work/$name"
  mkdir -p "$GO_TOOLS_BIN"
  install -m 0755 "$work/$name" "$target.tmp"
  mv "$target.tmp" "$target"
  outcome "installed $name $version with $go_version in $(elapsed_since "$started") ($target)"
}
