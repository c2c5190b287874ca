package registry

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry/fakeopas"
	"github.com/mpassid/mpassid/internal/store"
)

type syncEnv struct {
	ds      *fakeopas.Dataset
	srv     *httptest.Server
	st      *memStore
	reg     *Registry
	syncer  *Syncer
	updates int
}

func newSyncEnv(t *testing.T, size fakeopas.Size, opts ...SyncOption) *syncEnv {
	return newSyncEnvTimeout(t, size, 20*time.Second, opts...)
}

func newSyncEnvTimeout(t *testing.T, size fakeopas.Size, timeout time.Duration, opts ...SyncOption) *syncEnv {
	t.Helper()
	e := &syncEnv{ds: fakeopas.Generate(11, size), st: newMemStore(), reg: NewRegistry(nil)}
	e.srv = fakeopas.NewServer(e.ds)
	t.Cleanup(e.srv.Close)
	c := newTestClient(t, e.srv, WithTimeout(timeout), WithRetries(2, time.Millisecond, time.Millisecond))
	clock := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	base := []SyncOption{
		WithNow(func() time.Time { clock = clock.Add(time.Second); return clock }),
		WithOnUpdate(func(orgs []model.Organisation) { e.updates++; e.reg.Update(orgs) }),
	}
	e.syncer = NewSyncer(e.st, c, quietLogger(), append(base, opts...)...)
	return e
}

func (e *syncEnv) run(t *testing.T) (model.SyncRun, error) {
	t.Helper()
	return e.syncer.Run(context.Background())
}

func mustRun(t *testing.T, e *syncEnv) model.SyncRun {
	t.Helper()
	run, err := e.run(t)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestSyncFirstThenUnchanged(t *testing.T) {
	e := newSyncEnv(t, fakeopas.SizeSmall)
	n := e.ds.Len()
	run := mustRun(t, e)
	if run.Outcome != model.SyncOK || run.Added != n || run.Changed != 0 || run.Removed != 0 || run.Total != n {
		t.Fatalf("first run %+v, want ok with %d added", run, n)
	}
	if run.ID == 0 || run.FinishedAt == nil || !run.FinishedAt.After(run.StartedAt) {
		t.Errorf("run record %+v", run)
	}
	if stored := e.st.lastRun(); stored.Outcome != model.SyncOK || stored.Added != n {
		t.Errorf("stored run %+v", stored)
	}
	if e.reg.Current().Len() != n || e.updates != 1 {
		t.Errorf("lookup has %d after %d updates", e.reg.Current().Len(), e.updates)
	}

	run = mustRun(t, e)
	if run.Outcome != model.SyncUnchanged || run.Added+run.Changed+run.Removed != 0 || run.Total != n {
		t.Errorf("second run %+v, want unchanged with zero counts", run)
	}
	if e.st.replace != 1 {
		t.Errorf("an unchanged registry was rewritten (%d replaces)", e.st.replace)
	}
	if runs, _ := e.st.SyncRuns(context.Background(), 10); len(runs) != 2 {
		t.Errorf("%d runs recorded", len(runs))
	}
}

func TestSyncFailuresKeepLastGoodData(t *testing.T) {
	tests := []struct {
		name   string
		faults fakeopas.Faults
		is     error  // errors.Is target, or nil
		reason string // in run.Error
	}{
		{"HTTP 500", fakeopas.Faults{Status: 500}, nil, "HTTP 500"},
		{"registry hangs past the timeout", fakeopas.Faults{Delay: 10 * time.Second}, nil, "timed out"},
		{"truncated JSON", fakeopas.Faults{TruncateAfter: 4096}, ErrInvalidAnswer, "unexpected EOF"},
		{"truncated JSON without numHits", fakeopas.Faults{TruncateAfter: 4096, OmitNumHits: true}, ErrInvalidAnswer, "invalid registry answer"},
		{"empty answer", fakeopas.Faults{Empty: true}, ErrEmptyAnswer, "no organisations"},
		{"30% of organisations missing", fakeopas.Faults{DropShare: 0.3}, ErrMassRemoval, "remove too many"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSyncEnvTimeout(t, fakeopas.SizeSmall, time.Second)
			mustRun(t, e)
			good, _ := e.st.ListOrganisations(context.Background())
			lookup := e.reg.Current()

			e.ds.SetFaults(tt.faults)
			run, err := e.run(t)
			if err == nil {
				t.Fatalf("run %+v succeeded", run)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err %v, want %v", err, tt.is)
			}
			if run.Outcome != model.SyncFailed || !strings.Contains(run.Error, tt.reason) {
				t.Errorf("run %+v, want failed with %q", run, tt.reason)
			}
			if stored := e.st.lastRun(); stored.Outcome != model.SyncFailed || stored.Error != run.Error || stored.FinishedAt == nil {
				t.Errorf("stored run %+v", stored)
			}
			now, _ := e.st.ListOrganisations(context.Background())
			if e.st.replace != 1 || !slices.EqualFunc(good, now, func(a, b model.Organisation) bool { return SameOrganisation(&a, &b) }) {
				t.Error("the registry changed after a failed sync")
			}
			if e.reg.Current() != lookup || e.updates != 1 {
				t.Error("the lookup was rebuilt after a failed sync")
			}

			// Once the registry recovers, the next sync works.
			e.ds.SetFaults(fakeopas.Faults{})
			if run := mustRun(t, e); run.Outcome != model.SyncUnchanged {
				t.Errorf("after recovery: %+v", run)
			}
		})
	}
}

func TestSyncMoveCloseAddRemove(t *testing.T) {
	e := newSyncEnv(t, fakeopas.SizeNational)
	mustRun(t, e)
	orgs := e.ds.Orgs()
	var munis []model.Organisation
	for _, o := range orgs {
		if o.HasType(model.OrgTypeEarlyEducationProvider) && o.HasType(model.OrgTypeEducationProvider) && o.IsActive() {
			munis = append(munis, o)
		}
	}
	l := e.reg.Current()
	// A school with an office moves to another municipality.
	var mover, closer model.Organisation
	for _, o := range orgs {
		if !o.IsSchool() || !o.IsActive() || o.InstitutionType != 15 {
			continue
		}
		if p, _ := l.Provider(&o); p.OID == munis[0].OID || p.OID == munis[1].OID {
			continue
		}
		hasOffice := slices.ContainsFunc(orgs, func(x model.Organisation) bool { return x.ParentOID == o.OID })
		if hasOffice && mover.OID == "" {
			mover = o
		} else if !hasOffice && closer.OID == "" {
			closer = o
		}
	}
	if mover.OID == "" || closer.OID == "" {
		t.Fatal("no suitable schools in the dataset")
	}
	if err := e.ds.Move(mover.OID, munis[1].OID); err != nil {
		t.Fatal(err)
	}
	closedAt := time.Date(2026, 5, 31, 21, 0, 0, 0, time.UTC)
	if err := e.ds.Close(closer.OID, closedAt); err != nil {
		t.Fatal(err)
	}
	newSchool := model.Organisation{
		OID: "1.2.246.562.10.99999999999", ParentOID: munis[0].OID, Name: model.LocalizedName{Fi: "Uusi koulu"},
		Types: []string{model.OrgTypeSchool}, SchoolCode: "00001", InstitutionType: 11, Status: model.OrgActive,
	}
	if err := e.ds.Add(newSchool); err != nil {
		t.Fatal(err)
	}
	var gone model.Organisation
	for _, o := range orgs {
		if o.HasType(model.OrgTypeEarlyEducationUnit) && o.ParentOID == munis[2].OID {
			gone = o
			break
		}
	}
	if e.ds.Remove(gone.OID) != 1 {
		t.Fatal("remove")
	}
	offices := 0
	for _, o := range orgs {
		if o.ParentOID == mover.OID {
			offices++
		}
	}

	run := mustRun(t, e)
	// The moved school and its offices (their paths) changed, and the
	// closed one.
	if run.Outcome != model.SyncOK || run.Added != 1 || run.Removed != 1 || run.Changed != 2+offices {
		t.Fatalf("run %+v, want 1 added, 1 removed, %d changed", run, 2+offices)
	}
	l = e.reg.Current()
	moved, _ := l.ByOID(mover.OID)
	if p, ok := l.Provider(moved); !ok || p.OID != munis[1].OID || moved.ParentOID != munis[1].OID {
		t.Errorf("moved school's provider %v", p)
	}
	if want := []string{model.RootOID, munis[1].OID}; !slices.Equal(moved.ParentOIDPath, want) {
		t.Errorf("moved school's path %v, want %v", moved.ParentOIDPath, want)
	}
	for _, o := range l.All() {
		if o.ParentOID == mover.OID {
			if p, _ := l.Provider(&o); p.OID != munis[1].OID {
				t.Errorf("office %s still under the old provider", o.OID)
			}
		}
	}
	closed, ok := l.BySchoolCode(closer.SchoolCode)
	if !ok || closed.IsActive() || closed.Status != model.OrgPassive || closed.EndDate == nil || !closed.EndDate.Equal(closedAt) {
		t.Errorf("closed school: %+v", closed)
	}
	if s, ok := l.BySchoolCode("00001"); !ok || s.Name.Fi != "Uusi koulu" {
		t.Error("new school missing")
	}
	if _, ok := l.ByOID(gone.OID); ok {
		t.Error("removed unit still there")
	}
	if !slices.ContainsFunc(l.SchoolsOf(munis[1].OID), func(o *model.Organisation) bool { return o.OID == mover.OID }) {
		t.Error("SchoolsOf the new provider lacks the moved school")
	}
}

func TestSyncInProgress(t *testing.T) {
	e := newSyncEnv(t, fakeopas.SizeDemo)
	release, err := e.st.TryLock(context.Background(), LockName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.run(t); !errors.Is(err, ErrSyncInProgress) {
		t.Errorf("err %v, want ErrSyncInProgress", err)
	}
	if e.ds.Requests() != 0 || len(e.st.runs) != 0 {
		t.Error("a locked-out sync fetched or recorded")
	}
	release()
	mustRun(t, e)
	// The lock is released after a run.
	if r, err := e.st.TryLock(context.Background(), LockName); err != nil {
		t.Error("lock left held")
	} else {
		r()
	}
}

func TestSyncRemovalShareOption(t *testing.T) {
	e := newSyncEnv(t, fakeopas.SizeSmall, WithMaxRemovalShare(0.5))
	mustRun(t, e)
	e.ds.SetFaults(fakeopas.Faults{DropShare: 0.3})
	run := mustRun(t, e) // allowed with the higher limit
	if run.Removed == 0 || run.Outcome != model.SyncOK {
		t.Errorf("run %+v", run)
	}
}

type sourceFunc func(ctx context.Context) ([]model.Organisation, error)

func (f sourceFunc) FetchAll(ctx context.Context) ([]model.Organisation, error) { return f(ctx) }

func TestSyncValidatesAndRecordsOnCancel(t *testing.T) {
	st := newMemStore()
	tests := []struct {
		name string
		orgs []model.Organisation
	}{
		{"malformed OID", []model.Organisation{{OID: "not an oid"}}},
		{"duplicate OID", []model.Organisation{{OID: "1.2.246.562.10.1"}, {OID: "1.2.246.562.10.1"}}},
	}
	for _, tt := range tests {
		s := NewSyncer(st, sourceFunc(func(context.Context) ([]model.Organisation, error) { return tt.orgs, nil }), quietLogger())
		if _, err := s.Run(context.Background()); !errors.Is(err, ErrInvalidAnswer) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// Shutdown in the middle of a fetch still records the run as failed.
	ctx, cancel := context.WithCancel(context.Background())
	s := NewSyncer(st, sourceFunc(func(ctx context.Context) ([]model.Organisation, error) {
		cancel()
		return nil, ctx.Err()
	}), quietLogger())
	if _, err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
	if r := st.lastRun(); r.Outcome != model.SyncFailed || r.FinishedAt == nil {
		t.Errorf("run after cancel %+v", r)
	}
	// A store that cannot lock.
	s = NewSyncer(brokenLocker{st}, nil, quietLogger())
	if _, err := s.Run(context.Background()); err == nil || errors.Is(err, ErrSyncInProgress) {
		t.Errorf("broken lock: %v", err)
	}
}

type brokenLocker struct{ *memStore }

func (brokenLocker) TryLock(context.Context, string) (func(), error) {
	return nil, errors.New("database is down")
}

var _ store.Locker = brokenLocker{}
