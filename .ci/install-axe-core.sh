#!/usr/bin/env bash
# Installs axe-core (npm), the accessibility checker the browser tests
# (internal/browsertest) inject into each page, with `npm ci` from the
# committed lock file. Idempotent: it does nothing when node_modules already
# matches the lock file. Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/../internal/browsertest/testdata/axe"

for tool in node npm; do
	command -v "$tool" >/dev/null || { echo "install-axe-core: $tool is required" >&2; exit 1; }
done

stamp=node_modules/.mpassid-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f node_modules/axe-core/axe.min.js ]; then
	echo "axe-core already installed ($(node -p 'require("./node_modules/axe-core/package.json").version'))"
	exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
echo "axe-core installed ($(node -p 'require("./node_modules/axe-core/package.json").version'))"
