package identity

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
)

// Errors that fail a login: Build returns no user. They are wrapped with the
// integration's idpId (never with personal data); test with errors.Is.
var (
	// ErrNoUsername: the upstream sent no username (or only blanks).
	ErrNoUsername = errors.New("no username")
	// ErrAmbiguousUsername: the upstream sent several different usernames.
	ErrAmbiguousUsername = errors.New("several different usernames")
	// ErrBadLearnerID: the learner id is not 1.2.246.562.24.<11 digits> nor
	// a test id 1.2.246.562.98.<digits>, or several different ones came.
	ErrBadLearnerID = errors.New("malformed learner id")
	// ErrConfig: the integration or the call is misconfigured (no idpId, no
	// registry).
	ErrConfig = errors.New("identity configuration")
)

// Input is everything Build needs.
type Input struct {
	IdP      IdPConfig
	Raw      Raw
	Registry *registry.Lookup
	Policy   Policy
}

// Result is the built user and what was left out of it.
type Result struct {
	User *model.User
	// Dropped lists every upstream value that was not taken, with the
	// reason, in the order met. Safe to log: no personal data.
	Dropped []Drop
}

// Reason is the machine-readable code of a Drop.
type Reason string

// Drop reasons.
const (
	// Role shape and school resolution.
	ReasonRoleShape      Reason = "role_shape"      // S/R/G counts do not line up: no role data at all
	ReasonNoSchool       Reason = "no_school"       // roles, groups or charges came without any school id
	ReasonSchoolBadID    Reason = "school_bad_id"   // not a school code, office code or OID
	ReasonSchoolUnknown  Reason = "school_unknown"  // not in the registry
	ReasonSchoolInactive Reason = "school_inactive" // in the registry but not active
	ReasonNotSchool      Reason = "not_school"      // an organisation that is neither a school nor an office
	ReasonNoParentSchool Reason = "no_parent_school"
	ReasonNoProvider     Reason = "no_provider" // no education provider above the school
	ReasonRoleEmpty      Reason = "role_empty"
	ReasonRoleNotAllowed Reason = "role_not_allowed"
	ReasonBadChars       Reason = "role_bad_chars" // a group containing control characters
	// Learning-materials charges.
	ReasonChargeShape    Reason = "charge_shape" // neither one value nor one per school
	ReasonChargeInvalid  Reason = "charge_invalid"
	ReasonChargeNotPupil Reason = "charge_not_pupil"
	// Class level.
	ReasonClassLevelInvalid          Reason = "class_level_invalid"
	ReasonClassLevelNoRole           Reason = "class_level_no_role" // the first role was not kept
	ReasonClassLevelNotPupil         Reason = "class_level_not_pupil"
	ReasonClassLevelNotComprehensive Reason = "class_level_not_comprehensive"
	// Single-valued sources with several different values.
	ReasonAmbiguous Reason = "ambiguous"
)

// Drop says what was left out of the user and why. Message is for people
// (an education provider's administrator) and names at most school codes,
// OIDs, positions and counts, never personal data.
type Drop struct {
	Reason Reason `json:"reason"`
	// Source is the source name the value came from (schoolIds, roles, ...).
	Source string `json:"source"`
	// Index is the value's position in the source, -1 for the whole source.
	Index   int    `json:"index"`
	Message string `json:"message"`
}

func (d Drop) String() string { return string(d.Reason) + ": " + d.Message }

// UID returns the data model identifier of a user of an integration:
// "MPASSOID." + lowercase hex SHA-1(idpId + username).
func UID(idpID, username string) string {
	// One call: with BoringCrypto each step of a streaming hash is a call
	// into C.
	sum := sha1.Sum([]byte(idpID + username))
	var out [len(model.UIDPrefix) + 2*sha1.Size]byte
	copy(out[:], model.UIDPrefix)
	hex.Encode(out[len(model.UIDPrefix):], sum[:])
	return string(out[:])
}

// Build establishes the user from the upstream attributes. It fails only
// when there is no usable user at all (ErrNoUsername, ErrAmbiguousUsername,
// ErrBadLearnerID, ErrConfig); everything else that is wrong drops the
// affected values and records why in Result.Dropped.
func Build(in Input) (Result, error) {
	idp := &in.IdP
	if idp.IdPID == "" {
		return Result{}, fmt.Errorf("identity: %w: no idpId", ErrConfig)
	}
	if in.Registry == nil {
		return Result{}, fmt.Errorf("identity: source %s: %w: no registry", idp.IdPID, ErrConfig)
	}
	// The username is hashed as sent (not trimmed): the uid must stay what
	// it has always been for this user.
	username, ambiguous := singleOf(in.Raw[idp.upstream(SourceUsername)], true)
	if username == "" {
		return Result{}, fmt.Errorf("identity: source %s: %w", idp.IdPID, ErrNoUsername)
	}
	if ambiguous {
		return Result{}, fmt.Errorf("identity: source %s: %w", idp.IdPID, ErrAmbiguousUsername)
	}
	b := builder{in: &in, idp: idp, pol: &in.Policy}
	u := &model.User{
		UID:            UID(idp.IdPID, username),
		OriginalIssuer: idp.OrganisationOID,
		Source:         idp.FlowName,
	}
	lid, ambiguous := idp.single(in.Raw, SourceLearnerID)
	if ambiguous {
		return Result{}, fmt.Errorf("identity: source %s: %w: several different values", idp.IdPID, ErrBadLearnerID)
	}
	if lid != "" {
		test, ok := learnerID(lid)
		if !ok {
			return Result{}, fmt.Errorf("identity: source %s: %w", idp.IdPID, ErrBadLearnerID)
		}
		u.LearnerID, u.TestLearnerID = lid, test
	}
	u.GivenName = b.name(SourceFirstName)
	u.Surname = b.name(SourceSurname)
	u.Nickname = b.name(SourceNickname)
	b.roles(u)
	return Result{User: u, Dropped: b.drops}, nil
}

// learnerID validates a learner id; test reports the test range.
func learnerID(s string) (test, ok bool) {
	if rest, found := strings.CutPrefix(s, model.LearnerIDPrefix); found {
		return false, len(rest) == 11 && digits(rest)
	}
	if rest, found := strings.CutPrefix(s, model.TestLearnerIDPrefix); found {
		return true, rest != "" && len(rest) <= 32 && digits(rest)
	}
	return false, false
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isOID reports whether s is a dotted OID of at least two arcs.
func isOID(s string) bool {
	if len(s) > 128 {
		return false
	}
	arcs := 0
	for part := range strings.SplitSeq(s, ".") {
		if !digits(part) {
			return false
		}
		arcs++
	}
	return arcs >= 2
}

type builder struct {
	in    *Input
	idp   *IdPConfig
	pol   *Policy
	drops []Drop
}

func (b *builder) drop(r Reason, source string, index int, format string, args ...any) {
	b.drops = append(b.drops, Drop{Reason: r, Source: source, Index: index, Message: fmt.Sprintf(format, args...)})
}

// name reads a single-valued name source; several different values are
// not released (we cannot tell which is right).
func (b *builder) name(source string) string {
	v, ambiguous := b.idp.single(b.in.Raw, source)
	if ambiguous {
		b.drop(ReasonAmbiguous, source, -1, "%s has several different values; none released", source)
		return ""
	}
	if strings.ContainsFunc(v, isControl) {
		b.drop(ReasonBadChars, source, -1, "%s contains control characters; not released", source)
		return ""
	}
	return v
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// roles builds the roles, charges and class level (data-model.md, Roles).
func (b *builder) roles(u *model.User) {
	idp, raw := b.idp, b.in.Raw
	schoolSource := SourceSchoolIDs
	S := idp.multi(raw, SourceSchoolIDs)
	if len(S) == 0 {
		if st := idp.configured(SourceSchoolIDStatic); len(st) > 0 {
			S, schoolSource = st, SourceSchoolIDStatic
		}
	}
	R := idp.multi(raw, SourceRoles)
	G := idp.multi(raw, SourceGroups)
	C := idp.multi(raw, SourceLearningMaterialsCharges)
	levels := idp.multi(raw, SourceGroupLevels)
	nS, nR, nG := len(S), len(R), len(G)

	accepted := (nS == nR && nR == nG) ||
		(nG <= 1 && (nR == nS || nR == 1)) ||
		(nG == nS && nR == 1)
	if !accepted {
		b.drop(ReasonRoleShape, SourceRoles, -1,
			"role data do not line up (%d school ids, %d roles, %d groups): no role, school, class level or learning-materials charge released",
			nS, nR, nG)
		return
	}
	if nS == 0 {
		if nR+nG+len(C)+len(levels) > 0 {
			b.drop(ReasonNoSchool, SourceSchoolIDs, -1,
				"no school id: roles, groups, class level and learning-materials charges not released")
		}
		return
	}
	switch len(C) {
	case 0, 1, nS:
	default:
		b.drop(ReasonChargeShape, SourceLearningMaterialsCharges, -1,
			"%d learning-materials charges for %d schools (need 1 or one per school): none released", len(C), nS)
		C = nil
	}
	aliases := b.aliases()

	u.Roles = make([]model.UserRole, 0, nS)
	firstKept, firstType := false, 0
	for i, id := range S {
		school, office, ok := b.resolve(schoolSource, i, id)
		if !ok {
			continue
		}
		provider, ok := b.in.Registry.Provider(school)
		if !ok {
			b.drop(ReasonNoProvider, schoolSource, i, "school %s has no education provider in the registry: role not released", id)
			continue
		}
		rv := ""
		if nR == 1 {
			rv = R[0]
		} else if i < nR {
			rv = R[i]
		}
		if rv == "" {
			b.drop(ReasonRoleEmpty, SourceRoles, i, "empty role for school %s: role not released", id)
			continue
		}
		name, ok := b.pol.roleName(rv, aliases)
		if !ok {
			b.drop(ReasonRoleNotAllowed, SourceRoles, i, "role for school %s is not an allowed role name: role not released", id)
			continue
		}
		group := ""
		if nG > 1 {
			group = G[i]
		} else if nG == 1 && i == 0 {
			group = G[0]
		}
		if strings.ContainsFunc(group, isControl) {
			b.drop(ReasonBadChars, SourceGroups, i, "group for school %s contains control characters: role not released", id)
			continue
		}
		r := model.UserRole{
			ProviderOID:  provider.OID,
			ProviderName: provider.Name.In("fi"),
			SchoolCode:   school.SchoolCode,
			SchoolOID:    school.OID,
			SchoolName:   school.Name.In("fi"),
			Group:        group,
			RoleName:     name,
			RoleCode:     b.pol.code(name),
		}
		if office != nil {
			r.OfficeOID, r.OfficeName = office.OID, office.Name.In("fi")
		}
		cv := ""
		if len(C) == 1 {
			cv = C[0]
		} else if len(C) > 1 {
			cv = C[i]
		}
		switch {
		case cv == "":
		case name != model.RoleNamePupil:
			b.drop(ReasonChargeNotPupil, SourceLearningMaterialsCharges, i,
				"learning-materials charge for school %s ignored: the role is not %s", id, model.RoleNamePupil)
		case cv == "0" || cv == "1":
			c := int(cv[0] - '0')
			r.LearningMaterialsCharge = &c
		default:
			b.drop(ReasonChargeInvalid, SourceLearningMaterialsCharges, i,
				"learning-materials charge for school %s is not 0 or 1: not released", id)
		}
		if i == 0 {
			firstKept, firstType = true, school.InstitutionType
		}
		u.Roles = append(u.Roles, r)
	}
	if len(u.Roles) == 0 {
		u.Roles = nil
	}
	b.classLevel(u, levels, firstKept, firstType)
}

// classLevel sets the class level from groupLevels: one value, 0-10, for a
// first role that is a comprehensive-school pupil.
func (b *builder) classLevel(u *model.User, levels []string, firstKept bool, firstType int) {
	v, ambiguous := singleOf(levels, false)
	if v == "" {
		return
	}
	const src = SourceGroupLevels
	if ambiguous {
		b.drop(ReasonAmbiguous, src, -1, "several different class levels: none released")
		return
	}
	lv, err := strconv.Atoi(v)
	if err != nil || !digits(v) || len(v) > 2 || lv > 10 {
		b.drop(ReasonClassLevelInvalid, src, 0, "class level is not an integer 0-10: not released")
		return
	}
	switch {
	case !firstKept:
		b.drop(ReasonClassLevelNoRole, src, 0, "class level belongs to the first role, which was not released: not released")
	case u.Roles[0].RoleName != model.RoleNamePupil:
		b.drop(ReasonClassLevelNotPupil, src, 0, "class level ignored: the first role (school %s) is not %s",
			u.Roles[0].SchoolCode, model.RoleNamePupil)
	case !slices.Contains(b.pol.classLevelTypes(), firstType):
		b.drop(ReasonClassLevelNotComprehensive, src, 0,
			"class level ignored: school %s (institution type %d) is not a comprehensive school", u.Roles[0].SchoolCode, firstType)
	default:
		u.ClassLevel = &lv
	}
}

// aliases collects the integration's configured role values.
func (b *builder) aliases() []roleAlias {
	var out []roleAlias
	for _, c := range [...]struct{ source, name string }{
		{SourceCustomStudentRole, model.RoleNamePupil},
		{SourceCustomTeacherRole, model.RoleNameTeacher},
		{SourceStudentGroupGUID, model.RoleNamePupil},
		{SourceTeacherGroupGUID, model.RoleNameTeacher},
	} {
		if _, ok := b.idp.Mapping[c.source]; !ok {
			continue
		}
		for _, v := range b.idp.configured(c.source) {
			out = append(out, roleAlias{value: v, name: c.name})
		}
	}
	return out
}

// resolve finds the school of a school id: a school code, an office code or
// an OID. An office resolves to its parent school. Every failure is
// recorded as a Drop.
func (b *builder) resolve(source string, i int, id string) (school, office *model.Organisation, ok bool) {
	l := b.in.Registry
	var org *model.Organisation
	var found bool
	switch {
	case len(id) == 5 && digits(id):
		org, found = l.BySchoolCode(id)
	case len(id) == 7 && digits(id):
		org, found = l.ByOfficeCode(id)
	case isOID(id):
		org, found = l.ByOID(id)
	default:
		b.drop(ReasonSchoolBadID, source, i, "school id at position %d is not a school code, office code or organisation OID: role not released", i)
		return nil, nil, false
	}
	if !found {
		b.drop(ReasonSchoolUnknown, source, i, "school %s is not in the registry: role not released", id)
		return nil, nil, false
	}
	if !org.IsActive() {
		b.drop(ReasonSchoolInactive, source, i, "school %s is not active in the registry: role not released", id)
		return nil, nil, false
	}
	switch {
	case org.IsOffice():
		parent, found := l.ParentSchool(org)
		if !found {
			b.drop(ReasonNoParentSchool, source, i, "office %s has no school above it in the registry: role not released", id)
			return nil, nil, false
		}
		if !parent.IsActive() {
			b.drop(ReasonSchoolInactive, source, i, "the school %s above office %s is not active in the registry: role not released", parent.OID, id)
			return nil, nil, false
		}
		return parent, org, true
	case org.IsSchool():
		return org, nil, true
	}
	b.drop(ReasonNotSchool, source, i, "organisation %s is not a school or an office: role not released", id)
	return nil, nil, false
}
