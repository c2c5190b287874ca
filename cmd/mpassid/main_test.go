package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/testenv"
)

func runCmd(t *testing.T, environ []string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr testenv.Buffer
	code := run(context.Background(), args, environ, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestUsageAndHelp(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{nil, exitUsage, "Usage: mpassid <command>", ""},
		{[]string{"help"}, exitOK, "Commands:", ""},
		{[]string{"--help"}, exitOK, "Commands:", ""},
		{[]string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{[]string{"serve", "--help"}, exitOK, "Usage: mpassid serve", ""},
		{[]string{"dev", "--help"}, exitOK, "Usage: mpassid dev", ""},
		{[]string{"migrate", "--help"}, exitOK, "Usage: mpassid migrate", ""},
		{[]string{"orgsync", "--help"}, exitOK, "Usage: mpassid orgsync", ""},
		{[]string{"version", "--help"}, exitOK, "Usage: mpassid version", ""},
		{[]string{"help", "dev"}, exitOK, "--data-dir", ""},
		{[]string{"serve", "--no-such-flag"}, exitUsage, "", "flag provided but not defined"},
		{[]string{"version", "extra"}, exitUsage, "", "unexpected arguments: extra"},
		{[]string{"version"}, exitOK, "mpassid ", ""},
		{[]string{"dev", "--port", "70000"}, exitUsage, "", "--port"},
		{[]string{"loadtest", "--help"}, exitOK, "[--rate R]", ""},
		{[]string{"loadtest", "--rate", "-5", "--admin-token", "t"}, exitUsage, "", "--rate"},
		{[]string{"loadtest", "--duration", "0", "--admin-token", "t"}, exitUsage, "", "--duration or --count"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout %q lacks %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.wantStderr)
			}
		})
	}
}

// A bad configuration value stops the program with exit code 2 and a message
// that names the field.
func TestBadConfigExitsTwo(t *testing.T) {
	const masterKey = "MPASSID_KEYS_MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	base := []string{masterKey, "MPASSID_DATABASE_DSN=postgres://127.0.0.1:1/x", "MPASSID_SERVER_PUBLIC_URL=https://mpassid.example.fi"}
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("broker:\n  issuer: http://example.fi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unknownKey := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknownKey, []byte("server:\n  listen_port: 80\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		environ []string
		args    []string
		want    string
	}{
		{"issuer from file", base, []string{"serve", "--config", badYAML}, "broker.issuer: must be an absolute https URL"},
		{"issuer from env", append(base, "MPASSID_BROKER_ISSUER=http://example.fi"), []string{"serve"}, "broker.issuer: must be an absolute https URL"},
		{"unknown key", base, []string{"serve", "--config", unknownKey}, "listen_port"},
		{"bad duration", append(base, "MPASSID_SERVER_SHUTDOWN_TIMEOUT=soon"), []string{"serve"}, "server.shutdown_timeout"},
		{"bad role", base, []string{"serve", "--roles", "broker,kitchen"}, "roles"},
		{"missing file", base, []string{"migrate", "--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"no master key", base[1:], []string{"serve"}, "keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.environ, tt.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr: %s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not name %q", stderr, tt.want)
			}
		})
	}
}

var urlPattern = regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/ `)

// startDev runs `mpassid dev` until the returned stop is called and returns
// its base URL once it serves.
func startDev(t *testing.T, dataDir string) (base string, stdout *testenv.Buffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &testenv.Buffer{}
	var stderr testenv.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--data-dir", dataDir, "--port", "0"}, nil, stdout, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := urlPattern.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("mpassid dev exited with %d before serving: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("mpassid dev did not start within 30 s; stderr: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, stdout, func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(20 * time.Second):
			t.Fatal("mpassid dev did not stop within 20 s of cancellation")
			return -1
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// The newcomer's path: `mpassid dev` on an empty directory serves, is ready,
// shows its demo data, stops cleanly on Ctrl-C, and a second start reuses the
// data instead of seeding again.
func TestDevFirstAndSecondStart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")

	base, stdout, stop := startDev(t, dataDir)
	if code, body := get(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	if code, body := get(t, base+"/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics: %d", code)
	}
	code, home := get(t, base+"/")
	if code != http.StatusOK || !strings.Contains(home, "Demo-OIDC-palvelu") {
		t.Fatalf("home page %d lacks the demo data: %s", code, home)
	}
	firstSecret := regexp.MustCompile(`client_secret=(\S+)`).FindStringSubmatch(stdout.String())
	if firstSecret == nil {
		t.Fatalf("banner does not give the demo client secret: %s", stdout.String())
	}
	if code := stop(); code != exitOK {
		t.Fatalf("dev exited with %d after Ctrl-C", code)
	}
	for _, f := range []string{"mpassid.db", "master.key"} {
		if _, err := os.Stat(filepath.Join(dataDir, f)); err != nil {
			t.Errorf("data directory lacks %s: %v", f, err)
		}
	}

	base, stdout, stop = startDev(t, dataDir)
	defer stop()
	_, home2 := get(t, base+"/")
	if strings.Count(home2, "Demo-OIDC-palvelu") != 1 {
		t.Errorf("second start seeded again or lost the demo data: %s", home2)
	}
	secondSecret := regexp.MustCompile(`client_secret=(\S+)`).FindStringSubmatch(stdout.String())
	if secondSecret == nil || secondSecret[1] != firstSecret[1] {
		t.Errorf("demo client secret changed between starts: %v vs %v", firstSecret, secondSecret)
	}
}
