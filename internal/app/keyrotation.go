package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/store"
)

const keyRotationCheckInterval = time.Hour

// publicationLead is how long a new key is published (JWKS, SAML metadata)
// before it signs: a quarter of the rotation interval, at most a week. Relying
// parties that cache the JWKS for a day, and SAML services whose operators
// add the next certificate by hand, see it in time.
func publicationLead(interval time.Duration) time.Duration {
	return min(interval/4, 7*24*time.Hour)
}

// rotationStep says whether a key rotation step is due for one algorithm:
// publish a next key when the current one nears the end of its interval,
// and promote it once the current one is due and the next one has been
// published for the lead time.
func rotationStep(recs []store.KeyRecord, alg string, interval time.Duration, now time.Time) bool {
	lead := publicationLead(interval)
	var current, next *store.KeyRecord
	for i := range recs {
		r := &recs[i]
		if r.Algorithm != alg {
			continue
		}
		switch r.State {
		case store.KeyCurrent:
			if current == nil || r.UpdatedAt.Before(current.UpdatedAt) {
				current = r
			}
		case store.KeyNext:
			next = r
		}
	}
	if current == nil {
		return false // Ensure creates it; not a rotation
	}
	age := now.Sub(current.UpdatedAt)
	if next == nil {
		return age >= interval-lead
	}
	return age >= interval && now.Sub(next.UpdatedAt) >= lead
}

// rotateKeys checks every hour whether a rotation step is due and takes it.
// Rotate takes the store's "keys" lock, so one instance does each step.
func (a *App) rotateKeys(ctx context.Context) {
	check := func() {
		recs, err := a.store.ListKeys(ctx)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("key rotation: list keys", slog.Any("error", err))
			}
			return
		}
		for _, alg := range keys.Algorithms() {
			if !rotationStep(recs, alg, a.cfg.Keys.RotationInterval, time.Now()) {
				continue
			}
			if err := a.keys.Rotate(ctx, alg); err != nil {
				if errors.Is(err, store.ErrLocked) {
					continue // another instance is rotating
				}
				a.log.Error("key rotation", slog.String("algorithm", alg), slog.Any("error", err))
				continue
			}
			a.log.Info("signing key rotation step", slog.String("algorithm", alg))
			if err := a.reloadKeys(ctx); err != nil {
				a.log.Error("key rotation: reload", slog.Any("error", err))
			}
		}
	}
	check()
	t := time.NewTicker(keyRotationCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}
