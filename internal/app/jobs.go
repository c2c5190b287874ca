package app

import (
	"context"
	"github.com/mpassid/mpassid/internal/config"
	"log/slog"
	"time"
)

// runtimeGCInterval is how often expired runtime state is removed. Expired
// records already behave as absent, so this only bounds the tables' size.
const runtimeGCInterval = time.Minute

// backgroundJobs returns the jobs this instance runs beside HTTP.
func (a *App) backgroundJobs() []func(context.Context) {
	jobs := []func(context.Context){a.collectExpired, a.watchConfig, a.rotateKeys}
	// In dev mode the registry comes from the built-in fake and was synced
	// at start; production instances with the orgsync role sync daily.
	if a.hasRole(config.RoleOrgSync) && !a.cfg.Dev.Enabled {
		jobs = append(jobs, a.registryScheduler)
	}
	return jobs
}

// collectExpired deletes expired sessions, tokens, logout chains
// and replay-cache entries. Any instance may run it: deleting is idempotent.
func (a *App) collectExpired(ctx context.Context) {
	t := time.NewTicker(runtimeGCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.store.DeleteExpired(ctx, time.Now())
			if err != nil {
				if ctx.Err() == nil {
					a.log.Warn("deleting expired runtime state", slog.Any("error", err))
				}
				continue
			}
			if n > 0 {
				a.log.Debug("deleted expired runtime state", slog.Int64("records", n))
			}
		}
	}
}
