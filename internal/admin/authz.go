package admin

import (
	"strings"

	"github.com/mpassid/mpassid/internal/model"
)

// AdminOrganisationOID is the organisation whose members see and edit every
// integration (OPH).
const AdminOrganisationOID = model.RootOID

// RoleKind is one of the four role kinds of the national management service.
type RoleKind string

const (
	// KindEditor (TALLENTAJA) edits the identity providers, services and
	// sets of its organisation.
	KindEditor RoleKind = "TALLENTAJA"
	// KindViewer (KATSELIJA) sees them.
	KindViewer RoleKind = "KATSELIJA"
	// KindServiceEditor (PALVELU_TALLENTAJA) edits services and sets only.
	KindServiceEditor RoleKind = "PALVELU_TALLENTAJA"
	// KindServiceViewer (PALVELU_KATSELIJA) sees services and sets only.
	KindServiceViewer RoleKind = "PALVELU_KATSELIJA"
)

// groupPrefix starts every role group; the kind and the organisation OID
// follow: APP_MPASSID_<kind>_<oid>.
const groupPrefix = "APP_MPASSID_"

// Role is a role kind held in one organisation.
type Role struct {
	Kind   RoleKind `json:"kind"`
	OrgOID string   `json:"organisationOid"`
}

// Group returns the group name that carries the role.
func (r Role) Group() string { return groupPrefix + string(r.Kind) + "_" + r.OrgOID }

// Principal is the signed-in user or API token a request acts for.
type Principal struct {
	Subject string `json:"subject"`
	Name    string `json:"name,omitempty"`
	Roles   []Role `json:"roles"`
	// Via is how the principal signed in: "session", "token" or "basic".
	Via string `json:"via"`
}

// ParseRole reads one group name; ok is false for groups that are not
// management-service roles.
func ParseRole(group string) (Role, bool) {
	rest, ok := strings.CutPrefix(group, groupPrefix)
	if !ok {
		return Role{}, false
	}
	// The longer kinds first: PALVELU_TALLENTAJA before TALLENTAJA.
	for _, k := range []RoleKind{KindServiceEditor, KindServiceViewer, KindEditor, KindViewer} {
		if oid, ok := strings.CutPrefix(rest, string(k)+"_"); ok && validOID(oid) {
			return Role{Kind: k, OrgOID: oid}, true
		}
	}
	return Role{}, false
}

// validOID accepts dotted digit strings (1.2.246.562.10.00000000001).
func validOID(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// RolesFromGroups returns the roles among groups, ignoring other groups and
// duplicates.
func RolesFromGroups(groups []string) []Role {
	var out []Role
	seen := map[Role]bool{}
	for _, g := range groups {
		if r, ok := ParseRole(g); ok && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// Operation is what a principal wants to do.
type Operation string

const (
	OpView       Operation = "view"
	OpCreate     Operation = "create"
	OpUpdate     Operation = "update"
	OpInactivate Operation = "inactivate"
	// OpRestore restores an earlier revision.
	OpRestore Operation = "restore"
	// OpManageTokens creates, lists and revokes API tokens; the
	// integration role and organisation do not matter.
	OpManageTokens Operation = "manageTokens"
)

// Operations lists every operation, for tests and documentation.
func Operations() []Operation {
	return []Operation{OpView, OpCreate, OpUpdate, OpInactivate, OpRestore, OpManageTokens}
}

// Allowed is the one place that decides whether principal p may do op on an
// integration of role in the organisation orgOID:
//
//   - TALLENTAJA_<oid> does anything to identity providers, services and
//     sets of <oid>; KATSELIJA_<oid> only views them;
//   - PALVELU_TALLENTAJA_<oid> and PALVELU_KATSELIJA_<oid> likewise, but
//     only for services and sets;
//   - a role in the admin organisation applies to every organisation;
//   - only TALLENTAJA of the admin organisation manages API tokens.
//
// Organisations match by exact OID; an unknown role, kind or operation is
// refused.
func Allowed(p *Principal, op Operation, role model.Role, orgOID string) bool {
	if p == nil {
		return false
	}
	for _, r := range p.Roles {
		if op == OpManageTokens {
			if r.Kind == KindEditor && r.OrgOID == AdminOrganisationOID {
				return true
			}
			continue
		}
		if !role.Valid() {
			return false
		}
		if r.OrgOID != orgOID && r.OrgOID != AdminOrganisationOID {
			continue
		}
		var roles []model.Role
		var write bool
		switch r.Kind {
		case KindEditor:
			roles, write = []model.Role{model.RoleIdP, model.RoleSP, model.RoleSet}, true
		case KindViewer:
			roles = []model.Role{model.RoleIdP, model.RoleSP, model.RoleSet}
		case KindServiceEditor:
			roles, write = []model.Role{model.RoleSP, model.RoleSet}, true
		case KindServiceViewer:
			roles = []model.Role{model.RoleSP, model.RoleSet}
		default:
			continue
		}
		if !containsRole(roles, role) {
			continue
		}
		switch op {
		case OpView:
			return true
		case OpCreate, OpUpdate, OpInactivate, OpRestore:
			if write {
				return true
			}
		}
	}
	return false
}

func containsRole(rs []model.Role, r model.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// seesAll reports whether p has some role in the admin organisation, so
// that searches need no organisation filter.
func (p *Principal) seesAll() bool {
	for _, r := range p.Roles {
		if r.OrgOID == AdminOrganisationOID {
			return true
		}
	}
	return false
}

// organisations returns the organisations p holds any role in.
func (p *Principal) organisations() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range p.Roles {
		if !seen[r.OrgOID] {
			seen[r.OrgOID] = true
			out = append(out, r.OrgOID)
		}
	}
	return out
}
