#!/usr/bin/env bash
# Start a PostgreSQL server on loopback and make sure the test role and database exist.
# Prints the SQLAlchemy URL of the test database on the last line.
set -euo pipefail
db="${1:-assessment_test}"
ver=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$ver main$"; then
  pg_createcluster "$ver" main >/dev/null
fi
if ! pg_lsclusters -h | awk '$1=="'"$ver"'" && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$ver" main start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 && break
  sleep 1
done
as_pg() { su postgres -c "$1"; }
as_pg "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='assessment'\"" | grep -q 1 \
  || as_pg "psql -qc \"CREATE ROLE assessment LOGIN PASSWORD 'assessment' CREATEDB\""
as_pg "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='$db'\"" | grep -q 1 \
  || as_pg "createdb -O assessment $db"
echo "postgresql+psycopg://assessment:assessment@127.0.0.1/$db"
