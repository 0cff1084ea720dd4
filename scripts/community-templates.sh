#!/usr/bin/env bash
# Every manifest of InfluxData's community templates applied to a live
# oxiflux (each to a fresh org, then again, which must change nothing), and
# then what it installed run: every dashboard cell's query with its variables
# bound, every variable's query, every task once by hand, and the tasks due
# each minute waited for until the scheduler has run them.
# The templates are not in this repository: give a checkout of
# influxdata/community-templates as COMMUNITY_TEMPLATES.
#
#   COMMUNITY_TEMPLATES=~/community-templates scripts/community-templates.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${COMMUNITY_TEMPLATES:-}"
[ -d "$dir" ] || { echo "set COMMUNITY_TEMPLATES to a checkout of influxdata/community-templates" >&2; exit 2; }
cargo build -q -p oxiflux
data=$(mktemp -d)
DOCKER_INFLUXDB_INIT_MODE=setup DOCKER_INFLUXDB_INIT_USERNAME=ct-user \
  DOCKER_INFLUXDB_INIT_PASSWORD=ct-password DOCKER_INFLUXDB_INIT_ORG=ct-org \
  DOCKER_INFLUXDB_INIT_BUCKET=ct-bucket DOCKER_INFLUXDB_INIT_ADMIN_TOKEN=ct-token \
  target/debug/oxiflux --data-dir "$data" --http-bind-address 127.0.0.1:8097 >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:8097/ping >/dev/null && break; sleep 0.1; done
python3 scripts/community_templates.py "$dir" http://127.0.0.1:8097 ct-token
