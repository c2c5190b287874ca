package admin

import (
	"testing"

	"github.com/mpassid/mpassid/internal/model"
)

const (
	ownOrg   = "1.2.246.562.10.11111111111"
	otherOrg = "1.2.246.562.10.22222222222"
)

func TestParseRole(t *testing.T) {
	tests := []struct {
		group string
		want  Role
		ok    bool
	}{
		{"APP_MPASSID_TALLENTAJA_1.2.246.562.10.1", Role{KindEditor, "1.2.246.562.10.1"}, true},
		{"APP_MPASSID_KATSELIJA_1.2.3", Role{KindViewer, "1.2.3"}, true},
		{"APP_MPASSID_PALVELU_TALLENTAJA_1.2.3", Role{KindServiceEditor, "1.2.3"}, true},
		{"APP_MPASSID_PALVELU_KATSELIJA_1.2.3", Role{KindServiceViewer, "1.2.3"}, true},
		{"APP_MPASSID_PALVELU_1.2.3", Role{}, false},
		{"APP_MPASSID_TALLENTAJA_", Role{}, false},
		{"APP_MPASSID_TALLENTAJA_1.2.x", Role{}, false},
		{"APP_MPASSID_TALLENTAJA_1..2", Role{}, false},
		{"APP_OTHER_TALLENTAJA_1.2", Role{}, false},
		{"app_mpassid_tallentaja_1.2", Role{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseRole(tc.group)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRole(%q) = %v, %v; want %v, %v", tc.group, got, ok, tc.want, tc.ok)
		}
		if ok && got.Group() != tc.group {
			t.Errorf("Group() = %q, want %q", got.Group(), tc.group)
		}
	}
}

// TestAllowedMatrix is the full matrix: role kind x operation x integration
// role x own/other/admin organisation.
func TestAllowedMatrix(t *testing.T) {
	kinds := []RoleKind{KindEditor, KindViewer, KindServiceEditor, KindServiceViewer}
	roles := []model.Role{model.RoleIdP, model.RoleSP, model.RoleSet}
	// want returns the expected answer for a principal holding kind in
	// holder, acting on an integration of role in target.
	want := func(kind RoleKind, holder string, op Operation, role model.Role, target string) bool {
		if op == OpManageTokens {
			return kind == KindEditor && holder == AdminOrganisationOID
		}
		if holder != target && holder != AdminOrganisationOID {
			return false
		}
		serviceOnly := kind == KindServiceEditor || kind == KindServiceViewer
		if serviceOnly && role == model.RoleIdP {
			return false
		}
		editor := kind == KindEditor || kind == KindServiceEditor
		return op == OpView || editor
	}
	n := 0
	for _, kind := range kinds {
		for _, holder := range []string{ownOrg, AdminOrganisationOID} {
			p := &Principal{Subject: "u", Roles: []Role{{kind, holder}}}
			for _, op := range Operations() {
				for _, role := range roles {
					for _, target := range []string{ownOrg, otherOrg} {
						got := Allowed(p, op, role, target)
						if w := want(kind, holder, op, role, target); got != w {
							t.Errorf("%s@%s %s %s in %s: got %v, want %v", kind, holder, op, role, target, got, w)
						}
						n++
					}
				}
			}
		}
	}
	if n != 4*2*6*3*2 {
		t.Fatalf("matrix has %d cells", n)
	}
	// Spot checks of the reading of the rules.
	if !Allowed(&Principal{Roles: []Role{{KindEditor, ownOrg}}}, OpUpdate, model.RoleIdP, ownOrg) {
		t.Error("editor cannot update own IdP")
	}
	if Allowed(&Principal{Roles: []Role{{KindServiceEditor, ownOrg}}}, OpUpdate, model.RoleIdP, ownOrg) {
		t.Error("service editor can update an IdP")
	}
}

func TestAllowedEdgeCases(t *testing.T) {
	if Allowed(nil, OpView, model.RoleSP, ownOrg) {
		t.Error("nil principal allowed")
	}
	if Allowed(&Principal{}, OpView, model.RoleSP, ownOrg) {
		t.Error("principal without roles allowed")
	}
	p := &Principal{Roles: []Role{{KindEditor, ownOrg}}}
	if Allowed(p, OpView, model.Role("bogus"), ownOrg) {
		t.Error("unknown integration role allowed")
	}
	if Allowed(p, Operation("bogus"), model.RoleSP, ownOrg) {
		t.Error("unknown operation allowed")
	}
	if Allowed(&Principal{Roles: []Role{{RoleKind("BOGUS"), ownOrg}}}, OpView, model.RoleSP, ownOrg) {
		t.Error("unknown kind allowed")
	}
	// Prefix OIDs do not match: scoping is by exact OID.
	if Allowed(p, OpView, model.RoleSP, ownOrg+"1") || Allowed(p, OpView, model.RoleSP, "1.2.246.562.10.1111111111") {
		t.Error("OID prefix matched")
	}
	// Roles combine: a viewer here and a service editor there.
	q := &Principal{Roles: []Role{{KindViewer, ownOrg}, {KindServiceEditor, otherOrg}}}
	if !Allowed(q, OpView, model.RoleIdP, ownOrg) || Allowed(q, OpUpdate, model.RoleIdP, ownOrg) ||
		!Allowed(q, OpUpdate, model.RoleSP, otherOrg) || Allowed(q, OpView, model.RoleIdP, otherOrg) {
		t.Error("combined roles decided wrongly")
	}
}

func TestLocalReturn(t *testing.T) {
	for in, want := range map[string]string{
		"/hallinta/": "/hallinta/", "": "/", "//evil.example/": "/", "/\\evil.example": "/",
		"https://evil.example/": "/", "hallinta": "/",
	} {
		if got := localReturn(in); got != want {
			t.Errorf("localReturn(%q) = %q, want %q", in, got, want)
		}
	}
}
