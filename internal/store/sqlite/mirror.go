package sqlite

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// markMirrorMaxAge bounds how old the mirror of a namespace's marks may be
// when Marked answers from it: a mark another process made (an instance
// overlapping this one in a restart) is seen within this time; this
// process's own marks are seen at once.
const markMirrorMaxAge = time.Second

// marksMirror keeps in memory the live marks of the namespaces that Marked
// reads, so that the question asked on every userinfo request (was this
// grant revoked?) costs a map lookup instead of a read transaction. A read
// on SQLite is dear under load (34 µs a login in the profile, about five
// per cent of an OIDC login's CPU beyond its signature): every commit of
// the writer invalidates a reader connection's page cache, so each read
// fetches its pages from the log again. The namespaces Marked reads are
// small (revoked grants: a reused code or refresh token, rare) while the
// replay marks of every login, never read this way, are not mirrored.
//
// A namespace is loaded from the database when Marked first asks about it
// and loaded again once its copy is older than maxAge; MarkUsed adds this
// process's marks after committing them. A load holds the namespace's lock
// from before its read begins, so a mark committed before then is in the
// read, and one added later waits for the load to end.
type marksMirror struct {
	maxAge time.Duration
	// load returns the live marks of ns (the keys as stored, with their
	// expiry) as of now.
	load func(ctx context.Context, ns string, now time.Time) (map[string]time.Time, error)

	mu     sync.Mutex
	spaces map[string]*markSpace
}

type markSpace struct {
	mu       sync.RWMutex
	marks    map[string]time.Time // the stored key → its expiry
	loadedAt time.Time            // when the last load began; zero before the first
}

func newMarksMirror(maxAge time.Duration, load func(context.Context, string, time.Time) (map[string]time.Time, error)) *marksMirror {
	return &marksMirror{maxAge: maxAge, load: load, spaces: map[string]*markSpace{}}
}

// marked reports whether key is a live mark of ns, loading ns first if it
// was never loaded or its copy is older than maxAge.
func (m *marksMirror) marked(ctx context.Context, ns, key string) (bool, error) {
	m.mu.Lock()
	sp := m.spaces[ns]
	if sp == nil {
		sp = &markSpace{marks: map[string]time.Time{}}
		m.spaces[ns] = sp
	}
	m.mu.Unlock()

	now := time.Now()
	sp.mu.RLock()
	if fresh := !sp.loadedAt.IsZero() && now.Sub(sp.loadedAt) < m.maxAge; fresh {
		exp, ok := sp.marks[key]
		sp.mu.RUnlock()
		return ok && exp.After(now), nil
	}
	sp.mu.RUnlock()

	// Stale or never loaded: one caller loads, the others wait for it and
	// then find the copy fresh.
	sp.mu.Lock()
	defer sp.mu.Unlock()
	now = time.Now()
	if sp.loadedAt.IsZero() || now.Sub(sp.loadedAt) >= m.maxAge {
		loaded, err := m.load(ctx, ns, now)
		if err != nil {
			return false, fmt.Errorf("load the marks of %s: %w", ns, err)
		}
		if loaded == nil {
			loaded = map[string]time.Time{}
		}
		sp.marks, sp.loadedAt = loaded, now
	}
	exp, ok := sp.marks[key]
	return ok && exp.After(now), nil
}

// add records a mark this process has committed, if its namespace is
// mirrored. Called after the commit: a load under way when it comes may
// have missed the mark, and add, waiting for it, puts the mark back.
func (m *marksMirror) add(ns, key string, expiresAt time.Time) {
	m.mu.Lock()
	sp := m.spaces[ns]
	m.mu.Unlock()
	if sp == nil {
		return
	}
	sp.mu.Lock()
	if expiresAt.After(sp.marks[key]) {
		sp.marks[key] = expiresAt
	}
	sp.mu.Unlock()
}
