package app

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/postgres"
	"github.com/mpassid/mpassid/internal/store/sqlite"
)

// OpenStore opens the configured database. A PostgreSQL server that is not
// reachable yet (the usual case when a whole environment starts at once) is
// retried with capped exponential backoff until database.start_retry_max has
// passed, logging each failure plainly, so that an operator sees at once what
// is wrong and the instance comes up by itself when the database does.
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	switch cfg.Database.Driver {
	case "sqlite":
		st, err := sqlite.Open(ctx, cfg.Database.DSN)
		if err != nil {
			return nil, fmt.Errorf("open sqlite database %s: %w", cfg.Database.DSN, err)
		}
		return st, nil
	case "postgres":
		return openWithRetry(ctx, log, cfg.Database.StartRetryMax, cfg.Database.ConnectTimeout, func(ctx context.Context) (store.Store, error) {
			return postgres.Open(ctx, cfg.Database.DSN)
		})
	default:
		return nil, fmt.Errorf("database.driver: unknown driver %q", cfg.Database.Driver)
	}
}

// openWithRetry calls open until it succeeds, ctx ends or maxWait passes.
func openWithRetry(ctx context.Context, log *slog.Logger, maxWait, attemptTimeout time.Duration, open func(context.Context) (store.Store, error)) (store.Store, error) {
	deadline := time.Now().Add(maxWait)
	delay := 250 * time.Millisecond
	const maxDelay = 10 * time.Second
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		st, err := open(actx)
		if err == nil {
			err = st.Ping(actx)
			if err != nil {
				_ = st.Close()
			}
		}
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("database reachable", slog.Int("attempts", attempt))
			}
			return st, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("database not reachable (gave up: %w): %w", ctx.Err(), err)
		}
		if time.Now().Add(delay).After(deadline) {
			return nil, fmt.Errorf("database not reachable after %d attempts in %s (database.start_retry_max): %w", attempt, maxWait, err)
		}
		// Jitter spreads the retries of many instances restarted together.
		wait := delay/2 + rand.N(delay/2+1)
		log.Warn("database not reachable yet; retrying",
			slog.Int("attempt", attempt), slog.Duration("retry_in", wait), slog.Any("error", err))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("database not reachable (gave up: %w): %w", ctx.Err(), err)
		case <-time.After(wait):
		}
		delay = min(delay*2, maxDelay)
	}
}
