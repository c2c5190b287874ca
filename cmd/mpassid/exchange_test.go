package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Importing files in the national export shape, exporting them again, and
// importing the export: a dry run changes nothing, the import creates every
// record, the re-import finds them unchanged.
func TestImportExport(t *testing.T) {
	dir := t.TempDir()
	environ := []string{
		"MPASSID_DATABASE_DRIVER=sqlite", "MPASSID_DATABASE_DSN=" + filepath.Join(dir, "x.db"),
		"MPASSID_KEYS_MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"MPASSID_SERVER_PUBLIC_URL=https://mpassid.example.fi", "MPASSID_LOG_LEVEL=warn",
	}
	files := []string{}
	for _, f := range []string{"sets.json", "services.json", "identityproviders.json"} {
		files = append(files, filepath.Join("..", "..", "internal", "admin", "exchange", "testdata", f))
	}

	code, out, stderr := runCmd(t, environ, append([]string{"import", "--dry-run"}, files...)...)
	if code != exitOK || !strings.Contains(out, "dry run, nothing written") {
		t.Fatalf("dry run: %d %s %s", code, out, stderr)
	}
	code, exported, _ := runCmd(t, environ, "export")
	if code != exitOK {
		t.Fatal("export failed")
	}
	var empty map[string]any
	if err := json.Unmarshal([]byte(exported), &empty); err != nil || len(empty) != 0 {
		t.Fatalf("dry run wrote something: %s", exported)
	}

	code, out, stderr = runCmd(t, environ, append([]string{"import"}, files...)...)
	if code != exitOK || !strings.Contains(out, "imported: ") || strings.Contains(out, " 0 created") {
		t.Fatalf("import: %d %s %s", code, out, stderr)
	}
	exportFile := filepath.Join(dir, "export.json")
	if code, _, stderr := runCmd(t, environ, "export", "--out", exportFile); code != exitOK {
		t.Fatalf("export: %s", stderr)
	}
	data, err := os.ReadFile(exportFile)
	if err != nil || !strings.Contains(string(data), "identityProviders") {
		t.Fatalf("export file: %v %s", err, data)
	}
	code, out, _ = runCmd(t, environ, "import", exportFile)
	if code != exitOK || !strings.Contains(out, "0 created, 0 updated") {
		t.Errorf("re-import of the export should change nothing: %s", out)
	}
	if code, _, stderr := runCmd(t, environ, "import"); code != exitUsage || !strings.Contains(stderr, "at least one") {
		t.Errorf("import without files: %d %s", code, stderr)
	}
}

// `mpassid keys rotate` publishes a next key; a second rotation makes it
// current; `keys list` shows the states.
func TestKeysCommand(t *testing.T) {
	environ := []string{
		"MPASSID_DATABASE_DRIVER=sqlite", "MPASSID_DATABASE_DSN=" + filepath.Join(t.TempDir(), "k.db"),
		"MPASSID_KEYS_MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"MPASSID_SERVER_PUBLIC_URL=https://mpassid.example.fi", "MPASSID_LOG_LEVEL=warn",
	}
	code, out, stderr := runCmd(t, environ, "keys", "rotate", "--alg", "ES256")
	if code != exitOK || !strings.Contains(out, "current") {
		t.Fatalf("first rotation on an empty store makes a current key: %d %s %s", code, out, stderr)
	}
	runCmd(t, environ, "keys", "rotate", "--alg", "ES256")
	code, out, _ = runCmd(t, environ, "keys", "list")
	if code != exitOK || !strings.Contains(out, "next") || !strings.Contains(out, "current") {
		t.Fatalf("after two steps a next and a current key: %s", out)
	}
	if code, _, _ := runCmd(t, environ, "keys", "shred"); code != exitUsage {
		t.Errorf("unknown action accepted")
	}
}

// `mpassid tokens create` prints a token the management API accepts.
func TestTokensCommand(t *testing.T) {
	environ := []string{
		"MPASSID_DATABASE_DRIVER=sqlite", "MPASSID_DATABASE_DSN=" + filepath.Join(t.TempDir(), "t.db"),
		"MPASSID_KEYS_MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"MPASSID_SERVER_PUBLIC_URL=https://mpassid.example.fi", "MPASSID_LOG_LEVEL=warn",
	}
	code, out, stderr := runCmd(t, environ, "tokens", "create", "--name", "ops", "--group", "APP_MPASSID_TALLENTAJA_1.2.246.562.10.00000000001")
	if code != exitOK || !strings.HasPrefix(strings.TrimSpace(out), "mpa_") || !strings.Contains(stderr, "shown only now") {
		t.Fatalf("tokens create: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := runCmd(t, environ, "tokens", "create", "--name", "x", "--group", "NOT_A_GROUP"); code != exitUsage {
		t.Errorf("a bad group was accepted: %s", stderr)
	}
	if code, _, _ := runCmd(t, environ, "tokens", "create", "--name", "x"); code != exitUsage {
		t.Errorf("no group accepted")
	}
}
