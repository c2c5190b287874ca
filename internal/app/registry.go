package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/store"
)

// Option changes how New builds an App.
type Option func(*options)

type options struct {
	registrySource registry.Source
}

// WithRegistrySource makes the registry sync fetch from src instead of the
// configured Organisaatiopalvelu (the dev command's built-in fake, tests).
func WithRegistrySource(src registry.Source) Option {
	return func(o *options) { o.registrySource = src }
}

// NewSyncer builds the registry sync job on st for the configured
// Organisaatiopalvelu, or for src when it is not nil. onUpdate receives the
// new registry after each successful sync.
func NewSyncer(cfg *config.Config, st store.Store, log *slog.Logger, src registry.Source, onUpdate func(*registry.Lookup)) (*registry.Syncer, error) {
	if src == nil {
		client, err := registry.NewClient(cfg.Registry.BaseURL, cfg.Registry.CallerID, nil,
			registry.WithTimeout(cfg.Registry.Timeout),
			registry.WithMaxBodySize(cfg.Registry.MaxResponseBytes),
			registry.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("registry client: %w", err)
		}
		src = client
	}
	opts := []registry.SyncOption{registry.WithMaxRemovalShare(cfg.Registry.MaxRemovalShare)}
	if onUpdate != nil {
		opts = append(opts, registry.WithOnUpdate(func(orgs []model.Organisation) { onUpdate(registry.NewLookup(orgs)) }))
	}
	return registry.NewSyncer(st, src, log, opts...), nil
}

// registryScheduler runs the daily sync at registry.sync_time in
// registry.timezone, on whichever instance takes the lock that day.
func (a *App) registryScheduler(ctx context.Context) {
	loc, err := time.LoadLocation(a.cfg.Registry.Timezone)
	if err != nil {
		a.log.Error("registry schedule: time zone", slog.Any("error", err))
		return
	}
	sched, err := registry.NewScheduler(a.syncer, a.store, a.log, registry.WithRunAt(a.cfg.Registry.SyncTime, loc))
	if err != nil {
		a.log.Error("registry schedule", slog.Any("error", err))
		return
	}
	if err := sched.Run(ctx); err != nil {
		a.log.Error("registry schedule stopped", slog.Any("error", err))
	}
}

// watchConfig reloads the in-memory registry when another instance changed
// the configuration (a sync there, an admin change): it polls the store's
// configuration version, which every change bumps, and swaps in the new
// snapshot atomically.
func (a *App) watchConfig(ctx context.Context) {
	// Start from what New loaded, not from a fresh read: a change made
	// between New and this job's start must not be missed.
	last := a.broker.Catalog().Version
	lastSync := a.loadedStamp
	t := time.NewTicker(a.cfg.Broker.ConfigPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := a.store.ConfigVersion(ctx)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("reading configuration version", slog.Any("error", err))
			}
			continue
		}
		if v == last {
			continue
		}
		// The registry (some 15,000 organisations) is reloaded only when a
		// sync changed it, not on every integration edit.
		if stamp, err := a.registryStamp(ctx); err != nil || stamp != lastSync {
			if err := a.registry.Load(ctx, a.store); err != nil {
				a.log.Warn("reloading registry", slog.Any("error", err))
				continue
			}
			lastSync = stamp
		}
		if err := a.reloadKeys(ctx); err != nil {
			a.log.Warn("reloading signing keys", slog.Any("error", err))
			continue
		}
		if _, err := a.broker.Reload(ctx); err != nil {
			a.log.Warn("reloading integrations", slog.Any("error", err))
			continue
		}
		a.log.Info("configuration reloaded", slog.Int64("version", v), slog.Int("organisations", a.registry.Current().Len()))
		last = v
	}
}

// registryStamp identifies the registry's content: the id of the newest sync
// run that changed it (outcome ok), 0 if none of the recent runs did.
func (a *App) registryStamp(ctx context.Context) (int64, error) {
	runs, err := a.store.SyncRuns(ctx, 20)
	if err != nil {
		return 0, fmt.Errorf("sync runs: %w", err)
	}
	for _, r := range runs {
		if r.Outcome == model.SyncOK {
			return r.ID, nil
		}
	}
	return 0, nil
}
