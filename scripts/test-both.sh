#!/usr/bin/env bash
# The suite on both engines at once (make test): SQLite with the browser tests, and PostgreSQL without them
# (the browser tests exercise pages, not the engine). Each run writes its own log and temporary folder; the logs
# are printed whole, SQLite first, and the exit status is non-zero if either run failed.
set -uo pipefail
BIN=${BIN:-.venv/bin}
url=$(bash scripts/postgres.sh assessment_test | tail -n 1) || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
"$BIN/python" -m pytest -q -p no:cacheprovider --basetemp="$work/sqlite" >"$work/sqlite.log" 2>&1 &
sqlite=$!
ASSESSMENT_TEST_DATABASE_URL=$url "$BIN/python" -m pytest -q -p no:cacheprovider -m "not e2e" \
  --basetemp="$work/postgresql" >"$work/postgresql.log" 2>&1 &
postgresql=$!
wait "$sqlite"; sqlite_status=$?
echo "=== SQLite (browser tests included), exit $sqlite_status"
cat "$work/sqlite.log"
wait "$postgresql"; postgresql_status=$?
echo "=== PostgreSQL, exit $postgresql_status"
cat "$work/postgresql.log"
echo "=== both engines in $(( $(date +%s) - started )) s"
[ "$sqlite_status" -eq 0 ] && [ "$postgresql_status" -eq 0 ]
