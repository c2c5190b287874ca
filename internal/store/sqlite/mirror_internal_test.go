package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// A mark this process makes is seen at once, however long the mirror may
// otherwise go without loading; a mark of another process (another Store
// on the file) is seen once the mirror is older than its bound.
func TestMarkedMirrorSeesMarks(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "mpassid.db")
	a, b := OpenTestAt(t, path), OpenTestAt(t, path)
	a.mirror.maxAge = time.Hour
	until := time.Now().Add(time.Hour)

	if marked, err := a.Marked(ctx, "revoked", "g1"); err != nil || marked {
		t.Fatalf("Marked before any mark = %v, %v", marked, err)
	}
	if _, err := a.MarkUsed(ctx, "revoked", "g1", until); err != nil {
		t.Fatal(err)
	}
	if marked, err := a.Marked(ctx, "revoked", "g1"); err != nil || !marked {
		t.Errorf("this process's own mark not seen at once: %v, %v", marked, err)
	}

	// Another process's mark waits for the next load: with a bound of an
	// hour, not yet; with the bound passed, at once.
	if _, err := b.MarkUsed(ctx, "revoked", "g2", until); err != nil {
		t.Fatal(err)
	}
	if marked, _ := a.Marked(ctx, "revoked", "g2"); marked {
		t.Errorf("another process's mark seen before the mirror's next load")
	}
	a.mirror.maxAge = time.Millisecond
	time.Sleep(2 * time.Millisecond)
	if marked, err := a.Marked(ctx, "revoked", "g2"); err != nil || !marked {
		t.Errorf("another process's mark not seen after the bound: %v, %v", marked, err)
	}
	// Other namespaces and other values stay unmarked; the first mark too.
	for _, q := range [][2]string{{"revoked", "g3"}, {"other", "g1"}} {
		if marked, err := a.Marked(ctx, q[0], q[1]); err != nil || marked {
			t.Errorf("Marked(%s, %s) = %v, %v", q[0], q[1], marked, err)
		}
	}
	if marked, _ := a.Marked(ctx, "revoked", "g1"); !marked {
		t.Error("a reload lost a mark")
	}
}

// A mark whose time has passed is not seen, between loads too, and may be
// made again.
func TestMarkedMirrorExpiry(t *testing.T) {
	ctx := t.Context()
	s := OpenTemp(t)
	s.mirror.maxAge = time.Hour
	if _, err := s.Marked(ctx, "revoked", "x"); err != nil { // loaded now
		t.Fatal(err)
	}
	if _, err := s.MarkUsed(ctx, "revoked", "past", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if marked, _ := s.Marked(ctx, "revoked", "past"); marked {
		t.Error("an expired mark seen")
	}
	if fresh, err := s.MarkUsed(ctx, "revoked", "past", time.Now().Add(time.Hour)); err != nil || !fresh {
		t.Fatalf("marking an expired value again = %v, %v", fresh, err)
	}
	if marked, _ := s.Marked(ctx, "revoked", "past"); !marked {
		t.Error("a renewed mark not seen")
	}
}

// A mark added while a load is under way, which the load's snapshot does
// not hold, survives the load.
func TestMarkedMirrorAddDuringLoad(t *testing.T) {
	loading := make(chan struct{})
	release := make(chan struct{})
	var calls int
	m := newMarksMirror(time.Hour, func(ctx context.Context, ns string, now time.Time) (map[string]time.Time, error) {
		calls++
		if calls == 2 {
			close(loading)
			<-release
		}
		return map[string]time.Time{"old": now.Add(time.Hour)}, nil
	})
	ctx := t.Context()
	if _, err := m.marked(ctx, "ns", "x"); err != nil { // the first load
		t.Fatal(err)
	}
	m.maxAge = 0 // every question loads again

	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := m.marked(ctx, "ns", "x"); err != nil {
			t.Error(err)
		}
	})
	<-loading
	added := make(chan struct{})
	go func() {
		m.add("ns", "new", time.Now().Add(time.Hour))
		close(added)
	}()
	close(release)
	wg.Wait()
	<-added
	m.maxAge = time.Hour
	for _, key := range []string{"old", "new"} {
		if marked, err := m.marked(ctx, "ns", key); err != nil || !marked {
			t.Errorf("%s: %v, %v", key, marked, err)
		}
	}
}

// A failing load is the caller's error, and the next question tries again.
func TestMarkedMirrorLoadFailure(t *testing.T) {
	fail := true
	m := newMarksMirror(time.Hour, func(ctx context.Context, ns string, now time.Time) (map[string]time.Time, error) {
		if fail {
			return nil, errors.New("disk on fire")
		}
		return map[string]time.Time{"k": now.Add(time.Hour)}, nil
	})
	if _, err := m.marked(t.Context(), "ns", "k"); err == nil {
		t.Fatal("a failed load answered")
	}
	fail = false
	if marked, err := m.marked(t.Context(), "ns", "k"); err != nil || !marked {
		t.Errorf("after the failure: %v, %v", marked, err)
	}
}

// Concurrent questions and marks (run with -race).
func TestMarkedMirrorConcurrent(t *testing.T) {
	ctx := t.Context()
	s := OpenTemp(t)
	s.mirror.maxAge = time.Millisecond
	until := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				v := fmt.Sprint(w, "-", i)
				if _, err := s.MarkUsed(ctx, "revoked", v, until); err != nil {
					t.Error(err)
					return
				}
				if marked, err := s.Marked(ctx, "revoked", v); err != nil || !marked {
					t.Errorf("%s: %v, %v", v, marked, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
