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

"$WORK/mpassid" dev --data-dir "$WORK/data" --port "$PORT" >"$WORK/dev.log" 2>&1 &
DEV=$!
trap 'kill "$DEV" 2>/dev/null; wait "$DEV" 2>/dev/null || true' EXIT INT TERM

i=0
until curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 150 ] || ! kill -0 "$DEV" 2>/dev/null; then
		echo "mpassid dev did not become ready; see $WORK/dev.log" >&2
		exit 1
	fi
	sleep 0.2
done

echo "binary: $("$WORK/mpassid" version)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB; go $(go env GOVERSION)"
status=0
for flow in $FLOWS; do
	for source in $SOURCES; do
		echo
		echo "== flow $flow, source $source: $CONCURRENCY virtual users for $DURATION"
		"$WORK/mpassid" loadtest --target "http://127.0.0.1:$PORT" --data-dir "$WORK/data" \
			--flow "$flow" --source "$source" -c "$CONCURRENCY" --duration "$DURATION" \
			--pid "$DEV" 2>&1 || status=1
	done
done
exit $status
