#!/usr/bin/env bash
# Provisions this machine for the tiers pipeline and its tests: Debian packages, the Docker
# engine, a local OCI registry on 127.0.0.1:5000 and locally built base images, then records the
# machine's settings in .tiers/machine.env. Idempotent: each step checks before it acts, so a
# run on a provisioned machine takes seconds. Runs as root. See docs/machines.md.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/provision.sh [--no-images] [--help]

Makes this machine ready for the tiers pipeline (run as root; safe to re-run):
  1. apt-get installs what is missing: docker.io docker-compose docker-registry skopeo
     debootstrap busybox-static (and PostgreSQL 15 when no postgres/initdb is found)
  2. starts dockerd in the background unless the engine answers (log: /var/log/tiers-dockerd.log)
  3. serves a registry on 127.0.0.1:5000 (no auth, data in /var/lib/tiers-registry)
  4. builds local/debian:bookworm, local/node:22-bookworm-slim, local/postgres:15-bookworm and
     local/busybox:latest without any container registry (skipped when already up to date)
  5. go installs the pinned Go tools (cosign, actionlint, promtool) into /usr/local/bin unless the right version is
     there; a cold build may take several minutes on 2 cores (log: /var/log/tiers-go-<tool>.log)
  6. writes .tiers/machine.env (TIERS_BASE_IMAGE, TIERS_POSTGRES_IMAGE, TIERS_REGISTRY, ...)

Options:
  --no-images   do steps 1-3, 5 and 6 only
  --help        show this help

Environment:
  TIERS_REGISTRY=host:port        registry address (default 127.0.0.1:5000)
  TIERS_EXTRA_CA_BUNDLE=path      CA bundle builds pass to npm (default: host bundle if present)
  TIERS_DEBIAN_MIRROR=url         Debian mirror for debootstrap (default http://deb.debian.org/debian)
  TIERS_IMAGE_PREFIX=name         repository prefix of the local images (default local)
  TIERS_MACHINE_ENV=path          where to write the settings (default <repo>/.tiers/machine.env)
  TIERS_GO_TOOLS_BIN=dir          where Go tools are installed (default /usr/local/bin)

Examples:
  sudo scripts/provision.sh            # first run on a bare machine (several minutes: cosign builds)
  sudo scripts/provision.sh            # again: seconds, nothing rebuilt
EOF
}

with_images=1
for arg in "$@"; do
  case "$arg" in
    --no-images) with_images=0 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'provision: unknown argument %s\n\n' "$arg" >&2; usage >&2; exit 2 ;;
  esac
done

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$REPO_ROOT/scripts/provision/lib.sh"
. "$REPO_ROOT/scripts/provision/host.sh"
. "$REPO_ROOT/scripts/provision/images.sh"
. "$REPO_ROOT/scripts/provision/go-tools.sh"

if [[ $(id -u) -ne 0 ]]; then
  die "provisioning installs packages and starts the Docker engine, so it must run as root" \
    "run: sudo $REPO_ROOT/scripts/provision.sh"
fi

# One run at a time: two concurrent runs would both start dockerd or build the same image.
LOCK_FILE=${TIERS_PROVISION_LOCK:-/run/lock/tiers-provision.lock}
[[ -d $(dirname "$LOCK_FILE") ]] || LOCK_FILE=/tmp/tiers-provision.lock
exec 9>"$LOCK_FILE"
if ! flock -n 9; then
  printf 'provision: another provision run holds %s; waiting for it (at most 15 min)\n' "$LOCK_FILE"
  flock -w 900 9 || die "gave up waiting for $LOCK_FILE" "is a provision run stuck? see: fuser $LOCK_FILE"
fi

MACHINE_ENV=${TIERS_MACHINE_ENV:-$REPO_ROOT/.tiers/machine.env}

# Records this machine's settings; process environment still wins when tiers reads them.
step_machine_env() {
  local ca=${TIERS_EXTRA_CA_BUNDLE-}
  if [[ -z ${TIERS_EXTRA_CA_BUNDLE+set} ]]; then
    if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -f $NODE_EXTRA_CA_CERTS ]]; then
      ca=$NODE_EXTRA_CA_CERTS
    elif [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
      ca=/etc/ssl/certs/ca-certificates.crt
    fi
  fi
  local wanted
  wanted=$(
    cat <<EOF
# Written by scripts/provision.sh for this machine; do not commit. Re-run it to refresh.
# Variables set in the process environment override these.
TIERS_BASE_IMAGE=$NODE_IMAGE
TIERS_POSTGRES_IMAGE=$POSTGRES_IMAGE
TIERS_BUSYBOX_IMAGE=$BUSYBOX_IMAGE
TIERS_DEBIAN_IMAGE=$DEBIAN_IMAGE
TIERS_EXTRA_CA_BUNDLE=$ca
TIERS_REGISTRY=$REGISTRY_ADDR
EOF
  )
  if [[ $with_images -eq 0 ]]; then
    # Without local images, leave the public defaults in force.
    wanted=$(printf '%s\n' "$wanted" | grep -v -E '^TIERS_(BASE|POSTGRES|BUSYBOX|DEBIAN)_IMAGE=')
  fi
  mkdir -p "$(dirname "$MACHINE_ENV")"
  if [[ -f $MACHINE_ENV && $(cat "$MACHINE_ENV") == "$wanted" ]]; then
    outcome "unchanged ($MACHINE_ENV)"
    return 0
  fi
  printf '%s\n' "$wanted" >"$MACHINE_ENV.tmp"
  mv "$MACHINE_ENV.tmp" "$MACHINE_ENV"
  outcome "written ($MACHINE_ENV)"
}

step "packages" step_packages
step "docker engine" step_engine
step "registry" step_registry
if [[ $with_images -eq 1 ]]; then
  step "image $DEBIAN_IMAGE" step_image_debian
  step "image $NODE_IMAGE" step_image_node
  step "image $POSTGRES_IMAGE" step_image_postgres
  step "image $BUSYBOX_IMAGE" step_image_busybox
fi
for tool in "${GO_TOOLS[@]}"; do
  read -r tool_name tool_module tool_version <<<"$tool"
  step "go tool $tool_name $tool_version" step_go_tool "$tool_name" "$tool_module" "$tool_version"
done
step "machine settings" step_machine_env
printf 'provision: done (%s total)\n' "$(elapsed_since "$PROVISION_STARTED_NS")"
