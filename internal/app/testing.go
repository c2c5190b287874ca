package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"

	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/registry/fakeopas"
)

// TestOptions tune StartForTest.
type TestOptions struct {
	// Log receives the instance's logs (default: discarded).
	Log *slog.Logger
	// Setup runs after the demo seeding and before serving, to change the
	// configuration through a.Store(); the broker reloads after it.
	Setup func(ctx context.Context, a *App) error
	// PostgresDSN, when set, runs the instance on that PostgreSQL database
	// instead of SQLite (dev mode and demo data otherwise unchanged).
	PostgresDSN string
}

// StartForTest runs a whole dev instance (SQLite in a temporary directory,
// the demo registry and integrations, the demo services) on a free
// loopback port for tests of other packages, such as the browser tests,
// and stops it when the test ends. It returns the app and its base URL.
func StartForTest(tb testing.TB, opt TestOptions) (*App, string) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	dir := tb.TempDir()
	if _, err := keys.GenerateMasterKeyFile(filepath.Join(dir, "master.key")); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.LoadDev("", nil, dir, port)
	if err != nil {
		tb.Fatal(err)
	}
	if opt.PostgresDSN != "" {
		cfg.Database.Driver, cfg.Database.DSN = config.DriverPostgres, opt.PostgresDSN
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	src, err := registry.NewClient("http://organisaatio.invalid/", "test", fakeopas.HTTPClient(fakeopas.Generate(1, fakeopas.SizeDemo)))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, log, WithRegistrySource(src))
	if err != nil {
		cancel()
		ln.Close()
		tb.Fatal(err)
	}
	if opt.Setup != nil {
		if err := opt.Setup(ctx, a); err != nil {
			cancel()
			ln.Close()
			a.Close()
			tb.Fatal(err)
		}
		if _, err := a.broker.Reload(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	return a, cfg.Server.PublicURL
}
