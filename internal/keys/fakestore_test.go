package keys

import (
	"context"
	"fmt"
	"sync"

	"github.com/mpassid/mpassid/internal/store"
)

// memKeys is an in-memory store.Keys (and store.Locker) for tests.
type memKeys struct {
	mu     sync.Mutex
	keys   map[string]store.KeyRecord
	order  []string // insertion order, so ListKeys is deterministic
	locked map[string]bool
}

func newMemKeys() *memKeys {
	return &memKeys{keys: map[string]store.KeyRecord{}, locked: map[string]bool{}}
}

func cloneRecord(k store.KeyRecord) store.KeyRecord {
	k.SealedPrivateKey = append([]byte(nil), k.SealedPrivateKey...)
	k.CertificateDER = append([]byte(nil), k.CertificateDER...)
	return k
}

func (m *memKeys) InsertKey(ctx context.Context, k store.KeyRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[k.ID]; ok {
		return &store.DuplicateError{Field: "id", Value: k.ID}
	}
	m.keys[k.ID] = cloneRecord(k)
	m.order = append(m.order, k.ID)
	return nil
}

func (m *memKeys) ListKeys(ctx context.Context) ([]store.KeyRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.KeyRecord, 0, len(m.order))
	for _, id := range m.order {
		out = append(out, cloneRecord(m.keys[id]))
	}
	return out, nil
}

// SetKeyStates applies all changes or none.
func (m *memKeys) SetKeyStates(ctx context.Context, states map[string]store.KeyState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range states {
		if _, ok := m.keys[id]; !ok {
			return fmt.Errorf("key %s: %w", id, store.ErrNotFound)
		}
	}
	for id, st := range states {
		k := m.keys[id]
		k.State = st
		m.keys[id] = k
	}
	return nil
}

func (m *memKeys) TryLock(ctx context.Context, name string) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locked[name] {
		return nil, store.ErrLocked
	}
	m.locked[name] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			delete(m.locked, name)
			m.mu.Unlock()
		})
	}, nil
}

// states returns the ids of alg's keys by state.
func (m *memKeys) states(alg string) map[store.KeyState][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[store.KeyState][]string{}
	for _, id := range m.order {
		if k := m.keys[id]; k.Algorithm == alg {
			out[k.State] = append(out[k.State], id)
		}
	}
	return out
}
