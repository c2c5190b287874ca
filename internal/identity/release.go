package identity

import (
	"slices"
	"strconv"
	"strings"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
)

// NameFormatURI is the NameFormat of every released SAML attribute.
const NameFormatURI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

// Attribute is one released SAML attribute.
type Attribute struct {
	Name         string   `json:"name"`
	FriendlyName string   `json:"friendlyName"`
	NameFormat   string   `json:"nameFormat"`
	Values       []string `json:"values"`
}

// Release says what a service may receive.
type Release struct {
	// AllowTestLearnerID releases test learner ids (1.2.246.562.98.*); from
	// the service's set.
	AllowTestLearnerID bool
	// Legacy adds the data model 1.3 attributes and releases
	// urn:mpass.id:role in its 1.3 four-field form (see the package doc).
	Legacy bool
	// Scopes are the granted OIDC scopes; nil means no filtering. Without
	// "profile" no data-model claim is released. Ignored for SAML.
	Scopes []string
	// Registry, when set, gives legacy services urn:mpass.id:municipalityCode
	// (the schools' municipality codes). Optional.
	Registry *registry.Lookup
}

// attrDef is one attribute of the data model.
type attrDef struct {
	name, friendly, claim string
	multi                 bool
}

// The data model's attributes, in release order (data-model.md's table, then
// the 1.3 ones). Constant-like.
var (
	attrGivenName     = attrDef{"urn:oid:2.5.4.42", "givenName", "given_name", false}
	attrSurname       = attrDef{"urn:oid:2.5.4.4", "sn", "family_name", false}
	attrNickname      = attrDef{"urn:mpass.id:nickname", "nickname", "", false}
	attrUID           = attrDef{"urn:mpass.id:uid", "mpassUsername", "", false}
	attrLearnerID     = attrDef{"urn:oid:1.3.6.1.4.1.16161.1.1.27", "learnerId", "", false}
	attrSchoolInfo    = attrDef{"urn:mpass.id:schoolInfo", "mpassSchoolInfo", "", true}
	attrProviderInfo  = attrDef{"urn:mpass.id:educationProviderInfo", "mpassEducationProviderInfo", "", true}
	attrRole          = attrDef{"urn:mpass.id:role", "mpassRole", "", true}
	attrClassLevel    = attrDef{"urn:mpass.id:classLevel", "mpassClassLevel", "", false}
	attrCharge        = attrDef{"urn:mpass.id:learningMaterialsCharge", "mpassLearningMaterialsCharge", "", true}
	attrIssuer        = attrDef{"urn:mpass.id:originalIssuer", "originalIssuer", "", false}
	attrSchoolCode    = attrDef{"urn:mpass.id:schoolCode", "mpassSchoolCode", "", true}
	attrSchool        = attrDef{"urn:mpass.id:school", "mpassSchool", "", true}
	attrClass         = attrDef{"urn:mpass.id:class", "mpassClass", "", true}
	attrProviderID    = attrDef{"urn:mpass.id:educationProviderId", "mpassEducationProviderOid", "", true}
	attrProvider      = attrDef{"urn:mpass.id:educationProvider", "mpassEducationProviderName", "", true}
	attrMunicipalCode = attrDef{"urn:mpass.id:municipalityCode", "mpassMunicipalityCode", "", true}
)

type released struct {
	def    *attrDef
	values []string
}

// releaseOf computes the released attributes in their fixed order; empty
// ones are left out.
func releaseOf(u *model.User, rel *Release) []released {
	if u == nil {
		return nil
	}
	out := make([]released, 0, 17)
	one := func(d *attrDef, v string) {
		if v != "" {
			out = append(out, released{d, []string{v}})
		}
	}
	many := func(d *attrDef, vs []string) {
		if len(vs) > 0 {
			out = append(out, released{d, vs})
		}
	}
	one(&attrGivenName, u.GivenName)
	one(&attrSurname, u.Surname)
	one(&attrNickname, u.Nickname)
	one(&attrUID, u.UID)
	if u.LearnerID != "" && (rel.AllowTestLearnerID || !(u.TestLearnerID || strings.HasPrefix(u.LearnerID, model.TestLearnerIDPrefix))) {
		one(&attrLearnerID, u.LearnerID)
	}

	roles := make([]*model.UserRole, 0, len(u.Roles))
	for i := range u.Roles {
		if releasable(&u.Roles[i]) {
			roles = append(roles, &u.Roles[i])
		}
	}
	var info, providers, roleVals, charges []string
	for _, r := range roles {
		if r.SchoolCode != "" {
			info = appendNew(info, r.SchoolCode+";"+r.SchoolName)
		}
		info = appendNew(info, r.SchoolOID+";"+r.SchoolName)
		if r.OfficeOID != "" {
			info = appendNew(info, r.OfficeOID+";"+r.OfficeName)
		}
		providers = appendNew(providers, r.ProviderOID+";"+r.ProviderName)
		if rel.Legacy {
			roleVals = appendNew(roleVals, r.ProviderOID+";"+r.SchoolCode+";"+r.Group+";"+r.RoleName)
		} else {
			roleVals = appendNew(roleVals, r.ProviderOID+";"+r.SchoolCode+";"+r.Group+";"+r.RoleName+";"+
				strconv.Itoa(r.RoleCode)+";"+r.SchoolOID+";"+r.OfficeOID)
		}
		if c := r.LearningMaterialsCharge; c != nil && (*c == 0 || *c == 1) && r.RoleName == model.RoleNamePupil {
			cs := strconv.Itoa(*c)
			if r.SchoolCode != "" {
				charges = appendNew(charges, cs+";"+r.SchoolCode)
			}
			charges = appendNew(charges, cs+";"+r.SchoolOID)
		}
	}
	many(&attrSchoolInfo, info)
	many(&attrProviderInfo, providers)
	many(&attrRole, roleVals)
	if u.ClassLevel != nil && *u.ClassLevel >= 0 && *u.ClassLevel <= 10 && len(roles) > 0 {
		one(&attrClassLevel, strconv.Itoa(*u.ClassLevel))
	}
	many(&attrCharge, charges)
	one(&attrIssuer, u.OriginalIssuer)

	if rel.Legacy {
		var codes, names, classes, pids, pnames, munis []string
		for _, r := range roles {
			if r.SchoolCode != "" {
				codes = appendNew(codes, r.SchoolCode)
			}
			names = appendNew(names, r.SchoolName)
			if r.Group != "" {
				classes = appendNew(classes, r.Group)
			}
			pids = appendNew(pids, r.ProviderOID)
			pnames = appendNew(pnames, r.ProviderName)
			if rel.Registry != nil {
				if s, ok := rel.Registry.ByOID(r.SchoolOID); ok && s.MunicipalityCode != "" {
					munis = appendNew(munis, s.MunicipalityCode)
				}
			}
		}
		many(&attrSchoolCode, codes)
		many(&attrSchool, names)
		many(&attrClass, classes)
		many(&attrProviderID, pids)
		many(&attrProvider, pnames)
		many(&attrMunicipalCode, munis)
	}
	return out
}

// releasable guards the value formats against a user built elsewhere: a
// role is released only when its fields cannot break the ";"-separated
// values (names may not contain ";" either, or schoolInfo would lie).
func releasable(r *model.UserRole) bool {
	if r.ProviderOID == "" || r.SchoolOID == "" || r.RoleName == "" {
		return false
	}
	for _, f := range [...]string{r.ProviderOID, r.SchoolCode, r.Group, r.RoleName, r.SchoolOID, r.OfficeOID,
		r.SchoolName, r.ProviderName, r.OfficeName} {
		if strings.ContainsAny(f, ";\n\r") {
			return false
		}
	}
	return true
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// SAMLAttributes returns the attributes a SAML service receives, in a fixed
// order (data-model.md's table order, then the 1.3 attributes). Attributes
// without values are left out.
func SAMLAttributes(u *model.User, rel Release) []Attribute {
	rs := releaseOf(u, &rel)
	out := make([]Attribute, len(rs))
	for i, r := range rs {
		out[i] = Attribute{Name: r.def.name, FriendlyName: r.def.friendly, NameFormat: NameFormatURI, Values: r.values}
	}
	return out
}

// OIDCClaims returns the claims an OIDC service receives (ID token and
// userinfo alike): given_name and family_name for the names, the SAML Name
// for the rest; multi-valued attributes as []string (JSON arrays, even with
// one value), single-valued ones as strings. The caller adds sub and the
// protocol claims.
func OIDCClaims(u *model.User, rel Release) map[string]any {
	if rel.Scopes != nil && !slices.Contains(rel.Scopes, "profile") {
		return map[string]any{}
	}
	rs := releaseOf(u, &rel)
	out := make(map[string]any, len(rs))
	for _, r := range rs {
		name := r.def.claim
		if name == "" {
			name = r.def.name
		}
		if r.def.multi {
			out[name] = r.values
		} else {
			out[name] = r.values[0]
		}
	}
	return out
}
