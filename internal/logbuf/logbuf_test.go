package logbuf

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an out that tests read while the Writer writes.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
	err    error
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.err != nil {
		return 0, s.err
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func TestHeldUntilFlush(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour)
	defer w.Close()
	for i := range 3 {
		if n, err := fmt.Fprintf(w, "line %d\n", i); err != nil || n != 7 {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if out.String() != "" {
		t.Fatalf("written before a flush: %q", out.String())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "line 0\nline 1\nline 2\n"; got != want {
		t.Errorf("out = %q, want %q", got, want)
	}
	if out.Writes() != 1 {
		t.Errorf("%d writes for one flush, want 1", out.Writes())
	}
	if err := w.Flush(); err != nil || out.Writes() != 1 {
		t.Errorf("an empty flush wrote: %v, %d writes", err, out.Writes())
	}
}

func TestIntervalWritesOut(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Millisecond)
	defer w.Close()
	fmt.Fprintln(w, "soon")
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "soon\n" {
		if time.Now().After(deadline) {
			t.Fatalf("not written out by the interval: %q", out.String())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCloseWritesTheRest(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour)
	fmt.Fprintln(w, "last words")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "last words\n" {
		t.Errorf("out after Close = %q", out.String())
	}
	if err := w.Close(); err != nil { // a second Close is harmless
		t.Fatal(err)
	}
}

// A burst never holds more than maxHeld: the write that fills it writes
// out.
func TestBurstWritesOut(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour)
	defer w.Close()
	line := strings.Repeat("x", 1023) + "\n"
	for range maxHeld / len(line) {
		w.Write([]byte(line))
	}
	if got := len(out.String()); got != maxHeld {
		t.Errorf("%d bytes written out after a burst of %d, want all", got, maxHeld)
	}
}

func TestFlushReportsFailure(t *testing.T) {
	out := syncBuffer{err: errors.New("disk full")}
	w := New(&out, time.Hour)
	defer w.Close()
	if _, err := w.Write([]byte("x\n")); err != nil {
		t.Fatalf("Write = %v; a write never fails", err)
	}
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Flush = %v", err)
	}
}

// Lines written at once from many goroutines come out whole, each once
// (run with -race).
func TestConcurrentLinesWhole(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(w, "goroutine %d line %d %s\n", g, i, strings.Repeat("y", i%300))
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	whole := regexp.MustCompile(`^goroutine \d line (\d+) (y*)$`)
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		m := whole.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("a broken line %q", l)
		}
		if i, _ := strconv.Atoi(m[1]); len(m[2]) != i%300 {
			t.Fatalf("a line cut short: %q", l)
		}
		if seen[l] {
			t.Fatalf("line twice: %q", l)
		}
		seen[l] = true
	}
	if len(seen) != 8*500 {
		t.Errorf("%d lines, want %d", len(seen), 8*500)
	}
}
