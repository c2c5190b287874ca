// Package storetest is the conformance suite every store.Store
// implementation passes, and the benchmarks that compare them.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// Run runs the conformance suite. open must return a fresh, empty, migrated
// store for each call and close it when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Basics", testBasics},
		{"IntegrationCRUD", testIntegrationCRUD},
		{"IDAllocation", testIDAllocation},
		{"OptimisticLock", testOptimisticLock},
		{"Uniqueness", testUniqueness},
		{"Revisions", testRevisions},
		{"ConfigVersion", testConfigVersion},
		{"ListIntegrations", testListIntegrations},
		{"Organisations", testOrganisations},
		{"OrganisationsAtomic", testOrganisationsAtomic},
		{"OrganisationsLarge", testOrganisationsLarge},
		{"SyncRuns", testSyncRuns},
		{"Transactions", testTransactions},
		{"Sessions", testSessions},
		{"Tokens", testTokens},
		{"Expiry", testExpiry},
		{"MarkUsed", testMarkUsed},
		{"Keys", testKeys},
		{"TryLock", testTryLock},
		{"ConcurrentSingleUse", testConcurrentSingleUse},
		{"Admin", testAdmin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// must(f())(t) returns f's value or fails t with its error.
func must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

func testBasics(t *testing.T, s store.Store) {
	ctx := t.Context()
	if d := s.Dialect(); d != "sqlite" && d != "postgres" {
		t.Errorf("Dialect() = %q", d)
	}
	check(t, s.Ping(ctx))
	if ok := must(s.MigrationsCurrent(ctx))(t); !ok {
		t.Error("MigrationsCurrent = false after migration")
	}
	check(t, s.Migrate(ctx)) // idempotent
	if ok := must(s.MigrationsCurrent(ctx))(t); !ok {
		t.Error("MigrationsCurrent = false after a second migration")
	}
}

func testIntegrationCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		name string
		in   *model.Integration
		edit func(in *model.Integration)
	}{
		{"idp", idp(model.PhaseProduction, "Espoon Wilma"), func(in *model.Integration) { in.IdP.Discovery.CustomDisplayName = "Espoo" }},
		{"saml sp", samlSP(model.PhaseTest, "Oppimateriaali", "https://sp.example.fi"), func(in *model.Integration) { in.SP.Name = "Materiaali" }},
		{"oidc sp", oidcSP(model.PhasePreProduction, "Peli", "peli"), func(in *model.Integration) { in.SP.Name = "Peli 2" }},
		{"set", set(model.PhaseProduction, "Palvelu"), func(in *model.Integration) { in.Set.Name = "Palvelu 2" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			created := must(s.CreateIntegration(ctx, tc.in, "alice"))(t)
			rng := must(model.IntegrationIDRange(tc.in.Role, tc.in.DeploymentPhase))(t)
			if created.ID < rng.Min || created.ID > rng.Max {
				t.Errorf("id %d outside %v", created.ID, rng)
			}
			if tc.in.ID != 0 {
				t.Errorf("CreateIntegration modified its input: id %d", tc.in.ID)
			}
			if created.Version != 1 || created.UpdatedBy != "alice" || created.CreatedAt.Before(before) || !created.UpdatedAt.Equal(created.CreatedAt) {
				t.Errorf("created = version %d by %q at %v/%v", created.Version, created.UpdatedBy, created.CreatedAt, created.UpdatedAt)
			}
			got := must(s.GetIntegration(ctx, created.ID))(t)
			if got.Name() != tc.in.Name() || got.Role != tc.in.Role || got.Type() != tc.in.Type() ||
				got.EntityID() != tc.in.EntityID() || got.ClientID() != tc.in.ClientID() ||
				got.Version != 1 || !got.CreatedAt.Equal(created.CreatedAt) || got.DeploymentPhase != tc.in.DeploymentPhase {
				t.Errorf("got %+v, want %+v", got, created)
			}
			if len(got.Attributes) != len(tc.in.Attributes) {
				t.Errorf("attributes %v, want %v", got.Attributes, tc.in.Attributes)
			}

			tc.edit(got)
			updated := must(s.UpdateIntegration(ctx, got, "bob"))(t)
			if updated.Version != 2 || updated.UpdatedBy != "bob" || !updated.CreatedAt.Equal(created.CreatedAt) || updated.UpdatedAt.Before(created.UpdatedAt) {
				t.Errorf("updated = version %d by %q at %v/%v", updated.Version, updated.UpdatedBy, updated.CreatedAt, updated.UpdatedAt)
			}
			again := must(s.GetIntegration(ctx, created.ID))(t)
			if again.Name() != got.Name() || again.Version != 2 {
				t.Errorf("after update got %q version %d, want %q version 2", again.Name(), again.Version, got.Name())
			}
		})
	}
	_, err := s.GetIntegration(ctx, 999)
	wantErr(t, err, store.ErrNotFound)
	missing := set(model.PhaseTest, "missing")
	missing.ID, missing.Version = 6999999, 1
	_, err = s.UpdateIntegration(ctx, missing, "bob")
	wantErr(t, err, store.ErrNotFound)
}

func testIDAllocation(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		in   func() *model.Integration
		want int64
	}{
		{func() *model.Integration { return idp(model.PhaseProduction, "a") }, 1000000},
		{func() *model.Integration { return samlSP(model.PhaseProduction, "a", "") }, 2000000},
		{func() *model.Integration { return set(model.PhaseProduction, "a") }, 3000000},
		{func() *model.Integration { return idp(model.PhaseTest, "a") }, 4000000},
		{func() *model.Integration { return oidcSP(model.PhaseTest, "a", "") }, 5000000},
		{func() *model.Integration { return set(model.PhasePreProduction, "a") }, 6000000},
	}
	for _, tc := range tests {
		first := tc.in()
		t.Run(fmt.Sprintf("%s-%s", first.Role, first.DeploymentPhase), func(t *testing.T) {
			for i := range int64(2) {
				got := must(s.CreateIntegration(ctx, tc.in(), "a"))(t)
				if got.ID != tc.want+i {
					t.Errorf("id %d, want %d", got.ID, tc.want+i)
				}
			}
			// An explicit id is kept, and allocation continues after it.
			in := tc.in()
			in.ID = tc.want + 100
			got := must(s.CreateIntegration(ctx, in, "a"))(t)
			if got.ID != tc.want+100 {
				t.Errorf("explicit id %d stored as %d", in.ID, got.ID)
			}
			got = must(s.CreateIntegration(ctx, tc.in(), "a"))(t)
			if got.ID != tc.want+101 {
				t.Errorf("id after explicit %d, want %d", got.ID, tc.want+101)
			}
			// A taken explicit id is a duplicate.
			_, err := s.CreateIntegration(ctx, in, "a")
			var dup *store.DuplicateError
			if !errors.As(err, &dup) || dup.Field != "id" {
				t.Errorf("duplicate id: got %v, want DuplicateError{id}", err)
			}
		})
	}
}

func testOptimisticLock(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := must(s.CreateIntegration(ctx, set(model.PhaseTest, "v1"), "a"))(t)
	a, b := *in, *in
	a.Set = &model.Set{Name: "from a"}
	b.Set = &model.Set{Name: "from b"}
	must(s.UpdateIntegration(ctx, &a, "a"))(t)
	_, err := s.UpdateIntegration(ctx, &b, "b")
	wantErr(t, err, store.ErrConflict)
	if got := must(s.GetIntegration(ctx, in.ID))(t); got.Set.Name != "from a" || got.Version != 2 {
		t.Errorf("after conflict: %q version %d", got.Set.Name, got.Version)
	}

	// Concurrently: of many updates from the same version exactly one wins.
	cur := must(s.GetIntegration(ctx, in.ID))(t)
	const n = 10
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := *cur
			c.Set = &model.Set{Name: fmt.Sprint("writer ", i)}
			_, err := s.UpdateIntegration(ctx, &c, "w")
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrConflict):
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != n-1 {
		t.Errorf("%d wins and %d conflicts, want 1 and %d", wins.Load(), conflicts.Load(), n-1)
	}
}

func testUniqueness(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		field string
		make  func(name string) *model.Integration
		find  func(ctx context.Context) (*model.Integration, error)
	}{
		{"entityId", func(name string) *model.Integration { return samlSP(model.PhaseTest, name, "https://dup.example.fi") },
			func(ctx context.Context) (*model.Integration, error) {
				return s.FindByEntityID(ctx, "https://dup.example.fi")
			}},
		{"client_id", func(name string) *model.Integration { return oidcSP(model.PhaseTest, name, "dup-client") },
			func(ctx context.Context) (*model.Integration, error) { return s.FindByClientID(ctx, "dup-client") }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			first := must(s.CreateIntegration(ctx, tc.make("first"), "a"))(t)
			_, err := s.CreateIntegration(ctx, tc.make("second"), "a")
			var dup *store.DuplicateError
			if !errors.As(err, &dup) || dup.Field != tc.field || !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("got %v, want DuplicateError{%s}", err, tc.field)
			}
			if got := must(tc.find(ctx))(t); got.ID != first.ID {
				t.Errorf("found %d, want %d", got.ID, first.ID)
			}
			// Inactivating the first frees the value.
			first.Status = model.StatusInactive
			first = must(s.UpdateIntegration(ctx, first, "a"))(t)
			_, err = tc.find(ctx)
			wantErr(t, err, store.ErrNotFound)
			second := must(s.CreateIntegration(ctx, tc.make("second"), "a"))(t)
			if got := must(tc.find(ctx))(t); got.ID != second.ID {
				t.Errorf("found %d, want %d", got.ID, second.ID)
			}
			// Reactivating the first collides with the second.
			first.Status = model.StatusActive
			_, err = s.UpdateIntegration(ctx, first, "a")
			if !errors.As(err, &dup) || dup.Field != tc.field {
				t.Errorf("reactivation: got %v, want DuplicateError{%s}", err, tc.field)
			}
			// Inactive services may share the value.
			third := tc.make("third")
			third.Status = model.StatusInactive
			must(s.CreateIntegration(ctx, third, "a"))(t)
		})
	}
	_, err := s.FindByEntityID(ctx, "")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.FindByClientID(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func testRevisions(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := must(s.CreateIntegration(ctx, set(model.PhaseTest, "r1"), "alice"))(t)
	for i, actor := range []string{"bob", "carol"} {
		in.Set.Name = fmt.Sprint("r", i+2)
		in = must(s.UpdateIntegration(ctx, in, actor))(t)
	}
	revs := must(s.Revisions(ctx, in.ID))(t)
	if len(revs) != 3 {
		t.Fatalf("%d revisions, want 3", len(revs))
	}
	for i, want := range []struct {
		version int64
		actor   string
		name    string
	}{{3, "carol", "r3"}, {2, "bob", "r2"}, {1, "alice", "r1"}} {
		r := revs[i]
		if r.IntegrationID != in.ID || r.Version != want.version || r.Actor != want.actor || r.Integration.Set.Name != want.name ||
			r.Integration.Version != want.version || r.CreatedAt.IsZero() {
			t.Errorf("revision %d = %+v (%q), want %+v", i, r, r.Integration.Set.Name, want)
		}
	}
	r := must(s.GetRevision(ctx, in.ID, 2))(t)
	if r.Actor != "bob" || r.Integration.Set.Name != "r2" || !r.CreatedAt.Equal(revs[1].CreatedAt) {
		t.Errorf("GetRevision(2) = %+v", r)
	}
	_, err := s.GetRevision(ctx, in.ID, 4)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Revisions(ctx, 12345)
	wantErr(t, err, store.ErrNotFound)
}

func testConfigVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	last := must(s.ConfigVersion(ctx))(t)
	grew := func(what string) {
		t.Helper()
		v := must(s.ConfigVersion(ctx))(t)
		if v <= last {
			t.Errorf("config version %d after %s, was %d", v, what, last)
		}
		last = v
	}
	in := must(s.CreateIntegration(ctx, set(model.PhaseTest, "a"), "a"))(t)
	grew("create")
	must(s.UpdateIntegration(ctx, in, "a"))(t)
	grew("update")
	must(s.ReplaceOrganisations(ctx, orgs("1", 3, "a")))(t)
	grew("organisations")
	check(t, s.InsertKey(ctx, store.KeyRecord{ID: "k1", Algorithm: "RS256", State: store.KeyCurrent, SealedPrivateKey: []byte("x")}))
	grew("insert key")
	check(t, s.SetKeyStates(ctx, map[string]store.KeyState{"k1": store.KeyPrevious}))
	grew("set key states")
	// A failed update changes nothing.
	_, err := s.UpdateIntegration(ctx, in, "a")
	wantErr(t, err, store.ErrConflict)
	if v := must(s.ConfigVersion(ctx))(t); v != last {
		t.Errorf("config version %d after a failed update, was %d", v, last)
	}
}

func ids(ins []*model.Integration) []int64 {
	out := make([]int64, len(ins))
	for i, in := range ins {
		out[i] = in.ID
	}
	return out
}

func testListIntegrations(t *testing.T, s store.Store) {
	ctx := t.Context()
	create := func(in *model.Integration) int64 {
		t.Helper()
		return must(s.CreateIntegration(ctx, in, "a"))(t).ID
	}
	inactive := func(in *model.Integration) *model.Integration { in.Status = model.StatusInactive; return in }
	inOrg := func(oid string, in *model.Integration) *model.Integration { in.OrganisationOID = oid; return in }

	espoo := create(idp(model.PhaseProduction, "Espoon Wilma"))                                       // 1000000
	vantaa := create(idp(model.PhaseTest, "Vantaan Äänekoski"))                                       // 4000000
	saml := create(samlSP(model.PhaseProduction, "Bookshelf", "https://books.example.fi/sp"))         // 2000000
	oidc := create(oidcSP(model.PhaseTest, "Matikkapeli", "game-client-42"))                          // 5000000
	old := create(inactive(samlSP(model.PhaseTest, "Old Library", "https://old.example.fi")))         // 5000001
	setA := create(inOrg("1.2.246.562.10.99999999999", set(model.PhaseProduction, "Alpha services"))) // 3000000
	setB := create(set(model.PhasePreProduction, "beta services"))                                    // 6000000
	all := []int64{espoo, saml, setA, vantaa, oidc, old, setB}
	slices.Sort(all)

	prod, test := model.PhaseProduction, model.PhaseTest
	tests := []struct {
		name string
		f    store.IntegrationFilter
		want []int64
	}{
		{"all", store.IntegrationFilter{}, all},
		{"role", store.IntegrationFilter{Role: model.RoleIdP}, []int64{espoo, vantaa}},
		{"type", store.IntegrationFilter{Type: "oidc"}, []int64{oidc}},
		{"phase", store.IntegrationFilter{DeploymentPhase: &prod}, []int64{espoo, saml, setA}},
		{"test phase", store.IntegrationFilter{DeploymentPhase: &test}, []int64{vantaa, oidc, old}},
		{"status", store.IntegrationFilter{Status: model.StatusInactive}, []int64{old}},
		{"organisations", store.IntegrationFilter{OrganisationOIDs: []string{"1.2.246.562.10.99999999999", "1.2.246.562.10.11111111111"}}, []int64{espoo, setA, vantaa}},
		{"no organisations", store.IntegrationFilter{OrganisationOIDs: []string{}}, []int64{}},
		{"query name", store.IntegrationFilter{Query: "wilma"}, []int64{espoo}},
		{"query case", store.IntegrationFilter{Query: "SERVICES"}, []int64{setA, setB}},
		{"query non-ascii case", store.IntegrationFilter{Query: "äänekoski"}, []int64{vantaa}},
		{"query organisation", store.IntegrationFilter{Query: "99999999"}, []int64{setA}},
		{"query entityID", store.IntegrationFilter{Query: "books.example"}, []int64{saml}},
		{"query client_id", store.IntegrationFilter{Query: "client-4"}, []int64{oidc}},
		{"query id", store.IntegrationFilter{Query: fmt.Sprint(oidc)}, []int64{oidc}},
		{"query wildcard is literal", store.IntegrationFilter{Query: "%"}, []int64{}},
		{"query and role", store.IntegrationFilter{Query: "services", Role: model.RoleSet, DeploymentPhase: &prod}, []int64{setA}},
		{"sort -id", store.IntegrationFilter{Sort: "-id"}, reversed(all)},
		{"sort name", store.IntegrationFilter{Role: model.RoleSet, Sort: "name"}, []int64{setA, setB}},
		{"sort -name", store.IntegrationFilter{Role: model.RoleSP, Sort: "-name"}, []int64{old, oidc, saml}},
		{"sort updatedAt", store.IntegrationFilter{Role: model.RoleIdP, Sort: "updatedAt"}, []int64{espoo, vantaa}},
		{"sort -updatedAt", store.IntegrationFilter{Role: model.RoleIdP, Sort: "-updatedAt"}, []int64{vantaa, espoo}},
		{"page 1", store.IntegrationFilter{Limit: 3}, all[:3]},
		{"page 2", store.IntegrationFilter{Limit: 3, Offset: 3}, all[3:6]},
		{"page 3", store.IntegrationFilter{Limit: 3, Offset: 6}, all[6:]},
		{"past the end", store.IntegrationFilter{Limit: 3, Offset: 30}, []int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.ListIntegrations(ctx, tc.f)
			check(t, err)
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("ids %v, want %v", ids(got), tc.want)
			}
			wantTotal := len(tc.want)
			if tc.f.Limit > 0 {
				f := tc.f
				f.Limit, f.Offset = 0, 0
				full, _, err := s.ListIntegrations(ctx, f)
				check(t, err)
				wantTotal = len(full)
			}
			if total != wantTotal {
				t.Errorf("total %d, want %d", total, wantTotal)
			}
		})
	}
	if _, _, err := s.ListIntegrations(ctx, store.IntegrationFilter{Sort: "color"}); err == nil {
		t.Error("unknown sort accepted")
	}
}

func reversed(s []int64) []int64 {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func testOrganisations(t *testing.T, s store.Store) {
	ctx := t.Context()
	if n := must(s.CountOrganisations(ctx))(t); n != 0 {
		t.Fatalf("fresh store has %d organisations", n)
	}
	reg := orgs("1", 100, "a")
	counts := must(s.ReplaceOrganisations(ctx, reg))(t)
	if counts != (store.SyncCounts{Added: 100, Total: 100}) {
		t.Errorf("first replace: %+v", counts)
	}
	counts = must(s.ReplaceOrganisations(ctx, reg))(t)
	if counts != (store.SyncCounts{Total: 100}) {
		t.Errorf("identical replace: %+v", counts)
	}
	// Change 3, remove 5, add 7.
	next := slices.Clone(reg[5:])
	for i := range 3 {
		next[i].Name.Fi += " muutettu"
	}
	next = append(next, orgs("2", 7, "b")...)
	counts = must(s.ReplaceOrganisations(ctx, next))(t)
	if counts != (store.SyncCounts{Added: 7, Changed: 3, Removed: 5, Total: 102}) {
		t.Errorf("third replace: %+v", counts)
	}
	if n := must(s.CountOrganisations(ctx))(t); n != 102 {
		t.Errorf("count %d, want 102", n)
	}
	list := must(s.ListOrganisations(ctx))(t)
	if len(list) != 102 {
		t.Fatalf("listed %d, want 102", len(list))
	}
	byOID := map[string]model.Organisation{}
	for _, o := range list {
		byOID[o.OID] = o
	}
	for _, want := range next {
		got, ok := byOID[want.OID]
		if !ok {
			t.Errorf("missing %s", want.OID)
			continue
		}
		if got.Name != want.Name || got.ParentOID != want.ParentOID || got.SchoolCode != want.SchoolCode ||
			!slices.Equal(got.Types, want.Types) || got.StartDate == nil || !got.StartDate.Equal(*want.StartDate) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
	got := must(s.GetOrganisation(ctx, next[0].OID))(t)
	if got.Name.Fi != next[0].Name.Fi {
		t.Errorf("GetOrganisation name %q, want %q", got.Name.Fi, next[0].Name.Fi)
	}
	_, err := s.GetOrganisation(ctx, reg[0].OID)
	wantErr(t, err, store.ErrNotFound)

	// Of duplicate OIDs the last wins.
	dup := orgs("3", 2, "x")
	dup[1].OID = dup[0].OID
	counts = must(s.ReplaceOrganisations(ctx, dup))(t)
	if counts.Total != 1 || counts.Removed != 102 || counts.Added != 1 {
		t.Errorf("duplicate replace: %+v", counts)
	}
	if got := must(s.GetOrganisation(ctx, dup[0].OID))(t); got.Name.Fi != dup[1].Name.Fi {
		t.Errorf("duplicate OID kept %q, want %q", got.Name.Fi, dup[1].Name.Fi)
	}
	// Replacing with nothing empties the registry.
	counts = must(s.ReplaceOrganisations(ctx, nil))(t)
	if counts != (store.SyncCounts{Removed: 1}) {
		t.Errorf("empty replace: %+v", counts)
	}
}

func testOrganisationsAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	gens := map[string][]model.Organisation{
		"A": orgs("1", 300, "A"),
		"B": append(orgs("1", 150, "B"), orgs("2", 100, "B")...),
	}
	must(s.ReplaceOrganisations(ctx, gens["A"]))(t)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int32
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				list, err := s.ListOrganisations(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
				if len(list) == 0 {
					t.Error("empty registry seen")
					return
				}
				gen := list[0].Name.Fi[len(list[0].Name.Fi)-1:]
				if len(list) != len(gens[gen]) {
					t.Errorf("saw %d organisations of generation %s, want %d", len(list), gen, len(gens[gen]))
					return
				}
				for _, o := range list {
					if o.Name.Fi[len(o.Name.Fi)-1:] != gen {
						t.Errorf("saw a mix of generations: %q in %s", o.Name.Fi, gen)
						return
					}
				}
			}
		})
	}
	for i := range 10 {
		must(s.ReplaceOrganisations(ctx, gens[[]string{"B", "A"}[i%2]]))(t)
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d consistent reads during 10 replacements", reads.Load())
}

func testOrganisationsLarge(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 15000
	a := orgs("1", n, "a")
	b := append(orgs("1", n-1000, "b"), orgs("2", 1000, "b")...)
	for _, step := range []struct {
		name string
		orgs []model.Organisation
		want store.SyncCounts
	}{
		{"initial", a, store.SyncCounts{Added: n, Total: n}},
		{"unchanged", a, store.SyncCounts{Total: n}},
		{"changed", b, store.SyncCounts{Added: 1000, Changed: n - 1000, Removed: 1000, Total: n}},
	} {
		start := time.Now()
		counts := must(s.ReplaceOrganisations(ctx, step.orgs))(t)
		d := time.Since(start)
		t.Logf("ReplaceOrganisations of %d organisations (%s): %v", n, step.name, d)
		if counts != step.want {
			t.Errorf("%s: %+v, want %+v", step.name, counts, step.want)
		}
		if d > 5*time.Second && !raceEnabled {
			t.Errorf("%s: replacing %d organisations took %v, want under 5s", step.name, n, d)
		}
	}
}

func testSyncRuns(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := ms(time.Now().Add(-time.Hour))
	var ids []int64
	for i := range 3 {
		id := must(s.RecordSyncRun(ctx, model.SyncRun{StartedAt: base.Add(time.Duration(i) * time.Minute), Outcome: model.SyncOK}))(t)
		ids = append(ids, id)
	}
	fin := base.Add(3 * time.Minute)
	run := model.SyncRun{ID: ids[2], StartedAt: base.Add(2 * time.Minute), FinishedAt: &fin, Outcome: model.SyncFailed, Added: 1, Changed: 2, Removed: 3, Total: 4, Error: "boom"}
	if id := must(s.RecordSyncRun(ctx, run))(t); id != ids[2] {
		t.Errorf("update returned id %d, want %d", id, ids[2])
	}
	runs := must(s.SyncRuns(ctx, 2))(t)
	if len(runs) != 2 || runs[0].ID != ids[2] || runs[1].ID != ids[1] {
		t.Fatalf("runs %+v", runs)
	}
	got := runs[0]
	if !got.StartedAt.Equal(run.StartedAt) || got.FinishedAt == nil || !got.FinishedAt.Equal(fin) || got.Outcome != run.Outcome ||
		got.Added != 1 || got.Changed != 2 || got.Removed != 3 || got.Total != 4 || got.Error != "boom" {
		t.Errorf("got %+v, want %+v", got, run)
	}
	if runs[1].FinishedAt != nil {
		t.Errorf("unfinished run has FinishedAt %v", runs[1].FinishedAt)
	}
	if all := must(s.SyncRuns(ctx, 0))(t); len(all) != 3 {
		t.Errorf("SyncRuns(0) = %d runs, want 3", len(all))
	}
	_, err := s.RecordSyncRun(ctx, model.SyncRun{ID: 9999, StartedAt: base, Outcome: model.SyncOK})
	wantErr(t, err, store.ErrNotFound)
}

func testTransactions(t *testing.T, s store.Store) {
	ctx := t.Context()
	exp := ms(time.Now().Add(time.Hour))
	tx := store.Transaction{ID: randomID(), Data: []byte("state"), ExpiresAt: exp}
	check(t, s.PutTransaction(ctx, tx))
	wantErr(t, s.PutTransaction(ctx, tx), store.ErrDuplicate)
	got := must(s.GetTransaction(ctx, tx.ID))(t)
	if got.ID != tx.ID || !bytes.Equal(got.Data, tx.Data) || !got.ExpiresAt.Equal(exp) {
		t.Errorf("got %+v, want %+v", got, tx)
	}
	tx.Data, tx.ExpiresAt = []byte("state 2"), exp.Add(time.Minute)
	check(t, s.UpdateTransaction(ctx, tx))
	got = must(s.ConsumeTransaction(ctx, tx.ID))(t)
	if !bytes.Equal(got.Data, tx.Data) || !got.ExpiresAt.Equal(tx.ExpiresAt) {
		t.Errorf("consumed %+v, want %+v", got, tx)
	}
	_, err := s.ConsumeTransaction(ctx, tx.ID)
	wantErr(t, err, store.ErrAlreadyUsed)
	_, err = s.GetTransaction(ctx, tx.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.UpdateTransaction(ctx, tx), store.ErrNotFound)
	_, err = s.ConsumeTransaction(ctx, "missing")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.UpdateTransaction(ctx, store.Transaction{ID: "missing", ExpiresAt: exp}), store.ErrNotFound)
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := ms(time.Now())
	ss := store.Session{ID: randomID(), SubjectHash: "h1", Data: []byte("user"), CreatedAt: now,
		ExpiresAt: now.Add(8 * time.Hour), IdleExpiresAt: now.Add(time.Hour)}
	check(t, s.PutSession(ctx, ss))
	wantErr(t, s.PutSession(ctx, ss), store.ErrDuplicate)
	got := must(s.GetSession(ctx, ss.ID))(t)
	if got.ID != ss.ID || got.SubjectHash != "h1" || !bytes.Equal(got.Data, ss.Data) || !got.CreatedAt.Equal(now) ||
		!got.ExpiresAt.Equal(ss.ExpiresAt) || !got.IdleExpiresAt.Equal(ss.IdleExpiresAt) {
		t.Errorf("got %+v, want %+v", got, ss)
	}
	idle := now.Add(2 * time.Hour)
	check(t, s.TouchSession(ctx, ss.ID, []byte("user 2"), idle))
	got = must(s.GetSession(ctx, ss.ID))(t)
	if !bytes.Equal(got.Data, []byte("user 2")) || !got.IdleExpiresAt.Equal(idle) || !got.ExpiresAt.Equal(ss.ExpiresAt) {
		t.Errorf("after touch %+v", got)
	}
	// The idle expiry never passes the absolute end, on a touch as when
	// the session is put: it is what the sweep reads.
	check(t, s.TouchSession(ctx, ss.ID, []byte("user 2"), now.Add(9*time.Hour)))
	if got = must(s.GetSession(ctx, ss.ID))(t); !got.IdleExpiresAt.Equal(ss.ExpiresAt) {
		t.Errorf("idle expiry touched past the end: %v, end %v", got.IdleExpiresAt, ss.ExpiresAt)
	}
	long := store.Session{ID: randomID(), ExpiresAt: now.Add(time.Hour), IdleExpiresAt: now.Add(2 * time.Hour)}
	check(t, s.PutSession(ctx, long))
	if got = must(s.GetSession(ctx, long.ID))(t); !got.IdleExpiresAt.Equal(long.ExpiresAt) {
		t.Errorf("idle expiry put past the end: %v, end %v", got.IdleExpiresAt, long.ExpiresAt)
	}
	check(t, s.DeleteSession(ctx, long.ID))
	// Moving the idle expiry into the past ends the session.
	check(t, s.TouchSession(ctx, ss.ID, nil, now.Add(-time.Second)))
	_, err := s.GetSession(ctx, ss.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.TouchSession(ctx, ss.ID, nil, idle), store.ErrNotFound)

	ss2 := ss
	ss2.ID = randomID()
	check(t, s.PutSession(ctx, ss2))
	check(t, s.DeleteSession(ctx, ss2.ID))
	_, err = s.GetSession(ctx, ss2.ID)
	wantErr(t, err, store.ErrNotFound)
	check(t, s.DeleteSession(ctx, ss2.ID)) // deleting twice is fine
	wantErr(t, s.TouchSession(ctx, "missing", nil, idle), store.ErrNotFound)
}

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	exp := ms(time.Now().Add(time.Hour))
	access := store.Token{Hash: randomID(), Kind: store.AccessToken, ClientID: "rp", GrantID: "g1", Data: []byte("a"), ExpiresAt: exp}
	refresh := store.Token{Hash: randomID(), Kind: store.RefreshToken, ClientID: "rp", GrantID: "g1", Data: []byte("r"), ExpiresAt: exp}
	other := store.Token{Hash: randomID(), Kind: store.AccessToken, ClientID: "rp", GrantID: "g2", ExpiresAt: exp}
	for _, tok := range []store.Token{access, refresh, other} {
		check(t, s.PutToken(ctx, tok))
	}
	wantErr(t, s.PutToken(ctx, access), store.ErrDuplicate)
	got := must(s.GetToken(ctx, access.Hash))(t)
	if got.Hash != access.Hash || got.Kind != store.AccessToken || got.ClientID != "rp" || got.GrantID != "g1" ||
		!bytes.Equal(got.Data, access.Data) || !got.ExpiresAt.Equal(exp) {
		t.Errorf("got %+v, want %+v", got, access)
	}
	got = must(s.ConsumeToken(ctx, refresh.Hash))(t)
	if got.Kind != store.RefreshToken || !bytes.Equal(got.Data, refresh.Data) {
		t.Errorf("consumed %+v, want %+v", got, refresh)
	}
	_, err := s.ConsumeToken(ctx, refresh.Hash)
	wantErr(t, err, store.ErrAlreadyUsed)
	_, err = s.GetToken(ctx, refresh.Hash)
	wantErr(t, err, store.ErrNotFound)

	n := must(s.RevokeGrant(ctx, "g1"))(t)
	if n != 2 {
		t.Errorf("revoked %d tokens, want 2", n)
	}
	_, err = s.GetToken(ctx, access.Hash)
	wantErr(t, err, store.ErrNotFound)
	must(s.GetToken(ctx, other.Hash))(t)
	if n := must(s.RevokeGrant(ctx, "g1"))(t); n != 0 {
		t.Errorf("revoked %d tokens again, want 0", n)
	}
	_, err = s.ConsumeToken(ctx, "missing")
	wantErr(t, err, store.ErrNotFound)
}

func testExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	past, future := ms(now.Add(-time.Minute)), ms(now.Add(time.Hour))
	for _, exp := range []time.Time{past, future} {
		tag := "live"
		if exp.Before(now) {
			tag = "dead"
		}
		check(t, s.PutTransaction(ctx, store.Transaction{ID: "tx-" + tag, ExpiresAt: exp}))
		check(t, s.PutSession(ctx, store.Session{ID: "s-" + tag, ExpiresAt: exp, IdleExpiresAt: exp}))
		check(t, s.PutToken(ctx, store.Token{Hash: "t-" + tag, Kind: store.RefreshToken, GrantID: "g-" + tag, ExpiresAt: exp}))
		if ok := must(s.MarkUsed(ctx, "ns", "v-"+tag, exp))(t); !ok {
			t.Errorf("MarkUsed %s = false on first use", tag)
		}
	}
	// A session whose idle time is over, though its absolute end is not,
	// and one whose absolute end is over, though it was put with a later
	// idle end.
	check(t, s.PutSession(ctx, store.Session{ID: "s-idle", ExpiresAt: future, IdleExpiresAt: past}))
	check(t, s.PutSession(ctx, store.Session{ID: "s-ended", ExpiresAt: past, IdleExpiresAt: future}))

	// Expired records behave as absent before they are collected.
	for name, err := range map[string]error{
		"transaction":         func() error { _, err := s.GetTransaction(ctx, "tx-dead"); return err }(),
		"consume transaction": func() error { _, err := s.ConsumeTransaction(ctx, "tx-dead"); return err }(),
		"update transaction":  s.UpdateTransaction(ctx, store.Transaction{ID: "tx-dead", ExpiresAt: future}),
		"session":             func() error { _, err := s.GetSession(ctx, "s-dead"); return err }(),
		"idle session":        func() error { _, err := s.GetSession(ctx, "s-idle"); return err }(),
		"ended session":       func() error { _, err := s.GetSession(ctx, "s-ended"); return err }(),
		"touch session":       s.TouchSession(ctx, "s-dead", nil, future),
		"token":               func() error { _, err := s.GetToken(ctx, "t-dead"); return err }(),
		"consume token":       func() error { _, err := s.ConsumeToken(ctx, "t-dead"); return err }(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", name, err)
		}
	}
	// The live ones are there.
	must(s.GetTransaction(ctx, "tx-live"))(t)
	must(s.GetSession(ctx, "s-live"))(t)
	must(s.GetToken(ctx, "t-live"))(t)

	// Collection: 4 dead records and the idle and ended sessions.
	if n := must(s.DeleteExpired(ctx, time.Now()))(t); n != 6 {
		t.Errorf("DeleteExpired removed %d, want 6", n)
	}
	if n := must(s.DeleteExpired(ctx, time.Now()))(t); n != 0 {
		t.Errorf("second DeleteExpired removed %d, want 0", n)
	}
	must(s.GetTransaction(ctx, "tx-live"))(t)
	if n := must(s.DeleteExpired(ctx, future.Add(time.Second)))(t); n != 4 {
		t.Errorf("DeleteExpired in the future removed %d, want 4", n)
	}
	_, err := s.GetTransaction(ctx, "tx-live")
	wantErr(t, err, store.ErrNotFound)

	// An expired, uncollected record does not block a new one of that id.
	check(t, s.PutTransaction(ctx, store.Transaction{ID: "tx-again", ExpiresAt: past}))
	check(t, s.PutTransaction(ctx, store.Transaction{ID: "tx-again", ExpiresAt: future}))
	must(s.ConsumeTransaction(ctx, "tx-again"))(t)
}

func testMarkUsed(t *testing.T, s store.Store) {
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	if !must(s.MarkUsed(ctx, "saml", "id-1", exp))(t) {
		t.Error("first use reported as replay")
	}
	if must(s.MarkUsed(ctx, "saml", "id-1", exp))(t) {
		t.Error("replay not detected")
	}
	if !must(s.MarkUsed(ctx, "wilma", "id-1", exp))(t) {
		t.Error("namespaces are not separate")
	}
	// Values from outside may hold any bytes: a NUL, invalid UTF-8, a long
	// string. Each is recorded and its replay detected, on every backend.
	for _, odd := range []string{"entity\x00id-1", "bad-\xff\xfe-utf8", strings.Repeat("x", 10000)} {
		if !must(s.MarkUsed(ctx, "odd", odd, exp))(t) {
			t.Errorf("first use of %q reported as replay", odd[:min(len(odd), 20)])
		}
		if must(s.MarkUsed(ctx, "odd", odd, exp))(t) || !must(s.Marked(ctx, "odd", odd))(t) {
			t.Errorf("replay of %q not detected", odd[:min(len(odd), 20)])
		}
	}
	if !must(s.Marked(ctx, "saml", "id-1"))(t) {
		t.Error("Marked does not see a live value")
	}
	if must(s.Marked(ctx, "saml", "id-2"))(t) || must(s.Marked(ctx, "other", "id-1"))(t) {
		t.Error("Marked sees a value never recorded")
	}
	if must(s.MarkUsed(ctx, "gone", "x", time.Now().Add(-time.Second)))(t); must(s.Marked(ctx, "gone", "x"))(t) {
		t.Error("Marked sees an expired value")
	}
	// Once expired, the value may be used again, and is then protected anew.
	if !must(s.MarkUsed(ctx, "jti", "old", time.Now().Add(-time.Second)))(t) {
		t.Error("first use reported as replay")
	}
	if !must(s.MarkUsed(ctx, "jti", "old", exp))(t) {
		t.Error("an expired value was reported as replay")
	}
	if must(s.MarkUsed(ctx, "jti", "old", exp))(t) {
		t.Error("replay of a renewed value not detected")
	}
}

func testKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := ms(time.Now().Add(-time.Hour))
	k1 := store.KeyRecord{ID: "k1", Algorithm: "RS256", State: store.KeyCurrent, SealedPrivateKey: []byte("sealed1"), CertificateDER: []byte("cert1"), CreatedAt: created, UpdatedAt: created}
	k2 := store.KeyRecord{ID: "k2", Algorithm: "ES256", State: store.KeyNext, SealedPrivateKey: []byte("sealed2"), CertificateDER: []byte("cert2")}
	check(t, s.InsertKey(ctx, k1))
	check(t, s.InsertKey(ctx, k2))
	err := s.InsertKey(ctx, k1)
	var dup *store.DuplicateError
	if !errors.As(err, &dup) || dup.Field != "id" {
		t.Errorf("duplicate key: got %v", err)
	}
	keys := must(s.ListKeys(ctx))(t)
	if len(keys) != 2 || keys[0].ID != "k1" || keys[1].ID != "k2" {
		t.Fatalf("keys %+v", keys)
	}
	if k := keys[0]; k.Algorithm != "RS256" || k.State != store.KeyCurrent || !bytes.Equal(k.SealedPrivateKey, k1.SealedPrivateKey) ||
		!bytes.Equal(k.CertificateDER, k1.CertificateDER) || !k.CreatedAt.Equal(created) || !k.UpdatedAt.Equal(created) {
		t.Errorf("got %+v, want %+v", k, k1)
	}
	if keys[1].CreatedAt.IsZero() {
		t.Error("CreatedAt not set by the store")
	}
	check(t, s.SetKeyStates(ctx, map[string]store.KeyState{"k1": store.KeyPrevious, "k2": store.KeyCurrent}))
	keys = must(s.ListKeys(ctx))(t)
	if keys[0].State != store.KeyPrevious || keys[1].State != store.KeyCurrent || !keys[0].UpdatedAt.After(created) {
		t.Errorf("after rotation %+v", keys)
	}
	// An unknown id fails the whole step.
	err = s.SetKeyStates(ctx, map[string]store.KeyState{"k1": store.KeyRetired, "nope": store.KeyCurrent})
	wantErr(t, err, store.ErrNotFound)
	if keys = must(s.ListKeys(ctx))(t); keys[0].State != store.KeyPrevious {
		t.Errorf("a failed rotation changed k1 to %s", keys[0].State)
	}
}

func testTryLock(t *testing.T, s store.Store) {
	ctx := t.Context()
	release := must(s.TryLock(ctx, "registry-sync"))(t)
	_, err := s.TryLock(ctx, "registry-sync")
	wantErr(t, err, store.ErrLocked)
	other := must(s.TryLock(ctx, "key-rotation"))(t)
	other()
	release()
	release() // a second release is harmless
	again := must(s.TryLock(ctx, "registry-sync"))(t)
	defer again()

	// Of concurrent callers exactly one gets a free lock.
	var got atomic.Int32
	var wg sync.WaitGroup
	releases := make(chan func(), 20)
	for range 20 {
		wg.Go(func() {
			rel, err := s.TryLock(ctx, "contended")
			if err == nil {
				got.Add(1)
				releases <- rel
			} else if !errors.Is(err, store.ErrLocked) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(releases)
	for rel := range releases {
		rel()
	}
	if got.Load() != 1 {
		t.Errorf("%d concurrent holders, want 1", got.Load())
	}
}

func testConcurrentSingleUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 50
	exp := time.Now().Add(time.Hour)
	tests := []struct {
		name  string
		setup func() error
		use   func() error // nil error = the one success
	}{
		{"transaction", func() error { return s.PutTransaction(ctx, store.Transaction{ID: "race", ExpiresAt: exp}) },
			func() error { _, err := s.ConsumeTransaction(ctx, "race"); return err }},
		{"token", func() error {
			return s.PutToken(ctx, store.Token{Hash: "race", Kind: store.RefreshToken, ExpiresAt: exp})
		}, func() error { _, err := s.ConsumeToken(ctx, "race"); return err }},
		{"mark used", func() error { return nil }, func() error {
			ok, err := s.MarkUsed(ctx, "ns", "race", exp)
			if err == nil && !ok {
				return store.ErrAlreadyUsed
			}
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, tc.setup())
			var wins, used atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-start
					err := tc.use()
					switch {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, store.ErrAlreadyUsed):
						used.Add(1)
					default:
						t.Error(err)
					}
				})
			}
			close(start)
			wg.Wait()
			if wins.Load() != 1 || used.Load() != n-1 {
				t.Errorf("%d successes and %d ErrAlreadyUsed, want 1 and %d", wins.Load(), used.Load(), n-1)
			}
		})
	}
}

// Bench runs the benchmarks of the hot paths of a login. open must return a
// fresh, empty, migrated store and close it when the benchmark ends. (The
// registry replacement is timed by the OrganisationsLarge test instead: one
// replacement takes long enough that -benchtime Nx would run for minutes.)
func Bench(b *testing.B, open func(b *testing.B) store.Store) {
	// Redeeming an OIDC code (a sealed grant) is this one single-use mark.
	b.Run("CodeRedeem", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		var seq atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				fresh, err := s.MarkUsed(ctx, "oidc-code", fmt.Sprint("code-", seq.Add(1)), time.Now().Add(time.Minute))
				if err != nil || !fresh {
					b.Error(fresh, err)
					return
				}
			}
		})
	})
	// What an OIDC login writes, from many logins at once: its SSO session,
	// keyed as the broker keys it (the time it began, then a hash of the
	// random cookie), and its code's mark under a random key (a hash of
	// the sealed code), which lands on a page of its own.
	b.Run("LoginWrites", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		var seq atomic.Int64
		data := bytes.Repeat([]byte("x"), 400)
		b.SetParallelism(32) // 64 logins in flight on two cores
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				key := func(what string) string {
					sum := sha256.Sum256(fmt.Append(nil, what, n))
					return hex.EncodeToString(sum[:])
				}
				now := time.Now()
				err := s.PutSession(ctx, store.Session{ID: fmt.Sprintf("%012x", now.UnixMilli()) + key("session"), SubjectHash: key("subject"), Data: data,
					CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour), IdleExpiresAt: now.Add(time.Hour)})
				if err != nil {
					b.Error(err)
					return
				}
				if fresh, err := s.MarkUsed(ctx, "oidc-code", key("code"), now.Add(time.Minute)); err != nil || !fresh {
					b.Error(fresh, err)
					return
				}
			}
		})
	})
	// A userinfo request asks whether its grant was revoked: a point read
	// under a request's (cancellable) context, here of a mark that exists
	// half the time.
	b.Run("MarkedRead", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		for i := range 1000 {
			if _, err := s.MarkUsed(ctx, "revoked", fmt.Sprint("grant-", i), time.Now().Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
		var seq atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				marked, err := s.Marked(ctx, "revoked", fmt.Sprint("grant-", n%2000))
				if err != nil || marked != (n%2000 < 1000) {
					b.Error(n, marked, err)
					return
				}
			}
		})
	})
	b.Run("TransactionCreateConsume", func(b *testing.B) {
		s := open(b)
		ctx := b.Context()
		var seq atomic.Int64
		data := bytes.Repeat([]byte("x"), 512)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := fmt.Sprint("tx-", seq.Add(1))
				if err := s.PutTransaction(ctx, store.Transaction{ID: id, Data: data, ExpiresAt: time.Now().Add(10 * time.Minute)}); err != nil {
					b.Error(err)
					return
				}
				if _, err := s.ConsumeTransaction(ctx, id); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
