#!/usr/bin/env bash
# Installs panva/openid-client, the independent relying party of the OIDC
# provider's interop test (internal/frontend/oidc/interop_test.go, enabled
# by MPASSID_TEST_INTEROP=1), with `npm ci` from the committed lock file.
# Idempotent: it does nothing when node_modules already matches the lock
# file. Needs node (20 or later) and npm.
set -euo pipefail
cd "$(dirname "$0")/../internal/frontend/oidc/testdata/openid-client"

for tool in node npm; do
	command -v "$tool" >/dev/null || { echo "install-openid-client: $tool is required" >&2; exit 1; }
done

stamp=node_modules/.mpassid-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d node_modules/openid-client ]; then
	echo "openid-client already installed ($(node -p 'require("./node_modules/openid-client/package.json").version'))"
	exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
echo "openid-client installed ($(node -p 'require("./node_modules/openid-client/package.json").version'))"
