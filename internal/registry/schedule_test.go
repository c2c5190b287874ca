package registry

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

func TestNextRunDST(t *testing.T) {
	hel := helsinki(t)
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, hel) }
	tests := []struct {
		name  string
		after time.Time
		hhmm  string
		want  time.Time // wall clock in Helsinki
		gap   time.Duration
	}{
		{"ordinary day, before", at(2026, 6, 10, 6, 59), "07:00", at(2026, 6, 10, 7, 0), 0},
		{"exactly at: strictly after", at(2026, 6, 10, 7, 0), "07:00", at(2026, 6, 11, 7, 0), 24 * time.Hour},
		{"ordinary day, after", at(2026, 6, 10, 7, 1), "07:00", at(2026, 6, 11, 7, 0), 0},
		{"year end", at(2026, 12, 31, 8, 0), "07:00", at(2027, 1, 1, 7, 0), 0},
		// Spring forward: Sunday 29 March 2026, 03:00 EET -> 04:00 EEST.
		{"2026 spring: 23 h", at(2026, 3, 28, 7, 0), "07:00", at(2026, 3, 29, 7, 0), 23 * time.Hour},
		{"2026 spring: back to 24 h", at(2026, 3, 29, 7, 0), "07:00", at(2026, 3, 30, 7, 0), 24 * time.Hour},
		// Fall back: Sunday 25 October 2026, 04:00 EEST -> 03:00 EET.
		{"2026 autumn: 25 h", at(2026, 10, 24, 7, 0), "07:00", at(2026, 10, 25, 7, 0), 25 * time.Hour},
		{"2026 autumn: back to 24 h", at(2026, 10, 25, 7, 0), "07:00", at(2026, 10, 26, 7, 0), 24 * time.Hour},
		// 2027: 28 March and 31 October.
		{"2027 spring: 23 h", at(2027, 3, 27, 7, 0), "07:00", at(2027, 3, 28, 7, 0), 23 * time.Hour},
		{"2027 autumn: 25 h", at(2027, 10, 30, 7, 0), "07:00", at(2027, 10, 31, 7, 0), 25 * time.Hour},
		{"after in another zone", time.Date(2026, 3, 29, 4, 30, 0, 0, time.UTC), "07:00", at(2026, 3, 30, 7, 0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NextRun(tt.after, tt.hhmm, hel)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("NextRun(%v) = %v, want %v", tt.after, got, tt.want)
			}
			if l := got.In(hel); l.Hour() != 7 || l.Minute() != 0 {
				t.Errorf("not 07:00 local: %v", l)
			}
			if tt.gap != 0 && got.Sub(tt.after) != tt.gap {
				t.Errorf("interval %v, want %v", got.Sub(tt.after), tt.gap)
			}
		})
	}
}

func TestNextRunGapAndOverlap(t *testing.T) {
	hel := helsinki(t)
	// 03:30 does not exist on 29 March 2026: the gap ends at 04:00 EEST.
	got, err := NextRun(time.Date(2026, 3, 28, 12, 0, 0, 0, hel), "03:30", hel)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("in the gap: %v (%v), want 04:00 EEST %v", got, got.In(hel), want.In(hel))
	}
	// And the day after, 03:30 is back.
	next, _ := NextRun(got, "03:30", hel)
	if want := time.Date(2026, 3, 30, 3, 30, 0, 0, hel); !next.Equal(want) {
		t.Errorf("after the gap: %v, want %v", next, want)
	}
	// 03:30 happens twice on 25 October 2026: run at the first (EEST).
	first, _ := NextRun(time.Date(2026, 10, 24, 12, 0, 0, 0, hel), "03:30", hel)
	if want := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC); !first.Equal(want) {
		t.Errorf("overlap: %v, want the first 03:30 %v", first, want)
	}
	second, _ := NextRun(first, "03:30", hel)
	if want := time.Date(2026, 10, 26, 3, 30, 0, 0, hel); !second.Equal(want) {
		t.Errorf("after the overlap: %v, want %v (not the second 03:30 the same night)", second, want)
	}
	for _, bad := range []string{"7:00", "24:00", "07:60", "0700", "ab:cd", ""} {
		if _, err := NextRun(time.Now(), bad, hel); err == nil {
			t.Errorf("NextRun accepted %q", bad)
		}
	}
}

// fakeClock is a clock whose sleep advances it at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return nil
}

// fakeRunner records when it ran and fails as told.
type fakeRunner struct {
	clock  *fakeClock
	runs   []time.Time
	fail   func(n int) error
	stopAt int
	cancel context.CancelFunc
}

func (r *fakeRunner) Run(ctx context.Context) (model.SyncRun, error) {
	r.runs = append(r.runs, r.clock.Now())
	if len(r.runs) >= r.stopAt {
		r.cancel()
	}
	if r.fail != nil {
		if err := r.fail(len(r.runs)); err != nil {
			return model.SyncRun{Outcome: model.SyncFailed, Error: err.Error()}, err
		}
	}
	return model.SyncRun{Outcome: model.SyncOK}, nil
}

type countFunc func() int

func (f countFunc) CountOrganisations(context.Context) (int, error) { return f(), nil }

func runScheduler(t *testing.T, start time.Time, runs int, count int, fail func(int) error, opts ...SchedulerOption) []time.Time {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{now: start}
	r := &fakeRunner{clock: clock, stopAt: runs, cancel: cancel, fail: fail}
	opts = append([]SchedulerOption{WithClock(clock.Now, clock.Sleep), WithRunAt("07:00", helsinki(t))}, opts...)
	s, err := NewScheduler(r, countFunc(func() int { return count }), quietLogger(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("scheduler did not stop")
	}
	return r.runs
}

func TestSchedulerDailyAcrossDST(t *testing.T) {
	hel := helsinki(t)
	for _, start := range []time.Time{
		time.Date(2026, 3, 26, 12, 0, 0, 0, hel),
		time.Date(2026, 10, 22, 12, 0, 0, 0, hel),
		time.Date(2027, 3, 25, 12, 0, 0, 0, hel),
		time.Date(2027, 10, 28, 12, 0, 0, 0, hel),
	} {
		runs := runScheduler(t, start, 6, 100, nil)
		var intervals []time.Duration
		for i, r := range runs {
			if l := r.In(hel); l.Hour() != 7 || l.Minute() != 0 || l.Second() != 0 {
				t.Errorf("run %d at %v, want 07:00 Helsinki", i, l)
			}
			if i > 0 {
				intervals = append(intervals, r.Sub(runs[i-1]))
			}
		}
		short, long := 0, 0
		for _, d := range intervals {
			switch d {
			case 23 * time.Hour:
				short++
			case 25 * time.Hour:
				long++
			case 24 * time.Hour:
			default:
				t.Errorf("interval %v", d)
			}
		}
		if start.Month() == time.March && (short != 1 || long != 0) || start.Month() == time.October && (long != 1 || short != 0) {
			t.Errorf("from %v: intervals %v", start, intervals)
		}
	}
}

func TestSchedulerStartupSync(t *testing.T) {
	hel := helsinki(t)
	start := time.Date(2026, 5, 4, 12, 0, 0, 0, hel)
	runs := runScheduler(t, start, 2, 0, nil)
	if !runs[0].Equal(start) || !runs[1].Equal(time.Date(2026, 5, 5, 7, 0, 0, 0, hel)) {
		t.Errorf("empty store: runs %v, want now and tomorrow 07:00", runs)
	}
	runs = runScheduler(t, start, 1, 0, nil, WithStartupSync(false))
	if !runs[0].Equal(time.Date(2026, 5, 5, 7, 0, 0, 0, hel)) {
		t.Errorf("startup sync off: %v", runs)
	}
	runs = runScheduler(t, start, 1, 15000, nil)
	if !runs[0].Equal(time.Date(2026, 5, 5, 7, 0, 0, 0, hel)) {
		t.Errorf("full store: %v", runs)
	}
}

func TestSchedulerRetriesAfterFailure(t *testing.T) {
	hel := helsinki(t)
	start := time.Date(2026, 5, 4, 12, 0, 0, 0, hel)
	boom := errors.New("registry down")
	// Runs 1-3 fail: the daily run, then two hourly retries; the third
	// retry (run 4) succeeds; run 5 is the next morning.
	runs := runScheduler(t, start, 5, 100, func(n int) error {
		if n <= 3 {
			return boom
		}
		return nil
	})
	day := func(d, h int) time.Time { return time.Date(2026, 5, d, h, 0, 0, 0, hel) }
	want := []time.Time{day(5, 7), day(5, 8), day(5, 9), day(5, 10), day(6, 7)}
	for i := range want {
		if !runs[i].Equal(want[i]) {
			t.Errorf("run %d at %v, want %v", i, runs[i].In(hel), want[i])
		}
	}
	// Always failing: 3 retries, then wait for the next day.
	runs = runScheduler(t, start, 6, 100, func(int) error { return boom })
	want = []time.Time{day(5, 7), day(5, 8), day(5, 9), day(5, 10), day(6, 7), day(6, 8)}
	for i := range want {
		if !runs[i].Equal(want[i]) {
			t.Errorf("always failing: run %d at %v, want %v", i, runs[i].In(hel), want[i])
		}
	}
	// Another instance syncing is not a failure.
	runs = runScheduler(t, start, 2, 100, func(int) error { return ErrSyncInProgress })
	if !runs[1].Equal(day(6, 7)) {
		t.Errorf("in progress: %v", runs)
	}
}

func TestSchedulerStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := NewScheduler(&fakeRunner{}, nil, quietLogger(), WithStartupSync(false))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }() // real clock: sleeps until 07:00
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := NewScheduler(&fakeRunner{}, nil, nil, WithRunAt("25:00", time.UTC)); err == nil {
		t.Error("bad time accepted")
	}
}
