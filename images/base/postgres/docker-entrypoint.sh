#!/usr/bin/env bash
# Entry point with the official postgres image's interface, the parts this project relies on:
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER (default
#   postgres), POSTGRES_DB (default: the user), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD,
#   each also as <NAME>_FILE; on first start (empty $PGDATA) runs /docker-entrypoint-initdb.d/*
#   (*.sh executed or sourced, *.sql, *.sql.gz, *.sql.xz) against a socket-only server, then
#   serves on 0.0.0.0:5432 with password authentication, as the postgres user.
set -Eeo pipefail

# Sets $1 from $1 or from the file named by ${1}_FILE (Docker secrets), default $2.
file_env() {
  local var=$1 file_var="${1}_FILE" default=${2:-} value
  if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
    printf 'error: both %s and %s are set (they are exclusive)\n' "$var" "$file_var" >&2
    exit 1
  fi
  value=$default
  if [[ -n ${!var:-} ]]; then
    value=${!var}
  elif [[ -n ${!file_var:-} ]]; then
    value=$(<"${!file_var}")
  fi
  export "$var"="$value"
  unset "$file_var"
}

# Runs SQL from stdin (or psql arguments) as POSTGRES_USER against POSTGRES_DB; init scripts
# that are sourced may call it, as with the official image.
docker_process_sql() {
  local query_runner=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [[ -n ${POSTGRES_DB:-} ]]; then
    query_runner+=(--dbname "$POSTGRES_DB")
  fi
  PGHOST='' PGHOSTADDR='' "${query_runner[@]}" "$@"
}

# Runs each init file in order, by type.
process_init_files() {
  local f
  for f in "$@"; do
    case "$f" in
      *.sh)
        if [[ -x $f ]]; then
          printf '%s: running %s\n' "$0" "$f"
          "$f"
        else
          printf '%s: sourcing %s\n' "$0" "$f"
          # shellcheck disable=SC1090
          . "$f"
        fi
        ;;
      *.sql) printf '%s: running %s\n' "$0" "$f"; docker_process_sql -f "$f" ;;
      *.sql.gz) printf '%s: running %s\n' "$0" "$f"; gunzip -c "$f" | docker_process_sql ;;
      *.sql.xz) printf '%s: running %s\n' "$0" "$f"; xzcat "$f" | docker_process_sql ;;
      *) printf '%s: ignoring %s\n' "$0" "$f" ;;
    esac
  done
}

# Creates the cluster, the user's password and database, and runs the init files.
init_database() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  local auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [[ -z $POSTGRES_PASSWORD && $auth != trust ]]; then
    cat >&2 <<'MSG'
Error: Database is uninitialized and superuser password is not specified.
       Set POSTGRES_PASSWORD to a non-empty value for the superuser (for example
       "-e POSTGRES_PASSWORD=password" on "docker run"), or set
       POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password
       (never do that outside a throwaway test).
MSG
    exit 1
  fi

  # The password reaches initdb through a pipe, never argv; the process substitution must sit on
  # the initdb command line itself, or its descriptor is closed before initdb reads it.
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a word list by contract
  if [[ -n $POSTGRES_PASSWORD ]]; then
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
  else
    initdb --username="$POSTGRES_USER" $POSTGRES_INITDB_ARGS
  fi
  printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

  # A socket-only server while initialising, so nothing connects before the data is ready.
  export PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD}
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
  if [[ $POSTGRES_DB != postgres ]]; then
    local db=$POSTGRES_DB
    POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$db" <<<'CREATE DATABASE :"db" ;'
  fi
  shopt -s nullglob
  process_init_files /docker-entrypoint-initdb.d/*
  shopt -u nullglob
  pg_ctl -D "$PGDATA" -m fast -w stop
  unset PGPASSWORD
  printf '\nPostgreSQL init process complete; ready for start up.\n\n'
}

if [[ ${1:0:1} == - ]]; then
  set -- postgres "$@"
fi

if [[ $1 == postgres ]]; then
  if [[ $(id -u) == 0 ]]; then
    # As root: own the data and socket directories, then re-run this script as postgres.
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 0700 "$PGDATA"
    chmod 3777 /var/run/postgresql
    exec gosu postgres "${BASH_SOURCE[0]}" "$@"
  fi
  if [[ ! -s $PGDATA/PG_VERSION ]]; then
    mkdir -p "$PGDATA"
    chmod 0700 "$PGDATA" 2>/dev/null || true
    init_database
  else
    printf '\nPostgreSQL Database directory appears to contain a database; skipping initialization\n\n'
  fi
fi

exec "$@"
