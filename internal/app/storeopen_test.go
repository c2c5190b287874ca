package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/testenv"
)

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func pgConfig(dsn string) *config.Config {
	cfg := config.Default()
	cfg.Database.Driver = "postgres"
	cfg.Database.DSN = dsn
	cfg.Database.ConnectTimeout = 2 * time.Second
	cfg.Database.StartRetryMax = 2 * time.Second
	return &cfg
}

// With nothing listening, OpenStore retries until database.start_retry_max
// and then says plainly that the database is unreachable.
func TestOpenStoreGivesUpWithClearError(t *testing.T) {
	var logs testenv.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := pgConfig("postgres://postgres@" + freePort(t) + "/x?sslmode=disable")
	_, err := OpenStore(context.Background(), cfg, log)
	if err == nil {
		t.Fatal("opened a database where none listens")
	}
	if !strings.Contains(err.Error(), "database not reachable") || !strings.Contains(err.Error(), "database.start_retry_max") {
		t.Errorf("unclear error: %v", err)
	}
	if !strings.Contains(logs.String(), "database not reachable yet; retrying") {
		t.Errorf("retries not logged: %s", logs.String())
	}
}

// proxy forwards connections from ln to target, so that a test can make a
// database "appear" at an address after a client started trying it.
func proxy(t *testing.T, ln net.Listener, target string) {
	t.Helper()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer up.Close()
			go func() { _, _ = io.Copy(up, c) }()
			_, _ = io.Copy(c, up)
		}()
	}
}

// `serve` started before its database recovers by itself when the database
// appears.
func TestOpenStoreRecoversWhenDatabaseAppears(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	addr := freePort(t)
	u.Host = addr

	var logs testenv.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := pgConfig(u.String())
	cfg.Database.StartRetryMax = 30 * time.Second

	type result struct {
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := OpenStore(context.Background(), cfg, log)
		if err == nil {
			err = st.Ping(context.Background())
			st.Close()
		}
		done <- result{err}
	}()

	// Wait until at least one attempt has failed, then bring the database up.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "retrying") {
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt logged: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	defer ln.Close()
	go proxy(t, ln, target)

	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("did not recover: %v", r.err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("OpenStore still waiting 40 s after the database appeared")
	}
	if !strings.Contains(logs.String(), "database reachable") {
		t.Errorf("recovery not logged: %s", logs.String())
	}
}
