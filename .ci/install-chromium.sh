#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (internal/browsertest,
# enabled by MPASSID_TEST_CHROMIUM=/usr/bin/chromium), unless it is already
# there. Idempotent. Only the distribution package: no browser builds are
# downloaded from anywhere else. Then run the tests with
#
#   MPASSID_TEST_CHROMIUM=/usr/bin/chromium go test ./internal/browsertest/
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo unknown version)" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

echo "installing chromium from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
echo "installed: $(/usr/bin/chromium --version 2>/dev/null)" >&2
