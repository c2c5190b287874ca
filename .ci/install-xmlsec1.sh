#!/usr/bin/env bash
# Installs xmlsec1 (Debian package xmlsec1) for the SAML interoperability
# tests, unless it is already on PATH. Idempotent. Then run the tests with
#
#   MPASSID_TEST_INTEROP=1 go test ./internal/frontend/saml/
#
# (MPASSID_REQUIRE_ALL=1 turns the skip of a gated test into a failure.)
set -euo pipefail

if command -v xmlsec1 >/dev/null 2>&1; then
  echo "xmlsec1 already installed: $(xmlsec1 --version)" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

echo "installing xmlsec1 from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends xmlsec1 >&2
echo "installed: $(xmlsec1 --version)" >&2
