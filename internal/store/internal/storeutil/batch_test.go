package storeutil

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeDB records how writes ran: "fail" statements fail, and a batch
// holding one fails as a whole, as a transaction would.
type fakeDB struct {
	mu       sync.Mutex
	batches  int
	alone    int
	gate     chan struct{} // when set, the first write waits on it
	gateOnce sync.Once
	down     error // when set, every batch fails with it, not a statement
}

func (f *fakeDB) wait() {
	if f.gate != nil {
		f.gateOnce.Do(func() { <-f.gate })
	}
}

func (f *fakeDB) together(ws []*Write) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches++
	if f.down != nil {
		return f.down
	}
	for _, w := range ws {
		if w.Query == "fail" {
			return fmt.Errorf("%w: statement failed", ErrRerunAlone)
		}
	}
	for _, w := range ws {
		w.Rows = 1
	}
	return nil
}

func (f *fakeDB) runAlone(w *Write) {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alone++
	if w.Query == "fail" {
		w.Err = errors.New("statement failed")
		return
	}
	w.Rows = 1
}

func TestBatcherOutcomes(t *testing.T) {
	down := errors.New("connection refused")
	for _, tc := range []struct {
		name string
		down error
	}{{"a statement fails", nil}, {"the database is down", down}} {
		t.Run(tc.name, func(t *testing.T) { testBatcherOutcomes(t, tc.down) })
	}
}

func testBatcherOutcomes(t *testing.T, down error) {
	f := &fakeDB{gate: make(chan struct{}), down: down}
	b := NewBatcher(f.together, f.runAlone)
	defer b.Close()
	ctx := context.Background()

	// The first write holds the writer while the others queue, so they
	// run as one batch, which fails for the one bad statement and is
	// then run write by write; or, with the database down, fails as a
	// whole and is not run again.
	first := make(chan error, 1)
	go func() { _, err := b.Exec(ctx, "ok"); first <- err }()
	time.Sleep(10 * time.Millisecond) // lets the first write be taken; the outcome does not depend on it
	queries := []string{"ok", "fail", "ok", "ok"}
	errs := make([]error, len(queries))
	rows := make([]int64, len(queries))
	var wg sync.WaitGroup
	for i, q := range queries {
		wg.Add(1)
		go func() { defer wg.Done(); rows[i], errs[i] = b.Exec(ctx, q) }()
	}
	time.Sleep(10 * time.Millisecond)
	close(f.gate)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("first write: %v", err)
	}
	if down != nil {
		for i := range queries {
			if !errors.Is(errs[i], down) || rows[i] != 0 {
				t.Errorf("write %d with the database down: rows %d, err %v", i, rows[i], errs[i])
			}
		}
		if f.alone > 1 { // the first write may have run alone before the batch
			t.Errorf("%d writes ran alone with the database down, want at most the first", f.alone)
		}
		return
	}
	for i, q := range queries {
		if (q == "fail") != (errs[i] != nil) || (q == "ok") != (rows[i] == 1) {
			t.Errorf("write %d (%s): rows %d, err %v", i, q, rows[i], errs[i])
		}
	}
}

func TestBatcherCancelledAndClosed(t *testing.T) {
	f := &fakeDB{}
	b := NewBatcher(f.together, f.runAlone)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Exec(ctx, "ok"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled write: %v", err)
	}
	if n, err := b.Exec(context.Background(), "ok"); err != nil || n != 1 {
		t.Errorf("write: %d %v", n, err)
	}
	b.Close()
	if _, err := b.Exec(context.Background(), "ok"); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}
