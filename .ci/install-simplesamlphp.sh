#!/usr/bin/env bash
# Installs SimpleSAMLphp (Debian package) and the PHP command-line
# interpreter for the saml connector's interop test
# (internal/connector/saml/interop_test.go, enabled by
# MPASSID_TEST_INTEROP=1). The test runs SimpleSAMLphp with `php -S` and a
# configuration it generates, so no web server is configured or started.
# Idempotent: it does nothing when everything is installed. Debian/Ubuntu
# only; needs root (or sudo) for apt-get.
set -euo pipefail

packages=(simplesamlphp php-cli php-xml php-mbstring)
dir="${MPASSID_SIMPLESAMLPHP_DIR:-/usr/share/simplesamlphp}"

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ] && [ -f "$dir/www/saml2/idp/SSOService.php" ] && command -v php >/dev/null; then
	echo "simplesamlphp already installed ($(dpkg-query -W -f='${Version}' simplesamlphp), $(php -r 'echo PHP_VERSION;'))"
	exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-simplesamlphp: run as root or install sudo" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The package's web server dependency is satisfied by Debian's default
# (apache2); the test does not use or start it.
$sudo apt-get install -y -qq "${missing[@]:-${packages[@]}}" >/dev/null
[ -f "$dir/www/saml2/idp/SSOService.php" ] || { echo "install-simplesamlphp: SimpleSAMLphp not found in $dir" >&2; exit 1; }
echo "simplesamlphp installed ($(dpkg-query -W -f='${Version}' simplesamlphp), $(php -r 'echo PHP_VERSION;'))"
