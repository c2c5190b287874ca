package main

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mpassid/mpassid/internal/registry/fakeopas"
	"github.com/mpassid/mpassid/internal/testenv"
)

var syncLine = regexp.MustCompile(`registry sync (\w+): (\d+) organisations, (\d+) added, (\d+) changed, (\d+) removed`)

// `mpassid orgsync` against the fake national dataset completes and reports
// counts; a second run reports zero changes. On both backends.
func TestOrgsyncNationalDataset(t *testing.T) {
	ds := fakeopas.Generate(7, fakeopas.SizeNational)
	srv := fakeopas.NewServer(ds)
	defer srv.Close()

	backends := []struct {
		name string
		env  func(t *testing.T) []string
	}{
		{"sqlite", func(t *testing.T) []string {
			return []string{"MPASSID_DATABASE_DRIVER=sqlite", "MPASSID_DATABASE_DSN=" + filepath.Join(t.TempDir(), "orgsync.db")}
		}},
		{"postgres", func(t *testing.T) []string {
			return []string{"MPASSID_DATABASE_DSN=" + freshPostgresDatabase(t)}
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			environ := append(b.env(t),
				"MPASSID_KEYS_MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
				"MPASSID_SERVER_PUBLIC_URL=https://mpassid.example.fi",
				"MPASSID_REGISTRY_BASE_URL="+srv.URL+"/",
				"MPASSID_LOG_LEVEL=warn",
			)
			counts := func() []int {
				code, stdout, stderr := runCmd(t, environ, "orgsync")
				if code != exitOK {
					t.Fatalf("orgsync exited %d: %s", code, stderr)
				}
				m := syncLine.FindStringSubmatch(stdout)
				if m == nil {
					t.Fatalf("no counts in %q", stdout)
				}
				var n []int
				for _, s := range m[2:] {
					v, _ := strconv.Atoi(s)
					n = append(n, v)
				}
				return n
			}
			first := counts()
			if first[0] != ds.Len() || first[1] != ds.Len() || first[2] != 0 || first[3] != 0 {
				t.Errorf("first sync: total %d added %d changed %d removed %d; dataset has %d", first[0], first[1], first[2], first[3], ds.Len())
			}
			second := counts()
			if second[0] != ds.Len() || second[1] != 0 || second[2] != 0 || second[3] != 0 {
				t.Errorf("second sync should change nothing: %v", second)
			}
		})
	}
}

// freshPostgresDatabase creates an empty database on the test server and
// returns its DSN; it is dropped when the test ends.
func freshPostgresDatabase(t *testing.T) string {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("mpassid_cmd_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		c, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			return
		}
		defer c.Close(t.Context())
		_, _ = c.Exec(t.Context(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return strings.TrimSpace(u.String())
}
