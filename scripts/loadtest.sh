#!/bin/sh
# Reproduces the standard load measurement of docs/performance.md with one
# command: builds mpassid, starts `mpassid dev` (embedded SQLite) on a
# fresh data directory, runs `mpassid loadtest` against it for each flow
# and source with the server's PID (CPU time per login, peak memory), and
# stops the server again.
#
#   scripts/loadtest.sh                         # 64 users, 20 s per run
#   DURATION=10s CONCURRENCY=16 scripts/loadtest.sh
#   FLOWS="oidc" SOURCES="test oidc-upstream" scripts/loadtest.sh
#   CRYPTO=go scripts/loadtest.sh               # Go's own crypto, not BoringCrypto
#   DATABASE_URL=postgres://... scripts/loadtest.sh   # one instance on PostgreSQL
#   INSTANCES=2 DATABASE_URL=postgres://... scripts/loadtest.sh
#                                               # two instances on one PostgreSQL
#   SERVER_PROCS=1 ...                          # GOMAXPROCS of each instance
#   RSA_KEYS=1 scripts/loadtest.sh              # the tool's SAML service, IdP and OP sign with RSA
#   RATE=400 FLOWS=oidc SOURCES=test scripts/loadtest.sh
#                                               # open loop: 400 logins started per second
#   REPEAT=3 scripts/loadtest.sh                # every flow and source three times in turn:
#                                               # on a machine whose speed moves, compare runs
#
# The binary is built with GOEXPERIMENT=boringcrypto where cgo and a C
# compiler are available (CRYPTO=auto, the default), as docs/operations.md
# recommends for production: it signs RSA at about twice the speed of Go's
# own crypto, and the signatures are the largest part of a login.
#
# Everything stays on 127.0.0.1. Output: one report per run on stdout; the
# server's log is kept in $WORK/dev.log.
set -eu

DURATION=${DURATION:-20s}
CONCURRENCY=${CONCURRENCY:-64}
FLOWS=${FLOWS:-"oidc saml"}
SOURCES=${SOURCES:-"test saml-upstream oidc-upstream"}
PORT=${PORT:-18080}
INSTANCES=${INSTANCES:-1}
RATE=${RATE:-0}
REPEAT=${REPEAT:-1}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/mpassid-loadtest.XXXXXX")}

cd "$(dirname "$0")/.."
CRYPTO=${CRYPTO:-auto}
if [ "$CRYPTO" = auto ]; then
	CRYPTO=go
	if [ "$(go env CGO_ENABLED)" = 1 ] && command -v "$(go env CC)" >/dev/null 2>&1; then
		CRYPTO=boring
	fi
fi
case "$CRYPTO" in
boring) experiment=boringcrypto ;;
go) experiment= ;;
*)
	echo "CRYPTO must be auto, boring or go" >&2
	exit 2
	;;
esac
echo "building mpassid into $WORK (crypto: $CRYPTO)" >&2
GOEXPERIMENT=$experiment go build -o "$WORK/mpassid" ./cmd/mpassid

# With DATABASE_URL the instances run on a fresh schema of that PostgreSQL
# database, otherwise on embedded SQLite. Two instances (PostgreSQL only)
# share the database and one public URL; the tool sends each request of a
# login to the next instance in turn.
DEVS=""
stop_all() {
	for pid in $DEVS; do kill "$pid" 2>/dev/null || true; done
	for pid in $DEVS; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT INT TERM

# Two instances on one machine share its cores: each gets half, as it
# would have its own cores in production (GOMAXPROCS; otherwise two Go
# schedulers would both spin on every core).
SERVER_PROCS=${SERVER_PROCS:-}
if [ -z "$SERVER_PROCS" ] && [ "$INSTANCES" = 2 ]; then
	SERVER_PROCS=$(( $(nproc) / 2 ))
	[ "$SERVER_PROCS" -ge 1 ] || SERVER_PROCS=1
fi

start_instance() { # port logfile
	GOMAXPROCS=${SERVER_PROCS:-$(nproc)} "$WORK/mpassid" dev --data-dir "$WORK/data" --port "$1" >"$2" 2>&1 &
	pid=$!
	DEVS="$DEVS $pid"
	i=0
	until curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "mpassid dev on port $1 did not become ready; see $2" >&2
			exit 1
		fi
		sleep 0.2
	done
}

TARGETS="--target http://127.0.0.1:$PORT"
PG_ARGS=""
KEY_ARGS=""
[ -n "${RSA_KEYS:-}" ] && KEY_ARGS="--rsa-keys"
case "$INSTANCES" in
1 | 2) ;;
*)
	echo "INSTANCES must be 1 or 2" >&2
	exit 2
	;;
esac
if [ "$INSTANCES" = 2 ] && [ -z "${DATABASE_URL:-}" ]; then
	echo "INSTANCES=2 needs DATABASE_URL, a PostgreSQL URL (eval \"\$(.ci/postgres.sh start)\"; DATABASE_URL=\$MPASSID_TEST_POSTGRES_DSN)" >&2
	exit 2
fi
if [ -n "${DATABASE_URL:-}" ]; then
	schema="loadtest_$(date +%s)"
	psql -q "$DATABASE_URL" -c "CREATE SCHEMA $schema" >&2
	case "$DATABASE_URL" in
	*\?*) dsn="$DATABASE_URL&search_path=$schema" ;;
	*) dsn="$DATABASE_URL?search_path=$schema" ;;
	esac
	export MPASSID_DATABASE_DRIVER=postgres MPASSID_DATABASE_DSN="$dsn"
	export MPASSID_SERVER_PUBLIC_URL="http://127.0.0.1:$PORT"
	PG_ARGS="--pg-dsn $dsn"
fi
if [ "$INSTANCES" = 2 ]; then
	TARGETS="$TARGETS --target http://127.0.0.1:$((PORT + 1)) --public-url http://127.0.0.1:$PORT"
fi

start_instance "$PORT" "$WORK/dev.log"
if [ "$INSTANCES" = 2 ]; then
	# Started after the first has seeded the demo data, with the same data
	# directory (master key, admin token) and the same public URL.
	start_instance "$((PORT + 1))" "$WORK/dev2.log"
fi
PIDS=""
for pid in $DEVS; do PIDS="$PIDS --pid $pid"; done

echo "binary: $("$WORK/mpassid" version)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB; go $(go env GOVERSION)"
echo "instances: $INSTANCES, $([ -n "$PG_ARGS" ] && echo "PostgreSQL" || echo "embedded SQLite")$([ "$INSTANCES" = 2 ] && echo ", round-robin")"
status=0
round=1
while [ "$round" -le "$REPEAT" ]; do
	for flow in $FLOWS; do
		for source in $SOURCES; do
			echo
			echo "== $([ "$REPEAT" != 1 ] && echo "round $round of $REPEAT, ")flow $flow, source $source: $CONCURRENCY virtual users for $DURATION$([ "$RATE" != 0 ] && echo ", $RATE logins started per second")"
			# shellcheck disable=SC2086 # word splitting of the flag lists is meant
			"$WORK/mpassid" loadtest $TARGETS --data-dir "$WORK/data" \
				--flow "$flow" --source "$source" -c "$CONCURRENCY" --rate "$RATE" --duration "$DURATION" \
				$PIDS $PG_ARGS $KEY_ARGS 2>&1 || status=1
		done
	done
	round=$((round + 1))
done
exit $status
