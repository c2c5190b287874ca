package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// DefaultRunAt is when the daily sync runs, Finnish time: the registry's
// overnight updates are in by then, and school starts after it.
const DefaultRunAt = "07:00"

// parseHHMM parses "HH:MM" (24-hour clock).
func parseHHMM(s string) (h, m int, err error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, 0, fmt.Errorf("time of day %q: want HH:MM", s)
	}
	digits := func(a, b byte) (int, bool) {
		if a < '0' || a > '9' || b < '0' || b > '9' {
			return 0, false
		}
		return int(a-'0')*10 + int(b-'0'), true
	}
	h, ok1 := digits(s[0], s[1])
	m, ok2 := digits(s[3], s[4])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, 0, fmt.Errorf("time of day %q: want HH:MM between 00:00 and 23:59", s)
	}
	return h, m, nil
}

// NextRun returns the first moment strictly after `after` at which the
// wall clock in loc shows hhmm ("07:00").
//
// It counts in wall-clock days, not in 24-hour steps, so across a
// daylight-saving change the interval between two runs is 23 or 25 hours
// and the run stays at 07:00 local time. Two edge cases, which 07:00 in
// Finland never meets (the changes are at 03:00/04:00) but another hhmm
// can:
//
//   - a time that does not exist that day (in the spring-forward gap, e.g.
//     03:30 on the last Sunday of March in Europe/Helsinki, where clocks
//     jump from 03:00 to 04:00) resolves to the moment the gap ends (04:00
//     local): the first moment the wall clock has passed hhmm;
//   - a time that occurs twice (in the autumn fall-back overlap, e.g. 03:30
//     on the last Sunday of October) resolves to its first occurrence, so
//     the job runs once that day, not twice.
func NextRun(after time.Time, hhmm string, loc *time.Location) (time.Time, error) {
	h, m, err := parseHHMM(hhmm)
	if err != nil {
		return time.Time{}, err
	}
	if loc == nil {
		loc = time.Local
	}
	local := after.In(loc)
	for i := 0; i < 3; i++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+i, 0, 0, 0, 0, time.UTC)
		t := wallClock(day.Year(), day.Month(), day.Day(), h, m, loc)
		if t.After(after) {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("no %s after %v in %v", hhmm, after, loc) // unreachable
}

// wallClock resolves a wall-clock time in loc to an instant, with the gap
// and overlap rules of NextRun. (time.Date leaves the choice in those cases
// unspecified.)
func wallClock(y int, mo time.Month, d, h, m int, loc *time.Location) time.Time {
	naive := time.Date(y, mo, d, h, m, 0, 0, time.UTC)
	// The offsets in force around that day; transitions are months apart.
	_, offBefore := naive.Add(-48 * time.Hour).In(loc).Zone()
	_, offAfter := naive.Add(48 * time.Hour).In(loc).Zone()
	var best time.Time
	for _, off := range [2]int{offBefore, offAfter} {
		t := naive.Add(-time.Duration(off) * time.Second).In(loc)
		if t.Year() == y && t.Month() == mo && t.Day() == d && t.Hour() == h && t.Minute() == m {
			if best.IsZero() || t.Before(best) {
				best = t
			}
		}
	}
	if !best.IsZero() {
		return best
	}
	// In a gap: the wall time does not exist; take the end of the gap.
	t := naive.Add(-time.Duration(offBefore) * time.Second).In(loc)
	if start, _ := t.ZoneBounds(); !start.IsZero() && !start.After(t) {
		return start.In(loc)
	}
	return t
}

// Runner runs one sync; *Syncer is one.
type Runner interface {
	Run(ctx context.Context) (model.SyncRun, error)
}

// Counter tells how many organisations the store holds; store.Organisations
// has it.
type Counter interface {
	CountOrganisations(ctx context.Context) (int, error)
}

// Scheduler runs a sync every day at a wall-clock time.
type Scheduler struct {
	runner      Runner
	counter     Counter
	log         *slog.Logger
	at          string
	loc         *time.Location
	startupSync bool
	retryDelay  time.Duration
	retryLimit  int
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	maxNap      time.Duration
}

// SchedulerOption configures a Scheduler.
type SchedulerOption func(*Scheduler)

// WithRunAt sets the daily time ("HH:MM") and zone (default DefaultRunAt in
// Europe/Helsinki; the binary should import time/tzdata so the zone is
// known even without system zoneinfo).
func WithRunAt(hhmm string, loc *time.Location) SchedulerOption {
	return func(s *Scheduler) { s.at, s.loc = hhmm, loc }
}

// WithStartupSync sets whether Run syncs at once when the store holds no
// organisations yet (default true), so a new installation does not wait
// for the next morning.
func WithStartupSync(on bool) SchedulerOption { return func(s *Scheduler) { s.startupSync = on } }

// WithClock replaces the clock and the sleep, for tests. sleep must return
// early with an error when ctx is done.
func WithClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) SchedulerOption {
	return func(s *Scheduler) { s.now, s.sleep = now, sleep }
}

// NewScheduler returns a Scheduler running r; c (may be nil) tells whether
// the store is empty at start.
func NewScheduler(r Runner, c Counter, logger *slog.Logger, opts ...SchedulerOption) (*Scheduler, error) {
	s := &Scheduler{
		runner: r, counter: c, log: logger,
		at: DefaultRunAt, startupSync: true,
		retryDelay: time.Hour, retryLimit: 3,
		now: time.Now, sleep: sleepCtx,
		// Sleep in bounded naps and re-read the wall clock, so that a
		// suspended VM or a clock step does not shift the run.
		maxNap: 5 * time.Minute,
	}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.loc == nil {
		loc, err := time.LoadLocation("Europe/Helsinki")
		if err != nil {
			return nil, fmt.Errorf("scheduler: %w (import time/tzdata or pass a location)", err)
		}
		s.loc = loc
	}
	if _, _, err := parseHHMM(s.at); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	return s, nil
}

// Run loops until ctx is done: optionally a sync at once when the store is
// empty, then one every day at the set time (and retries after a failure).
// It returns nil when ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	retriesLeft := 0
	if s.startupSync && s.counter != nil {
		n, err := s.counter.CountOrganisations(ctx)
		switch {
		case err != nil:
			s.log.WarnContext(ctx, "could not count organisations; waiting for the scheduled sync",
				slog.String("error", err.Error()))
		case n == 0:
			s.log.InfoContext(ctx, "the organisation registry is empty: syncing now")
			if s.runOnce(ctx) {
				retriesLeft = s.retryLimit
			}
		}
	}
	for ctx.Err() == nil {
		now := s.now()
		next, err := NextRun(now, s.at, s.loc)
		if err != nil {
			return err
		}
		retry := false
		if retriesLeft > 0 && s.retryDelay > 0 {
			if r := now.Add(s.retryDelay); r.Before(next) {
				next, retry = r, true
			} else {
				retriesLeft = 0
			}
		}
		s.log.InfoContext(ctx, "next organisation registry sync",
			slog.Time("at", next), slog.Bool("retry", retry))
		if err := s.sleepUntil(ctx, next); err != nil {
			break
		}
		failed := s.runOnce(ctx)
		switch {
		case !failed:
			retriesLeft = 0
		case retry:
			retriesLeft--
		default:
			retriesLeft = s.retryLimit
		}
	}
	return nil
}

// runOnce runs the sync and logs the outcome; it reports whether the run
// failed in a way worth retrying.
func (s *Scheduler) runOnce(ctx context.Context) (failed bool) {
	run, err := s.runner.Run(ctx)
	switch {
	case errors.Is(err, ErrSyncInProgress):
		s.log.InfoContext(ctx, "organisation registry sync skipped: another instance is syncing")
		return false
	case err != nil:
		if ctx.Err() != nil {
			return false
		}
		s.log.ErrorContext(ctx, "scheduled organisation registry sync failed",
			slog.Int64("sync_run", run.ID), slog.String("outcome", run.Outcome),
			slog.String("error", err.Error()))
		return true
	}
	s.log.InfoContext(ctx, "scheduled organisation registry sync done",
		slog.Int64("sync_run", run.ID), slog.String("outcome", run.Outcome),
		slog.Int("added", run.Added), slog.Int("changed", run.Changed),
		slog.Int("removed", run.Removed), slog.Int("total", run.Total))
	return false
}

func (s *Scheduler) sleepUntil(ctx context.Context, t time.Time) error {
	for {
		d := t.Sub(s.now())
		if d <= 0 {
			return ctx.Err()
		}
		if err := s.sleep(ctx, min(d, s.maxNap)); err != nil {
			return err
		}
	}
}
