package app

import (
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/store"
)

func TestRotationStep(t *testing.T) {
	const day = 24 * time.Hour
	interval := 90 * day // lead: 7 days
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	key := func(state store.KeyState, age time.Duration) store.KeyRecord {
		return store.KeyRecord{Algorithm: "RS256", State: state, UpdatedAt: now.Add(-age)}
	}
	tests := []struct {
		name string
		recs []store.KeyRecord
		want bool
	}{
		{"no keys", nil, false},
		{"young current", []store.KeyRecord{key(store.KeyCurrent, 10*day)}, false},
		{"current nearing its end: publish next", []store.KeyRecord{key(store.KeyCurrent, 84*day)}, true},
		{"next published, current not yet due", []store.KeyRecord{key(store.KeyCurrent, 85*day), key(store.KeyNext, 1*day)}, false},
		{"current due, next too fresh", []store.KeyRecord{key(store.KeyCurrent, 91*day), key(store.KeyNext, 2*day)}, false},
		{"current due, next published long enough: promote", []store.KeyRecord{key(store.KeyCurrent, 91*day), key(store.KeyNext, 7*day)}, true},
		{"other algorithm only", []store.KeyRecord{{Algorithm: "ES256", State: store.KeyCurrent, UpdatedAt: now.Add(-100 * day)}}, false},
		{"previous keys do not count", []store.KeyRecord{key(store.KeyCurrent, 5*day), key(store.KeyPrevious, 100*day)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rotationStep(tt.recs, "RS256", interval, now); got != tt.want {
				t.Errorf("rotationStep = %v, want %v", got, tt.want)
			}
		})
	}
}
