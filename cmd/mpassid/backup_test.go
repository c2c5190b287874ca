package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `mpassid backup` copies the configured SQLite database, or the one named
// by --database, and refuses what it cannot do plainly.
func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	environ := []string{
		"MPASSID_DATABASE_DRIVER=sqlite", "MPASSID_DATABASE_DSN=" + db,
		"MPASSID_KEYS_MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"MPASSID_SERVER_PUBLIC_URL=https://mpassid.example.fi", "MPASSID_LOG_LEVEL=warn",
	}
	if code, _, stderr := runCmd(t, environ, "keys", "rotate"); code != exitOK {
		t.Fatalf("keys rotate: %s", stderr)
	}

	fromConfig := filepath.Join(dir, "from-config.db")
	code, out, stderr := runCmd(t, environ, "backup", "--to", fromConfig)
	if code != exitOK || !strings.Contains(out, "backed up "+db+" to "+fromConfig) {
		t.Fatalf("backup from the configuration: %d %q %q", code, out, stderr)
	}
	// The copy is a database of its own: the keys command reads its key.
	copyEnv := append([]string{}, environ...)
	copyEnv[1] = "MPASSID_DATABASE_DSN=" + fromConfig
	if code, out, stderr := runCmd(t, copyEnv, "keys", "list"); code != exitOK || !strings.Contains(out, "current") {
		t.Errorf("keys list on the backup: %d %q %q", code, out, stderr)
	}

	named := filepath.Join(dir, "named.db")
	if code, _, stderr := runCmd(t, nil, "backup", "--database", db, "--to", named); code != exitOK {
		t.Errorf("backup --database: %d %s", code, stderr)
	}
	if fi, err := os.Stat(named); err != nil || fi.Size() == 0 {
		t.Errorf("backup --database wrote %v, %v", fi, err)
	}

	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
		code    int
		stderr  string
	}{
		{"no target", environ, []string{"backup"}, exitUsage, "--to"},
		{"no database named", nil, []string{"backup", "--to", filepath.Join(dir, "n.db")}, exitUsage, "--database or --config"},
		{"an existing target", environ, []string{"backup", "--to", named}, exitFailure, "never overwrites"},
		{"PostgreSQL", []string{
			"MPASSID_DATABASE_DSN=postgres://127.0.0.1:1/x",
			"MPASSID_KEYS_MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			"MPASSID_SERVER_PUBLIC_URL=https://mpassid.example.fi",
		}, []string{"backup", "--to", filepath.Join(dir, "p.db")}, exitUsage, "pg_dump"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tc.environ, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}
