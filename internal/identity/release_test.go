package identity

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mpassid/mpassid/internal/model"
)

// teacher5 is a teacher at five schools of two providers, one through an
// office.
func teacher5(t testing.TB) *model.User {
	t.Helper()
	res, err := Build(Input{IdP: testIdP(), Registry: testLookup(t), Raw: Raw{
		"username": {piiUsername}, "firstName": {piiGiven}, "surname": {piiSurname},
		"schoolIds": {"30076;30077;30079;30081;1010501"}, "roles": {"teacher"}, "groups": {"9F"},
	}})
	if err != nil || len(res.Dropped) > 0 || len(res.User.Roles) != 5 {
		t.Fatalf("teacher5: %v %v", err, res.Dropped)
	}
	return res.User
}

func TestReleaseManySchools(t *testing.T) {
	u := teacher5(t)
	attrs := SAMLAttributes(u, Release{})
	if got, want := values(attrs, "urn:mpass.id:educationProviderInfo"),
		[]string{oidKunta + ";Mansikkalan testi kunta", oidAmisOy + ";Mansikkalan ammattiopisto Oy"}; !slices.Equal(got, want) {
		t.Errorf("providers %q", got)
	}
	info := values(attrs, "urn:mpass.id:schoolInfo")
	if len(info) != 11 || info[2] != "30077;Mansikkalan testi lukio" || info[10] != oidToimipiste+";Mansikkalan ammattiopisto, keskusta" {
		t.Errorf("schoolInfo %q", info)
	}
	roles := values(attrs, "urn:mpass.id:role")
	if len(roles) != 5 || roles[0] != pkTeacher9F || roles[4] != role7(oidAmisOy, "10105", "", "Opettaja", "2", oidAmis, oidToimipiste) {
		t.Errorf("roles %q", roles)
	}
	if values(attrs, "urn:mpass.id:classLevel") != nil || values(attrs, "urn:mpass.id:learningMaterialsCharge") != nil {
		t.Error("a teacher with a class level or charges")
	}
	// Deterministic: the same answer every time, SAML and OIDC alike.
	for range 5 {
		if !reflect.DeepEqual(attrs, SAMLAttributes(u, Release{})) ||
			!reflect.DeepEqual(OIDCClaims(u, Release{}), OIDCClaims(u, Release{})) {
			t.Fatal("release is not deterministic")
		}
	}
}

func TestReleaseLegacy(t *testing.T) {
	u := teacher5(t)
	l := testLookup(t)
	attrs := SAMLAttributes(u, Release{Legacy: true, Registry: l})
	for name, want := range map[string][]string{
		"urn:mpass.id:role": {
			oidKunta + ";30076;9F;Opettaja", oidKunta + ";30077;;Opettaja", oidKunta + ";30079;;Opettaja",
			oidKunta + ";30081;;Opettaja", oidAmisOy + ";10105;;Opettaja"},
		"urn:mpass.id:schoolCode":          {"30076", "30077", "30079", "30081", "10105"},
		"urn:mpass.id:class":               {"9F"},
		"urn:mpass.id:educationProviderId": {oidKunta, oidAmisOy},
		"urn:mpass.id:educationProvider":   {"Mansikkalan testi kunta", "Mansikkalan ammattiopisto Oy"},
		"urn:mpass.id:municipalityCode":    {"999"},
	} {
		if got := values(attrs, name); !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if values(SAMLAttributes(u, Release{Legacy: true}), "urn:mpass.id:municipalityCode") != nil {
		t.Error("municipalityCode without a registry")
	}
	if values(SAMLAttributes(u, Release{}), "urn:mpass.id:schoolCode") != nil {
		t.Error("legacy attributes without Legacy")
	}
	claims := OIDCClaims(u, Release{Legacy: true})
	if v, ok := claims["urn:mpass.id:class"].([]string); !ok || !slices.Equal(v, []string{"9F"}) {
		t.Errorf("class claim %#v", claims["urn:mpass.id:class"])
	}
}

func TestOIDCClaims(t *testing.T) {
	u := buildGolden14(t)
	all := OIDCClaims(u, Release{})
	for name, single := range map[string]bool{
		"given_name": true, "family_name": true, "urn:mpass.id:nickname": true, "urn:mpass.id:uid": true,
		"urn:oid:1.3.6.1.4.1.16161.1.1.27": true, "urn:mpass.id:classLevel": true, "urn:mpass.id:originalIssuer": true,
		"urn:mpass.id:schoolInfo": false, "urn:mpass.id:educationProviderInfo": false, "urn:mpass.id:role": false,
		"urn:mpass.id:learningMaterialsCharge": false,
	} {
		switch v := all[name].(type) {
		case string:
			if !single {
				t.Errorf("%s is a string", name)
			}
		case []string:
			if single {
				t.Errorf("%s is an array", name)
			}
		default:
			t.Errorf("%s = %#v", name, v)
		}
	}
	if len(all) != 11 {
		t.Errorf("%d claims", len(all))
	}
	if got := OIDCClaims(u, Release{Scopes: []string{"openid", "profile"}}); !reflect.DeepEqual(got, all) {
		t.Error("openid profile does not get everything")
	}
	if got := OIDCClaims(u, Release{Scopes: []string{"openid"}}); len(got) != 0 {
		t.Errorf("openid alone got %v", got)
	}
}

func TestReleaseGuards(t *testing.T) {
	if SAMLAttributes(nil, Release{}) != nil && len(SAMLAttributes(nil, Release{})) != 0 {
		t.Error("nil user released something")
	}
	if len(OIDCClaims(nil, Release{})) != 0 {
		t.Error("nil user claims")
	}
	one, two := 1, 2
	lvl := 11
	u := &model.User{UID: UID("x", "y"), ClassLevel: &lvl, LearnerID: piiTestLID, Roles: []model.UserRole{
		// A role built elsewhere with a ";" in its group would break the
		// seven fields: not released.
		{ProviderOID: oidKunta, SchoolCode: "30076", SchoolOID: oidPeruskoulu, SchoolName: "A", Group: "9;F", RoleName: "Oppilas", RoleCode: 1},
		// A charge of a teacher, or not 0/1: not released.
		{ProviderOID: oidKunta, SchoolCode: "30079", SchoolOID: oidErityis, SchoolName: "B", RoleName: "Opettaja", RoleCode: 2, LearningMaterialsCharge: &one},
		{ProviderOID: oidKunta, SchoolCode: "30077", SchoolOID: oidLukio, SchoolName: "C", RoleName: "Oppilas", RoleCode: 1, LearningMaterialsCharge: &two},
	}}
	attrs := SAMLAttributes(u, Release{})
	roles := values(attrs, "urn:mpass.id:role")
	if len(roles) != 2 || strings.Contains(strings.Join(roles, ""), "9;F") {
		t.Errorf("roles %q", roles)
	}
	for _, name := range []string{"urn:mpass.id:learningMaterialsCharge", "urn:mpass.id:classLevel", "urn:oid:1.3.6.1.4.1.16161.1.1.27"} {
		if v := values(attrs, name); v != nil {
			t.Errorf("%s released: %q", name, v)
		}
	}
}
