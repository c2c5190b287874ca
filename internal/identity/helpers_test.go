package identity

import (
	"slices"
	"strings"
	"testing"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
)

// Test registry. Mansikkala is the national service's test data (OIDs
// 1.2.246.562.99.*); the rest are made up around it.
const (
	oidKunta      = "1.2.246.562.99.00000000001" // education provider
	oidPeruskoulu = "1.2.246.562.99.00000000002" // 30076, type 11
	oidLukio      = "1.2.246.562.99.00000000003" // 30077, type 15
	oidVanha      = "1.2.246.562.99.00000000004" // 30078, passive
	oidErityis    = "1.2.246.562.99.00000000005" // 30079, type 12
	oidYhtenais   = "1.2.246.562.99.00000000006" // 30081, type 19
	oidOrpo       = "1.2.246.562.99.00000000007" // 30080, no provider above
	oidPaivakoti  = "1.2.246.562.99.00000000008" // unit under the municipality, no school
	oidAmisOy     = "1.2.246.562.99.00000000010" // education provider
	oidAmis       = "1.2.246.562.99.00000000011" // 10105, type 21
	oidToimipiste = "1.2.246.562.99.00000000012" // office 1010501 of 10105
	oidSuljettu   = "1.2.246.562.99.00000000013" // office 1010502, passive
	oidDemolaOy   = "1.2.246.562.10.12345678907" // the 1.3 fixture's provider
	oidDemola     = "1.2.246.562.10.99900000002" // 99900
)

func school(oid, parent, code, name string, typ int, status model.OrgStatus) model.Organisation {
	return model.Organisation{OID: oid, ParentOID: parent, Name: model.LocalizedName{Fi: name},
		Types: []string{model.OrgTypeSchool}, SchoolCode: code, InstitutionType: typ, Status: status}
}

func testOrgs() []model.Organisation {
	provider := func(oid, name string) model.Organisation {
		return model.Organisation{OID: oid, Name: model.LocalizedName{Fi: name},
			Types: []string{model.OrgTypeEducationProvider}, Status: model.OrgActive}
	}
	office := func(oid, parent, code, name string, typ string, status model.OrgStatus) model.Organisation {
		return model.Organisation{OID: oid, ParentOID: parent, Name: model.LocalizedName{Fi: name},
			Types: []string{typ}, OfficeCode: code, Status: status}
	}
	pk := school(oidPeruskoulu, oidKunta, "30076", "Mansikkalan testi peruskoulu", 11, model.OrgActive)
	pk.MunicipalityCode = "999"
	return []model.Organisation{
		provider(oidKunta, "Mansikkalan testi kunta"),
		pk,
		school(oidLukio, oidKunta, "30077", "Mansikkalan testi lukio", 15, model.OrgActive),
		school(oidVanha, oidKunta, "30078", "Mansikkalan vanha koulu", 11, model.OrgPassive),
		school(oidErityis, oidKunta, "30079", "Mansikkalan erityiskoulu", 12, model.OrgActive),
		school(oidYhtenais, oidKunta, "30081", "Mansikkalan yhtenäiskoulu", 19, model.OrgActive),
		school(oidOrpo, "1.2.246.562.99.404", "30080", "Orpokoulu", 11, model.OrgActive),
		office(oidPaivakoti, oidKunta, "3007601", "Mansikkalan päiväkoti", model.OrgTypeEarlyEducationUnit, model.OrgActive),
		provider(oidAmisOy, "Mansikkalan ammattiopisto Oy"),
		school(oidAmis, oidAmisOy, "10105", "Mansikkalan ammattiopisto", 21, model.OrgActive),
		office(oidToimipiste, oidAmis, "1010501", "Mansikkalan ammattiopisto, keskusta", model.OrgTypeOffice, model.OrgActive),
		office(oidSuljettu, oidAmis, "1010502", "Mansikkalan ammattiopisto, satama", model.OrgTypeOffice, model.OrgPassive),
		provider(oidDemolaOy, "Demolan koulut Oy"),
		school(oidDemola, oidDemolaOy, "99900", "Demolan koulu", 11, model.OrgActive),
	}
}

func testLookup(tb testing.TB) *registry.Lookup {
	tb.Helper()
	return registry.NewLookup(testOrgs())
}

// testIdP is an integration whose mapping is empty: every source is read
// from the upstream attribute of its own name.
func testIdP() IdPConfig {
	return IdPConfig{IdPID: "shib_ldap", FlowName: "ShibLdap", OrganisationOID: oidKunta}
}

// Personal data of the table tests: none of it may appear in a Drop.
const (
	piiUsername  = "pii-user-7Kq2"
	piiGiven     = "Piietunimi"
	piiSurname   = "Piisukunimi"
	piiNickname  = "Piikutsumanimi"
	piiLearnerID = "1.2.246.562.24.20000000018"
	piiTestLID   = "1.2.246.562.98.12345678901"
)

func values(attrs []Attribute, name string) []string {
	for _, a := range attrs {
		if a.Name == name {
			return a.Values
		}
	}
	return nil
}

func role7(provider, code, group, name, roleCode, schoolOID, officeOID string) string {
	return strings.Join([]string{provider, code, group, name, roleCode, schoolOID, officeOID}, ";")
}

func sortedReasons(ds []Drop) []Reason {
	out := make([]Reason, len(ds))
	for i, d := range ds {
		out[i] = d.Reason
	}
	slices.Sort(out)
	return out
}

// checkDrops asserts that every drop has a reason, a source and a message,
// and that no personal data (nor any of the extra strings) occurs in it.
func checkDrops(t *testing.T, ds []Drop, extra ...string) {
	t.Helper()
	secrets := append([]string{piiUsername, piiGiven, piiSurname, piiNickname, piiLearnerID, piiTestLID}, extra...)
	for _, d := range ds {
		if d.Reason == "" || d.Message == "" || d.Source == "" {
			t.Errorf("incomplete drop %+v", d)
		}
		for _, s := range secrets {
			if s != "" && (strings.Contains(d.Message, s) || strings.Contains(d.Source, s)) {
				t.Errorf("drop %q carries personal data or a raw upstream value %q", d.Message, s)
			}
		}
	}
}
