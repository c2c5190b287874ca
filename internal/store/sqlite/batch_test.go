package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openFile(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// Writes that share a commit get the outcome each would have had alone:
// every value is marked fresh exactly once, and a failing statement in a
// batch fails alone while the others land.
func TestBatchedWritesKeepTheirOwnOutcome(t *testing.T) {
	s := openFile(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	const values, tries = 40, 5
	var wg sync.WaitGroup
	fresh := make([]int, values)
	var mu sync.Mutex
	var badErrs, goodErrs int
	for i := range values * tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%7 == 0 {
				// Not a valid statement: fails inside whichever batch it joins.
				if _, err := s.batch.Exec(ctx, `INSERT INTO no_such_table VALUES (?)`, i); err != nil {
					mu.Lock()
					badErrs++
					mu.Unlock()
				}
			}
			ok, err := s.MarkUsed(ctx, "batch-test", fmt.Sprint(i%values), exp)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				goodErrs++
				return
			}
			if ok {
				fresh[i%values]++
			}
		}()
	}
	wg.Wait()
	if goodErrs != 0 {
		t.Fatalf("%d valid writes failed", goodErrs)
	}
	if want := (values*tries + 6) / 7; badErrs != want {
		t.Errorf("%d of %d invalid writes failed", badErrs, want)
	}
	for v, n := range fresh {
		if n != 1 {
			t.Errorf("value %d marked fresh %d times", v, n)
		}
	}
}

func TestBatchedWriteCancelledBeforeItRuns(t *testing.T) {
	s := openFile(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.MarkUsed(ctx, "batch-test", "x", time.Now().Add(time.Hour)); err == nil {
		t.Fatal("a cancelled write succeeded")
	}
	// Not recorded: the value is still fresh.
	if ok, err := s.MarkUsed(context.Background(), "batch-test", "x", time.Now().Add(time.Hour)); err != nil || !ok {
		t.Fatalf("after a cancelled write: %v %v", ok, err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	done := make(chan error, 1)
	go func() { _, err := s.MarkUsed(ctx, "batch-test", "x", time.Now().Add(time.Hour)); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a write after Close succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write after Close hangs")
	}
}

func TestWriteTransactionsCounted(t *testing.T) {
	s := openFile(t)
	ctx := context.Background()
	before := s.WriteTransactions()
	for i := range 5 {
		if _, err := s.MarkUsed(ctx, "count-test", fmt.Sprint(i), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// Reads commit nothing.
	if _, err := s.Marked(ctx, "count-test", "0"); err != nil {
		t.Fatal(err)
	}
	if got := s.WriteTransactions() - before; got != 5 {
		t.Errorf("5 writes one after another counted as %d commits", got)
	}
}
