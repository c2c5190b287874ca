package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// LockName is the store.Locker lock a sync holds, so that of several
// instances only one syncs at a time.
const LockName = "orgsync"

// DefaultMaxRemovalShare is the share of current organisations an answer may
// remove before the sync refuses it. Organisations are closed (PASSIIVINEN),
// not deleted, in the real registry, so even a big municipal merger removes
// next to nothing; an answer missing 5% of the country is a broken answer.
const DefaultMaxRemovalShare = 0.05

var (
	// ErrSyncInProgress: another sync (here or on another instance) holds
	// the lock.
	ErrSyncInProgress = errors.New("an organisation registry sync is already in progress")
	// ErrEmptyAnswer: the registry answered with no organisations.
	ErrEmptyAnswer = errors.New("the registry answered with no organisations")
	// ErrMassRemoval: the answer lacks more than the allowed share of the
	// current organisations.
	ErrMassRemoval = errors.New("the answer would remove too many organisations")
)

// Source is where a sync gets the whole registry; *Client is one.
type Source interface {
	FetchAll(ctx context.Context) ([]model.Organisation, error)
}

// SyncStore is what a Syncer needs of the store; store.Store has it.
type SyncStore interface {
	store.Organisations
	store.Locker
}

// Syncer replaces the stored registry with a fresh copy from a Source, but
// only with a copy it can trust: any failure keeps the last good registry,
// records the run as failed with the reason, and returns an error.
type Syncer struct {
	st         SyncStore
	src        Source
	log        *slog.Logger
	maxRemoval float64
	now        func() time.Time
	onUpdate   func([]model.Organisation)
}

// SyncOption configures a Syncer.
type SyncOption func(*Syncer)

// WithMaxRemovalShare sets the largest share (0..1) of the current
// organisations one sync may remove (default DefaultMaxRemovalShare). 1
// turns the check off, for a deliberate clean-up run.
func WithMaxRemovalShare(f float64) SyncOption { return func(s *Syncer) { s.maxRemoval = f } }

// WithNow sets the clock for the run records (default time.Now).
func WithNow(now func() time.Time) SyncOption { return func(s *Syncer) { s.now = now } }

// WithOnUpdate sets a function called with the new registry after each
// successful run (also an unchanged one), e.g. Registry.Update to rebuild
// the login-path Lookup. It runs on the syncing goroutine.
func WithOnUpdate(fn func([]model.Organisation)) SyncOption {
	return func(s *Syncer) { s.onUpdate = fn }
}

// NewSyncer returns a Syncer that fetches from src into st. A nil logger
// means slog.Default().
func NewSyncer(st SyncStore, src Source, logger *slog.Logger, opts ...SyncOption) *Syncer {
	s := &Syncer{st: st, src: src, log: logger, maxRemoval: DefaultMaxRemovalShare, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// recordTimeout bounds writing the outcome of a run, which is done even
// when ctx was cancelled (the run must not stay "started" forever).
const recordTimeout = 30 * time.Second

// Run syncs once. It takes the lock LockName (ErrSyncInProgress if held),
// records the start, fetches, validates, replaces the registry in one store
// call, and records the outcome with counts. The outcome is model.SyncOK,
// model.SyncUnchanged (nothing differed, so nothing was written) or
// model.SyncFailed (with run.Error and a returned error that wraps the
// cause: a fetch error, ErrInvalidAnswer, ErrEmptyAnswer or
// ErrMassRemoval). While running, the recorded run has no FinishedAt and
// an empty Outcome.
func (s *Syncer) Run(ctx context.Context) (model.SyncRun, error) {
	release, err := s.st.TryLock(ctx, LockName)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return model.SyncRun{}, fmt.Errorf("organisation sync: %w", ErrSyncInProgress)
		}
		return model.SyncRun{}, fmt.Errorf("organisation sync: take the lock %q: %w", LockName, err)
	}
	defer release()

	run := model.SyncRun{StartedAt: s.now().UTC()}
	id, err := s.st.RecordSyncRun(ctx, run)
	if err != nil {
		return run, fmt.Errorf("organisation sync: record the start: %w", err)
	}
	run.ID = id
	log := s.log.With(slog.Int64("sync_run", run.ID))
	log.InfoContext(ctx, "organisation registry sync started")

	orgs, err := s.sync(ctx, &run)
	finished := s.now().UTC()
	run.FinishedAt = &finished
	if err != nil {
		run.Outcome = model.SyncFailed
		run.Error = err.Error()
		err = fmt.Errorf("organisation sync: %w", err)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if _, rerr := s.st.RecordSyncRun(rctx, run); rerr != nil {
		rerr = fmt.Errorf("organisation sync: record the outcome: %w", rerr)
		log.ErrorContext(ctx, "could not record the sync outcome", slog.String("error", rerr.Error()))
		err = errors.Join(err, rerr)
	}
	attrs := []any{
		slog.String("outcome", run.Outcome),
		slog.Int("added", run.Added), slog.Int("changed", run.Changed),
		slog.Int("removed", run.Removed), slog.Int("total", run.Total),
		slog.Duration("duration", finished.Sub(run.StartedAt)),
	}
	if run.Outcome == model.SyncFailed {
		log.ErrorContext(ctx, "organisation registry sync failed; keeping the last good registry",
			append(attrs, slog.String("error", run.Error))...)
		return run, err
	}
	log.InfoContext(ctx, "organisation registry sync finished", attrs...)
	if s.onUpdate != nil {
		s.onUpdate(orgs)
	}
	return run, err
}

// sync does the work of Run between the records; it fills run's counts and
// outcome on success.
func (s *Syncer) sync(ctx context.Context, run *model.SyncRun) ([]model.Organisation, error) {
	orgs, err := s.src.FetchAll(ctx)
	if err != nil {
		return nil, err
	}
	if len(orgs) == 0 {
		return nil, ErrEmptyAnswer
	}
	fresh := make(map[string]*model.Organisation, len(orgs))
	for i := range orgs {
		o := &orgs[i]
		if !validOID(o.OID) {
			return nil, fmt.Errorf("%w: organisation with a malformed OID %q", ErrInvalidAnswer, o.OID)
		}
		if _, dup := fresh[o.OID]; dup {
			return nil, fmt.Errorf("%w: organisation %s listed twice", ErrInvalidAnswer, o.OID)
		}
		fresh[o.OID] = o
	}
	current, err := s.st.ListOrganisations(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the current registry: %w", err)
	}
	var d syncDiff
	for i := range current {
		n, ok := fresh[current[i].OID]
		switch {
		case !ok:
			d.Removed++
		case !SameOrganisation(&current[i], n):
			d.Changed++
		}
	}
	d.Added = len(orgs) - (len(current) - d.Removed)
	if len(current) > 0 {
		if share := float64(d.Removed) / float64(len(current)); share > s.maxRemoval {
			return nil, fmt.Errorf("%w: %d of %d (%.1f%%, the limit is %.1f%%)",
				ErrMassRemoval, d.Removed, len(current), 100*share, 100*s.maxRemoval)
		}
	}
	run.Total = len(orgs)
	if d.Added == 0 && d.Changed == 0 && d.Removed == 0 {
		run.Outcome = model.SyncUnchanged
		return orgs, nil
	}
	counts, err := s.st.ReplaceOrganisations(ctx, orgs)
	if err != nil {
		return nil, fmt.Errorf("replace the registry: %w", err)
	}
	run.Added, run.Changed, run.Removed, run.Total = counts.Added, counts.Changed, counts.Removed, counts.Total
	run.Outcome = model.SyncOK
	return orgs, nil
}

// syncDiff counts how one registry differs from another.
type syncDiff struct{ Added, Changed, Removed int }

// SameOrganisation reports whether a and b hold the same data (times by
// instant, nil and empty lists alike). Stores may use it to count changes.
func SameOrganisation(a, b *model.Organisation) bool {
	return a.OID == b.OID && a.ParentOID == b.ParentOID &&
		slices.Equal(a.ParentOIDPath, b.ParentOIDPath) && a.Name == b.Name &&
		a.BusinessID == b.BusinessID && slices.Equal(a.Types, b.Types) &&
		a.SchoolCode == b.SchoolCode && a.InstitutionType == b.InstitutionType &&
		a.OfficeCode == b.OfficeCode && a.MunicipalityCode == b.MunicipalityCode &&
		slices.Equal(a.Languages, b.Languages) && a.Status == b.Status &&
		sameTime(a.StartDate, b.StartDate) && sameTime(a.EndDate, b.EndDate)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
