# Sourced (not executed) by the PostgreSQL entry point on first start, so it can use the
# entry point's docker_process_sql: migrations first, in file order, then the fixtures.
# Mounted by compose.test.yaml only; the dev tier's API migrates itself on start.
for sql in /tiers/db/migrations/*.sql /tiers/db/fixtures/*.sql; do
  [ -e "$sql" ] || continue
  printf 'load-fixtures: %s\n' "$sql"
  docker_process_sql -f "$sql"
done
