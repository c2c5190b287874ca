package registry

import (
	"context"
	"slices"
	"sync"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// memStore is an in-memory store.Organisations + store.Locker for tests,
// with the semantics the real stores promise: ReplaceOrganisations is all
// or nothing and returns what changed.
type memStore struct {
	mu      sync.Mutex
	orgs    []model.Organisation
	runs    []model.SyncRun
	locks   map[string]bool
	replace int // ReplaceOrganisations calls
}

var _ SyncStore = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{locks: map[string]bool{}} }

func (m *memStore) ReplaceOrganisations(ctx context.Context, orgs []model.Organisation) (store.SyncCounts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.replace++
	old := make(map[string]*model.Organisation, len(m.orgs))
	for i := range m.orgs {
		old[m.orgs[i].OID] = &m.orgs[i]
	}
	var c store.SyncCounts
	for i := range orgs {
		o, ok := old[orgs[i].OID]
		switch {
		case !ok:
			c.Added++
		case !SameOrganisation(o, &orgs[i]):
			c.Changed++
		}
		delete(old, orgs[i].OID)
	}
	c.Removed = len(old)
	c.Total = len(orgs)
	m.orgs = slices.Clone(orgs)
	return c, nil
}

func (m *memStore) ListOrganisations(ctx context.Context) ([]model.Organisation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.orgs), nil
}

func (m *memStore) GetOrganisation(ctx context.Context, oid string) (*model.Organisation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.orgs {
		if m.orgs[i].OID == oid {
			o := m.orgs[i]
			return &o, nil
		}
	}
	return nil, store.ErrNotFound
}

func (m *memStore) CountOrganisations(ctx context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.orgs), nil
}

func (m *memStore) RecordSyncRun(ctx context.Context, run model.SyncRun) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if run.ID == 0 {
		run.ID = int64(len(m.runs) + 1)
		m.runs = append(m.runs, run)
		return run.ID, nil
	}
	m.runs[run.ID-1] = run
	return run.ID, nil
}

func (m *memStore) SyncRuns(ctx context.Context, limit int) ([]model.SyncRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.runs)
	slices.Reverse(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memStore) TryLock(ctx context.Context, name string) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[name] {
		return nil, store.ErrLocked
	}
	m.locks[name] = true
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.locks, name)
	}, nil
}

func (m *memStore) lastRun() model.SyncRun {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.runs) == 0 {
		return model.SyncRun{}
	}
	return m.runs[len(m.runs)-1]
}
