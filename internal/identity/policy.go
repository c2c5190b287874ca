package identity

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mpassid/mpassid/internal/model"
)

// Policy is the broker-wide role and class-level configuration. A nil or
// empty field means the data model's default for that field, so the zero
// Policy is the default policy.
type Policy struct {
	// RoleNames maps upstream role names to data-model role names; keys
	// are compared case-insensitively. Default: teacher -> Opettaja,
	// student -> Oppilas, staff -> Hallintohenkilö, principal -> Rehtori.
	RoleNames map[string]string
	// Allowed lists the role names that are released (compared
	// case-insensitively, released in the spelling given here). Default:
	// Opettaja, Oppilas, Rehtori, Sijaisopettaja, Koulusihteeri,
	// Hallintohenkilö.
	Allowed []string
	// Codes maps a released role name to its role code; others get -1.
	// Default: Oppilas 1, Opettaja 2, Hallintohenkilö 3.
	Codes map[string]int
	// ClassLevelInstitutionTypes are the institution types (oppilaitostyyppi)
	// whose pupils get a class level. Default: 11, 12, 19.
	ClassLevelInstitutionTypes []int
}

// Constant-like default tables; never modified (DefaultPolicy copies them).
var (
	defaultRoleNames = map[string]string{
		"teacher":   model.RoleNameTeacher,
		"student":   model.RoleNamePupil,
		"staff":     model.RoleNameAdminStaff,
		"principal": model.RoleNamePrincipal,
	}
	defaultAllowed = []string{
		model.RoleNameTeacher, model.RoleNamePupil, model.RoleNamePrincipal,
		model.RoleNameSubstitute, model.RoleNameSecretary, model.RoleNameAdminStaff,
	}
	defaultCodes = map[string]int{
		model.RoleNamePupil:      1,
		model.RoleNameTeacher:    2,
		model.RoleNameAdminStaff: 3,
	}
	defaultClassLevelTypes = []int{11, 12, 19}
)

// DefaultPolicy returns the data model's defaults, as a copy the caller may
// change.
func DefaultPolicy() Policy {
	rn := make(map[string]string, len(defaultRoleNames))
	for k, v := range defaultRoleNames {
		rn[k] = v
	}
	codes := make(map[string]int, len(defaultCodes))
	for k, v := range defaultCodes {
		codes[k] = v
	}
	return Policy{
		RoleNames:                  rn,
		Allowed:                    slices.Clone(defaultAllowed),
		Codes:                      codes,
		ClassLevelInstitutionTypes: slices.Clone(defaultClassLevelTypes),
	}
}

// Validate reports configuration mistakes: role-name keys that differ only
// by case (their lookup would be ambiguous), mapping targets and codes for
// names that are not allowed, and role names containing ";".
func (p Policy) Validate() error {
	var errs []error
	seen := make(map[string]string)
	for k, v := range p.roleNames() {
		lk := strings.ToLower(k)
		if other, dup := seen[lk]; dup {
			errs = append(errs, fmt.Errorf("role names %q and %q differ only by case", other, k))
		}
		seen[lk] = k
		if _, ok := p.allowedName(v); !ok {
			errs = append(errs, fmt.Errorf("role name %q maps to %q, which is not allowed", k, v))
		}
	}
	for _, a := range p.allowed() {
		if a == "" || strings.ContainsAny(a, ";\n") {
			errs = append(errs, fmt.Errorf("allowed role name %q is empty or contains ';'", a))
		}
	}
	for name := range p.codes() {
		if _, ok := p.allowedName(name); !ok {
			errs = append(errs, fmt.Errorf("role code given for %q, which is not allowed", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("identity policy: %w", err)
	}
	return nil
}

func (p *Policy) roleNames() map[string]string {
	if p.RoleNames == nil {
		return defaultRoleNames
	}
	return p.RoleNames
}

func (p *Policy) allowed() []string {
	if len(p.Allowed) == 0 {
		return defaultAllowed
	}
	return p.Allowed
}

func (p *Policy) codes() map[string]int {
	if p.Codes == nil {
		return defaultCodes
	}
	return p.Codes
}

func (p *Policy) classLevelTypes() []int {
	if len(p.ClassLevelInstitutionTypes) == 0 {
		return defaultClassLevelTypes
	}
	return p.ClassLevelInstitutionTypes
}

// allowedName returns the allowed spelling of name, compared
// case-insensitively.
func (p *Policy) allowedName(name string) (string, bool) {
	for _, a := range p.allowed() {
		if strings.EqualFold(a, name) {
			return a, true
		}
	}
	return "", false
}

// code returns the role code of a released role name, or -1.
func (p *Policy) code(name string) int {
	if c, ok := p.codes()[name]; ok {
		return c
	}
	return model.RoleCodeUnmapped
}

// roleAlias is a per-integration upstream value that means a role name.
type roleAlias struct{ value, name string }

// roleName maps an upstream role value to a released role name: the
// integration's aliases first, then the policy's table, then the value
// itself; the result must be an allowed name.
func (p *Policy) roleName(v string, aliases []roleAlias) (string, bool) {
	for _, a := range aliases {
		if strings.EqualFold(v, a.value) {
			return p.allowedName(a.name)
		}
	}
	names := p.roleNames()
	if n, ok := names[v]; ok {
		return p.allowedName(n)
	}
	for k, n := range names {
		if strings.EqualFold(k, v) {
			return p.allowedName(n)
		}
	}
	return p.allowedName(v)
}
