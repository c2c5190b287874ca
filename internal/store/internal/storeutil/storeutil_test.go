package storeutil

import (
	"fmt"
	"testing"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

func TestWhere(t *testing.T) {
	prod := model.PhaseProduction
	dollar := func(n int) string { return fmt.Sprintf("$%d", n) }
	tests := []struct {
		f     store.IntegrationFilter
		where string
		nargs int
		none  bool
	}{
		{store.IntegrationFilter{}, "1=1", 0, false},
		{store.IntegrationFilter{Query: "Abc_%"}, `search LIKE $1 ESCAPE '\'`, 1, false},
		{store.IntegrationFilter{Query: "123"}, `(search LIKE $1 ESCAPE '\' OR id = $2)`, 2, false},
		{store.IntegrationFilter{Role: model.RoleSP, DeploymentPhase: &prod, OrganisationOIDs: []string{"a", "b"}},
			"role = $1 AND deployment_phase = $2 AND organisation_oid IN ($3, $4)", 4, false},
		{store.IntegrationFilter{OrganisationOIDs: []string{}}, "", 0, true},
	}
	for _, tc := range tests {
		where, args, none := Where(tc.f, dollar)
		if where != tc.where || len(args) != tc.nargs || none != tc.none {
			t.Errorf("Where(%+v) = %q, %v, %v; want %q, %d args, %v", tc.f, where, args, none, tc.where, tc.nargs, tc.none)
		}
	}
	if _, args, _ := Where(store.IntegrationFilter{Query: "Abc_%"}, dollar); args[0] != `%abc\_\%%` {
		t.Errorf("pattern %q", args[0])
	}
}

func TestOrderBy(t *testing.T) {
	for in, want := range map[string]string{"": "id ASC", "-id": "id DESC", "name": "name ASC, id ASC", "-updatedAt": "updated_at DESC, id DESC"} {
		if got, err := OrderBy(in); err != nil || got != want {
			t.Errorf("OrderBy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := OrderBy("name; DROP TABLE x"); err == nil {
		t.Error("OrderBy accepted an unknown sort")
	}
}

func TestNextID(t *testing.T) {
	r := model.IDRange{Min: 10, Max: 12}
	for _, tc := range []struct {
		max   int64
		found bool
		want  int64
		err   bool
	}{{0, false, 10, false}, {10, true, 11, false}, {11, true, 12, false}, {12, true, 0, true}} {
		got, err := NextID(r, tc.max, tc.found)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("NextID(%d, %v) = %d, %v", tc.max, tc.found, got, err)
		}
	}
}

func TestLockKeyScoped(t *testing.T) {
	if LockKey("a", "sync") == LockKey("b", "sync") || LockKey("a", "sync") != LockKey("a", "sync") {
		t.Error("lock keys are not deterministic per scope")
	}
}
