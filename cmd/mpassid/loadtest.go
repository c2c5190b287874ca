package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/loadtest"
)

// listFlag is a flag that may be repeated or given comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, splitList(s)...)
	return nil
}

func runLoadtest(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "loadtest", "[--target URL]... [--flow oidc|saml|both] [--source test|saml-upstream|oidc-upstream] [-c N] [--rate R] [--duration D | --count N] [--pid PID]...", `
Drives complete brokered logins over HTTP against running broker instances
('mpassid dev', or several 'mpassid serve' on one database) and reports
logins/s, latency p50/p95/p99 of logins and of each request to the broker
(overall and per endpoint), errors by kind, the servers' CPU time per
login and memory (of the processes given with --pid, on this machine; or
else as the targets' own /metrics count them, wherever they run), and
their signatures by their own clocks; database writes per login with
--pg-dsn (PostgreSQL) or from the targets' /metrics (embedded SQLite).
The tool plays the browser, the service (an OIDC client with PKCE, or a
SAML SP with its own signing key) and, for --source saml-upstream or
oidc-upstream, the school's login system (a SAML IdP or OpenID provider
it serves on 127.0.0.1).

It registers its services and sources through the management API with an
admin token (--admin-token, or <data-dir>/demo-admin-token of 'mpassid
dev'), in a service set of its own, and inactivates them when it ends.
Every request of a virtual user goes to the next --target in turn. Runs
stop by themselves (--duration, --count) and send load to loopback
addresses only, unless --allow-remote says the operator owns the targets.`)
	var targets, pids listFlag
	fs.Var(&targets, "target", "base URL of a broker instance; repeat or comma-separate for several (default http://127.0.0.1:8080)")
	publicURL := fs.String("public-url", "", "the brokers' public URL when it is none of the targets (default: the issuer of the first target)")
	allowRemote := fs.Bool("allow-remote", false, "allow targets that are not loopback addresses: only for servers you own")
	flow := fs.String("flow", "both", "login flow: oidc, saml or both (alternating)")
	sources := fs.String("source", loadtest.SourceTest, "identity source(s), comma-separated, in turn: test, saml-upstream, oidc-upstream")
	concurrency := fs.Int("c", 16, "virtual users (concurrent logins)")
	fs.IntVar(concurrency, "concurrency", 16, "same as -c")
	rate := fs.Float64("rate", 0, "start logins at this many per second, whether or not earlier ones have ended (an open loop; -c bounds the logins in flight); 0: each virtual user starts its next login when the last ends")
	duration := fs.Duration("duration", 20*time.Second, "how long to run (0: until --count)")
	count := fs.Int("count", 0, "stop after this many logins (0: until --duration)")
	noHint := fs.Bool("no-hint", false, "do not name the source in the request (acr_values / RequestedAuthnContext): go through the selection page")
	keepSession := fs.Bool("keep-session", false, "keep each virtual user's cookies, so that later logins are answered from the SSO session")
	rsaKeys := fs.Bool("rsa-keys", false, "sign as the tool's SAML service, upstream SAML IdP and upstream OpenID provider with RSA-2048 (RS256 ID tokens), as real ones do, instead of P-256 (cheaper for the broker to verify, dearer for the tool to sign)")
	testFlow := fs.String("test-flow", loadtest.DefaultTestSourceFlow, "flowName of the built-in test source")
	testUser := fs.String("test-user", "", "test source user to log in as (default: the first offered)")
	adminToken := fs.String("admin-token", "", "management API token that may create integrations (default: read <data-dir>/demo-admin-token)")
	dataDir := fs.String("data-dir", "mpassid-data", "data directory of 'mpassid dev', for its demo admin token")
	org := fs.String("organisation", "", "organisation OID the tool's integrations belong to (default: the test source's, which mpassid dev's registry knows)")
	keep := fs.Bool("keep", false, "leave the tool's integrations active after the run")
	fs.Var(&pids, "pid", "PID of a server process on this machine, for CPU time and peak memory; repeat for several")
	pgDSN := fs.String("pg-dsn", "", "PostgreSQL DSN of the servers' database, for database write transactions per login (transaction ids assigned; use a server of its own)")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of one HTTP request")
	readyTimeout := fs.Duration("ready-timeout", 30*time.Second, "how long to wait for the registrations to be live on every target")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts := loadtest.Options{
		Targets: targets, PublicURL: *publicURL, AllowRemote: *allowRemote,
		Concurrency: *concurrency, Rate: *rate, Duration: *duration, Count: *count,
		NoHint: *noHint, KeepSession: *keepSession, RSAKeys: *rsaKeys, TestSourceFlow: *testFlow, TestUser: *testUser,
		AdminToken: *adminToken, Organisation: *org, Keep: *keep, PostgresDSN: *pgDSN,
		RequestTimeout: *timeout, ReadyTimeout: *readyTimeout,
	}
	if len(opts.Targets) == 0 {
		opts.Targets = []string{"http://127.0.0.1:8080"}
	}
	var err error
	if opts.Flows, err = loadtest.ParseFlows(*flow); err != nil {
		return usageError{fmt.Errorf("--flow: %w", err)}
	}
	if opts.Sources, err = loadtest.ParseSources(*sources); err != nil {
		return usageError{fmt.Errorf("--source: %w", err)}
	}
	for _, p := range pids {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return usageError{fmt.Errorf("--pid: %q is not a process id", p)}
		}
		opts.PIDs = append(opts.PIDs, n)
	}
	if *concurrency < 1 {
		return usageError{errors.New("-c: at least one virtual user")}
	}
	if *duration <= 0 && *count <= 0 {
		return usageError{errors.New("give --duration or --count: every run must stop by itself")}
	}
	if !(*rate >= 0 && *rate <= 1e6) {
		return usageError{errors.New("--rate: 0 to 1000000 logins per second")}
	}
	if opts.AdminToken == "" {
		b, err := os.ReadFile(filepath.Join(*dataDir, "demo-admin-token"))
		if err != nil {
			return usageError{fmt.Errorf("no --admin-token, and the dev admin token cannot be read: %w", err)}
		}
		opts.AdminToken = strings.TrimSpace(string(b))
	}
	// The tool shares the machine with the servers it measures: its own
	// garbage collection is CPU the servers do not get.
	tuneGC(env, slog.New(slog.NewTextHandler(env.stderr, nil)))
	rep, err := loadtest.Run(ctx, opts, env.stderr)
	if err != nil {
		return err
	}
	rep.Format(env.stdout)
	if rep.Errors > 0 {
		return fmt.Errorf("%d of %d logins failed", rep.Errors, rep.Errors+rep.Logins)
	}
	return nil
}
