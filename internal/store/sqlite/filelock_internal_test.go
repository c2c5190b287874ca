package sqlite

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mpassid/mpassid/internal/store"
)

func TestLockFilePath(t *testing.T) {
	hashed := regexp.MustCompile(`^/data/mpassid\.db-lock-[0-9a-f]{16}$`)
	for _, tc := range []struct {
		name string
		want string // "" for a hashed name
	}{
		{"orgsync", "/data/mpassid.db-lock-orgsync"},
		{"key_rotation-2", "/data/mpassid.db-lock-key_rotation-2"},
		// Anything that is not plainly a file name is hashed: no name
		// reaches outside the database's directory.
		{"../../etc/passwd", ""},
		{"mpassid:migrate", ""},
		{"a b", ""},
		{"", ""},
		{strings.Repeat("a", 65), ""},
	} {
		got := lockFilePath("/data/mpassid.db", tc.name)
		if tc.want == "" && !hashed.MatchString(got) || tc.want != "" && got != tc.want {
			t.Errorf("lockFilePath(%q) = %q, want %q (\"\": hashed)", tc.name, got, tc.want)
		}
	}
	if lockFilePath("/d/x.db", "a/b") == lockFilePath("/d/x.db", "a:b") {
		t.Error("two names share one lock file")
	}
}

// Two stores on one file stand for two processes: a one-shot command and
// the serving instance.
func TestTryLockAcrossStores(t *testing.T) {
	if !crossProcessLocks {
		t.Skip("no flock(2) here: named locks hold within a process only")
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "mpassid.db")
	a, b := OpenTestAt(t, path), OpenTestAt(t, path)

	release, err := a.TryLock(ctx, "orgsync")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryLock(ctx, "orgsync"); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second store's TryLock = %v, want ErrLocked", err)
	}
	other, err := b.TryLock(ctx, "keys")
	if err != nil {
		t.Fatalf("another name: %v", err)
	}
	other()
	release()
	again, err := b.TryLock(ctx, "orgsync")
	if err != nil {
		t.Fatalf("after the release: %v", err)
	}
	again()
	if _, err := os.Stat(path + "-lock-orgsync"); err != nil {
		t.Errorf("lock file: %v", err)
	}
}

// A lock held by another process stops this one; when that process dies
// without releasing it (a crash, kill -9), the lock is free at once.
func TestTryLockAcrossProcesses(t *testing.T) {
	if !crossProcessLocks {
		t.Skip("no flock(2) here: named locks hold within a process only")
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "mpassid.db")
	s := OpenTestAt(t, path)

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLockHolderProcess$")
	cmd.Env = append(os.Environ(), "MPASSID_TEST_LOCK_HOLDER="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the holder process said %q, %v", line, err)
	}

	if _, err := s.TryLock(ctx, "orgsync"); !errors.Is(err, store.ErrLocked) {
		t.Errorf("TryLock while another process holds the lock = %v, want ErrLocked", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	release, err := s.TryLock(ctx, "orgsync")
	if err != nil {
		t.Fatalf("TryLock after the holder died: %v", err)
	}
	release()
}

// TestLockHolderProcess is the other process of TestTryLockAcrossProcesses:
// it takes the lock, says so, and holds it until killed.
func TestLockHolderProcess(t *testing.T) {
	path := os.Getenv("MPASSID_TEST_LOCK_HOLDER")
	if path == "" {
		t.Skip("run by TestTryLockAcrossProcesses")
	}
	s := OpenTestAt(t, path)
	if _, err := s.TryLock(t.Context(), "orgsync"); err != nil {
		t.Fatal(err)
	}
	fmt.Println("locked")
	// Blocks until the parent kills this process (or closes stdin).
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
}
