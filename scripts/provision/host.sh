# shellcheck shell=bash
# Host steps of scripts/provision.sh: Debian packages, the Docker engine, the local registry.
# Sourced by provision.sh after lib.sh.

# Debian packages the pipeline and its tests use on the host.
HOST_PACKAGES=(docker.io docker-compose docker-registry skopeo debootstrap busybox-static curl ca-certificates)

REGISTRY_ADDR=${TIERS_REGISTRY:-127.0.0.1:5000}
REGISTRY_ROOT=/var/lib/tiers-registry
REGISTRY_CONFIG=$REGISTRY_ROOT/config.yml
REGISTRY_LOG=/var/log/tiers-registry.log
DOCKERD_LOG=/var/log/tiers-dockerd.log

# True when dpkg reports package $1 as installed.
package_installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

# True when PostgreSQL server binaries (postgres and initdb) exist where the services' tests look.
postgres_binaries_present() {
  local dir
  for dir in /usr/local/bin /usr/lib/postgresql/*/bin; do
    if [[ -x $dir/postgres && -x $dir/initdb ]]; then
      return 0
    fi
  done
  command -v postgres >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1
}

# Installs whatever of HOST_PACKAGES (and a PostgreSQL server) is missing; nothing when all there.
step_packages() {
  local missing=() pkg
  for pkg in "${HOST_PACKAGES[@]}"; do
    package_installed "$pkg" || missing+=("$pkg")
  done
  if ! postgres_binaries_present; then
    missing+=(postgresql-15)
  fi
  if [[ ${#missing[@]} -eq 0 ]]; then
    outcome "already there"
    return 0
  fi
  note "installing: ${missing[*]}"
  # Keep package scripts from starting services: provision starts dockerd and the registry itself,
  # with its own config (Debian's registry service would take :5000 with htpasswd auth).
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    created_policy=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  } >/var/log/tiers-apt.log 2>&1 || rc=$?
  if [[ $created_policy -eq 1 ]]; then
    rm -f "$policy"
  fi
  if [[ $rc -ne 0 ]]; then
    tail -n 20 /var/log/tiers-apt.log >&2
    die "apt-get install ${missing[*]} failed (exit $rc)" \
      "see /var/log/tiers-apt.log; check that Debian's archive is reachable, then re-run scripts/provision.sh"
  fi
  outcome "installed ${missing[*]}"
}

# Starts the Docker engine when it does not answer, and waits until it does.
step_engine() {
  if engine_answers; then
    outcome "already running"
    return 0
  fi
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl start docker >/dev/null 2>&1 || true
  fi
  # pidof (sysvinit-utils) is on every Debian, even minbase; pgrep (procps) may not be.
  if ! engine_answers && ! pidof dockerd >/dev/null 2>&1; then
    note "starting dockerd (log: $DOCKERD_LOG)"
    # setsid: the engine must outlive this script and the shell that ran it.
    # Closing fds 3 and 9 keeps the daemon from holding the step pipe and the provision lock.
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null 3>&- 9>&- &
  fi
  if ! WAIT_SECONDS=${TIERS_ENGINE_WAIT:-60} wait_until engine_answers; then
    tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
    die "the Docker engine did not answer '$DOCKER info' within ${TIERS_ENGINE_WAIT:-60}s" \
      "read $DOCKERD_LOG; a stale /var/run/docker.pid or docker.sock may need removing"
  fi
  outcome "started"
}

# True when the registry's API root answers without authentication.
registry_answers() {
  curl -fsS --max-time 2 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1
}

# Writes this project's registry config (no auth, delete enabled) when it differs.
write_registry_config() {
  mkdir -p "$REGISTRY_ROOT/data"
  local wanted
  wanted=$(
    cat <<EOF
# Written by scripts/provision.sh: the tiers project's local registry.
# No authentication (it listens on loopback only); deleting manifests is allowed so tests clean up.
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_ROOT/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
EOF
  )
  if [[ ! -f $REGISTRY_CONFIG || $(cat "$REGISTRY_CONFIG") != "$wanted" ]]; then
    printf '%s\n' "$wanted" >"$REGISTRY_CONFIG"
  fi
}

# Serves CNCF Distribution on $REGISTRY_ADDR with our config unless it already answers.
step_registry() {
  if registry_answers; then
    outcome "already serving on $REGISTRY_ADDR"
    return 0
  fi
  # Only a loopback address is ours to serve; any other registry is someone else's to run.
  case "${REGISTRY_ADDR%:*}" in
    127.* | localhost) ;;
    *)
      note "TIERS_REGISTRY=$REGISTRY_ADDR is not a loopback address, so provision does not serve it"
      outcome "not answering at $REGISTRY_ADDR (not local: left alone)"
      return 0
      ;;
  esac
  write_registry_config
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$REGISTRY_ADDR/v2/" || true)
  if [[ $status == 401 ]]; then
    # Debian's packaged service (htpasswd auth) holds the port: stop it so ours can serve.
    note "a registry with authentication holds $REGISTRY_ADDR; stopping Debian's docker-registry service"
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
      systemctl disable --now docker-registry >/dev/null 2>&1 || true
    else
      service docker-registry stop >/dev/null 2>&1 || true
    fi
    WAIT_SECONDS=10 wait_until bash -c "! curl -s --max-time 1 http://$REGISTRY_ADDR/v2/" || true
  fi
  note "starting docker-registry (config: $REGISTRY_CONFIG, log: $REGISTRY_LOG)"
  # Closing fds 3 and 9 keeps the registry from holding the step pipe and the provision lock.
  setsid nohup docker-registry serve "$REGISTRY_CONFIG" >>"$REGISTRY_LOG" 2>&1 </dev/null 3>&- 9>&- &
  if ! WAIT_SECONDS=${TIERS_REGISTRY_WAIT:-20} wait_until registry_answers; then
    tail -n 20 "$REGISTRY_LOG" >&2 2>/dev/null || true
    die "the registry did not answer http://$REGISTRY_ADDR/v2/ within ${TIERS_REGISTRY_WAIT:-20}s" \
      "read $REGISTRY_LOG; another process may hold the port (ss -ltnp | grep ${REGISTRY_ADDR##*:})"
  fi
  outcome "started on $REGISTRY_ADDR"
}
