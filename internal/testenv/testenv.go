// Package testenv is what tests across packages share. It decides whether
// tests that need outside programs (PostgreSQL, Chromium, npm packages,
// xmlsec1) run: they run when their environment variable is set and skip
// with a reason otherwise; under MPASSID_REQUIRE_ALL=1 (as in CI) such a
// skip is a failure instead, so that CI cannot pass by silently running
// less. And it has the Buffer tests read a server's log from.
package testenv

import (
	"os"
	"testing"
)

// Environment variables that enable gated tests.
const (
	PostgresDSNVar = "MPASSID_TEST_POSTGRES_DSN"
	ChromiumVar    = "MPASSID_TEST_CHROMIUM"
	RequireAllVar  = "MPASSID_REQUIRE_ALL"
)

// RequireAll reports whether every gated test must run.
func RequireAll() bool { return os.Getenv(RequireAllVar) == "1" }

// Skip skips the test with reason, or fails it when RequireAll is set.
func Skip(tb testing.TB, reason string) {
	tb.Helper()
	if RequireAll() {
		tb.Fatalf("%s, and %s=1 forbids skipping", reason, RequireAllVar)
	}
	tb.Skip(reason)
}

// PostgresDSN returns the DSN of the test PostgreSQL server, or skips the test
// (see Skip) when none is configured.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(PostgresDSNVar)
	if dsn == "" {
		Skip(tb, "PostgreSQL test skipped: set "+PostgresDSNVar+" (e.g. eval \"$(.ci/postgres.sh start)\")")
	}
	return dsn
}

// Chromium returns the path of the Chromium binary for browser tests, or
// skips the test (see Skip) when none is configured.
func Chromium(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv(ChromiumVar)
	if path == "" {
		Skip(tb, "browser test skipped: set "+ChromiumVar+" to a Chromium binary (e.g. /usr/bin/chromium)")
	}
	return path
}

// InteropVar enables the interoperability tests against independent peers
// (oidc-provider, openid-client, SimpleSAMLphp, xmlsec1) that .ci/install-*.sh
// install.
const InteropVar = "MPASSID_TEST_INTEROP"

// Interop skips the test (see Skip) unless interoperability peers are
// installed and enabled.
func Interop(tb testing.TB, peer string) {
	tb.Helper()
	if os.Getenv(InteropVar) == "" {
		Skip(tb, "interop test with "+peer+" skipped: install it with .ci/install-*.sh and set "+InteropVar+"=1")
	}
}
