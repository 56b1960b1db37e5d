# shellcheck shell=bash
# Shared helpers for scripts/provision.sh: step timing, logging and small checks.
# Sourced, never executed on its own.

# The Debian docker client: it builds with BuildKit. The 28.x client that may come first on PATH
# has no buildx here, so PATH order must never decide which client runs.
# TIERS_DOCKER_BIN is the same override the tiers host runner honours.
DOCKER=${TIERS_DOCKER_BIN:-/usr/bin/docker}
export DOCKER_BUILDKIT=1

# Read by provision.sh for the total duration.
# shellcheck disable=SC2034
PROVISION_STARTED_NS=$(date +%s%N)

# Prints "<seconds>.<tenths>s" elapsed since the nanosecond timestamp $1.
elapsed_since() {
  local now ns
  now=$(date +%s%N)
  ns=$((now - $1))
  printf '%d.%ds' $((ns / 1000000000)) $(((ns / 100000000) % 10))
}

# Writes a line that belongs to a step's detail (stderr, so stdout stays one line per step).
note() {
  printf 'provision:   %s\n' "$*" >&2
}

# Stops provisioning with a message saying what failed and what to do next.
die() {
  printf 'provision: error: %s\n' "$1" >&2
  if [[ -n ${2:-} ]]; then
    printf 'provision: hint: %s\n' "$2" >&2
  fi
  exit 1
}

# Runs one provisioning step and prints "provision: <name> ... <outcome> (<duration>)".
# The step function prints its outcome word on fd 3 (e.g. "ok", "already there", "built");
# if it prints nothing the outcome is "ok". A failing step prints "FAILED" and stops the run.
step() {
  local name=$1
  shift
  local started outcome_file outcome rc
  started=$(date +%s%N)
  outcome_file=$(mktemp)
  set +e
  # errexit inside the step: any unhandled failure fails the step (set +e above is for rc only).
  (
    set -e
    "$@"
  ) 3>"$outcome_file"
  rc=$?
  set -e
  outcome=$(tr -d '\n' <"$outcome_file")
  rm -f "$outcome_file"
  if [[ $rc -ne 0 ]]; then
    printf 'provision: %s ... FAILED (%s)\n' "$name" "$(elapsed_since "$started")"
    printf 'provision: stopped; fix the cause above and re-run scripts/provision.sh (finished steps are skipped)\n' >&2
    exit "$rc"
  fi
  printf 'provision: %s ... %s (%s)\n' "$name" "${outcome:-ok}" "$(elapsed_since "$started")"
}

# Records the outcome word of the current step (see step()).
outcome() {
  printf '%s' "$*" >&3
}

# Waits until the command "$@" succeeds, polling every 0.25 s, for at most $WAIT_SECONDS.
# Returns 1 on timeout so the caller can say what did not come up.
wait_until() {
  local deadline=$(($(date +%s) + ${WAIT_SECONDS:-60}))
  until "$@" >/dev/null 2>&1; do
    if (($(date +%s) >= deadline)); then
      return 1
    fi
    sleep 0.25
  done
}

# True when the Docker engine answers through the BuildKit-capable client.
engine_answers() {
  "$DOCKER" info >/dev/null 2>&1
}

# Prints the value of label $2 on local image $1, or nothing when the image is absent.
image_label() {
  "$DOCKER" image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# Prints the image ID of $1, or nothing when it is absent.
image_id() {
  "$DOCKER" image inspect --format '{{ .Id }}' "$1" 2>/dev/null || true
}

# Prints a sha256 over the given strings and over the content of every file under the given
# directories: a recipe's identity, so an image is rebuilt exactly when its recipe changes.
recipe_hash() {
  local item
  {
    for item in "$@"; do
      if [[ -d $item ]]; then
        (cd "$item" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
      else
        printf '%s\n' "$item"
      fi
    done
  } | sha256sum | cut -c1-64
}
