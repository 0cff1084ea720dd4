#!/usr/bin/env bash
# The official Python client's own integration tests against a live oxiflux.
#
# The tests are not in this repository: they come from the client's public
# repository, influxdata/influxdb-client-python at v1.50.0. Give a checkout
# of it (or its tests/ folder's parent) as PYTHON_CLIENT_TESTS. (The
# client's source distribution on PyPI ships the test files but not
# tests/base_test.py, __init__.py nor the config files they all import, so
# it cannot stand in for the checkout.) The server is this
# checkout's binary on 127.0.0.1:8086 (the tests hard-code that address),
# set up as the client's CI sets up InfluxDB: user my-user / my-password,
# org my-org, bucket my-bucket, token my-token.
#
#   scripts/python-client-suite.sh            # build, start, run every test
#   scripts/python-client-suite.sh -k Tasks   # extra arguments go to pytest
#
# Exits non-zero when a test fails; pytest's summary names each failure.
set -euo pipefail
cd "$(dirname "$0")/.."
version=1.50.0
work=target/python-client-suite
mkdir -p "$work"
work=$(cd "$work" && pwd)
tests="${PYTHON_CLIENT_TESTS:-}"
[ -n "$tests" ] || { echo "set PYTHON_CLIENT_TESTS to a checkout of influxdata/influxdb-client-python v$version" >&2; exit 2; }
[ -f "$tests/tests/base_test.py" ] || { echo "no tests/base_test.py in $tests: not a checkout of the client" >&2; exit 2; }
tests=$(cd "$tests" && pwd)

if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
fi
py="$work/venv/bin/python"
# The client's test requirements, pinned where a newer release changed what
# its tests assume: pandas 3 keeps datetimes in microseconds, aiohttp 3.12
# outgrew aioresponses' mocked responses, urllib3 2.3 drops a redirected POST's headers.
reqs="influxdb-client[extra,async]==$version pytest pytest-timeout httpretty==1.0.5 psutil aioresponses randomize pandas<3 aiohttp<3.12 urllib3<2.3"
if [ "$(cat "$work/venv/requirements" 2>/dev/null)" != "$reqs" ]; then
  echo "installing influxdb-client $version and its test requirements into $work/venv"
  # shellcheck disable=SC2086 # one argument per requirement
  "$py" -m pip install --quiet $reqs \
    || { echo "could not install the Python client from PyPI" >&2; exit 2; }
  echo "$reqs" >"$work/venv/requirements"
fi

cargo build -q -p oxiflux
data=$(mktemp -d)
log="$work/server.log"
DOCKER_INFLUXDB_INIT_MODE=setup DOCKER_INFLUXDB_INIT_USERNAME=my-user \
  DOCKER_INFLUXDB_INIT_PASSWORD=my-password DOCKER_INFLUXDB_INIT_ORG=my-org \
  DOCKER_INFLUXDB_INIT_BUCKET=my-bucket DOCKER_INFLUXDB_INIT_ADMIN_TOKEN=my-token \
  target/debug/oxiflux run --http-bind-address 127.0.0.1:8086 --data-dir "$data" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -sf http://127.0.0.1:8086/health >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { echo "oxiflux did not start; see $log" >&2; exit 2; }
  sleep 0.1
done

cd "$tests"
INFLUXDB_V2_URL=http://localhost:8086 INFLUXDB_V2_TOKEN=my-token INFLUXDB_V2_ORG=my-org \
  "$py" -m pytest -q -p no:cacheprovider --timeout 120 -rf tests "$@"
