package identity

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const attrUIDName = "urn:mpass.id:uid"

var uidFormat = regexp.MustCompile(`^MPASSOID\.[0-9a-f]{40}$`)

// The uid of the national example responses is a SHA-1 of an idpId and a
// username we do not know and cannot recover from the hash. The golden tests
// therefore compare every other attribute exactly, check that the uid has
// the data model's format, and check the uid rule itself with inputs whose
// SHA-1 was computed independently (here and in TestUID). data-model.md
// gives legacyId no meaning, so it is not used to carry a pre-existing uid.
const (
	goldenIdPID    = "shib_ldap"
	goldenUsername = "oppilas1"
	goldenUID      = "MPASSOID.c81e733db4339edc21efd486c27af2d624b13975" // printf '%s' shib_ldapoppilas1 | sha1sum
)

// fixture14 is the attribute content of the national service's data model
// 1.4 example response (reference fixture mpassid-response-datamodel-1.4.xml),
// less the uid value.
var fixture14 = []Attribute{
	{"urn:mpass.id:learningMaterialsCharge", "mpassLearningMaterialsCharge", NameFormatURI, []string{"1;30076", "1;1.2.246.562.99.00000000002"}},
	{"urn:mpass.id:schoolInfo", "mpassSchoolInfo", NameFormatURI, []string{"30076;Mansikkalan testi peruskoulu", "1.2.246.562.99.00000000002;Mansikkalan testi peruskoulu"}},
	{"urn:mpass.id:educationProviderInfo", "mpassEducationProviderInfo", NameFormatURI, []string{"1.2.246.562.99.00000000001;Mansikkalan testi kunta"}},
	{"urn:mpass.id:originalIssuer", "originalIssuer", NameFormatURI, []string{"1.2.246.562.99.00000000001"}},
	{"urn:mpass.id:classLevel", "mpassClassLevel", NameFormatURI, []string{"9"}},
	{attrUIDName, "mpassUsername", NameFormatURI, nil},
	{"urn:oid:2.5.4.4", "sn", NameFormatURI, []string{"Oppilas1"}},
	{"urn:mpass.id:nickname", "nickname", NameFormatURI, []string{"Kutsumanimi1"}},
	{"urn:oid:1.3.6.1.4.1.16161.1.1.27", "learnerId", NameFormatURI, []string{"1.2.246.562.24.20000000018"}},
	{"urn:mpass.id:role", "mpassRole", NameFormatURI, []string{"1.2.246.562.99.00000000001;30076;9F;Oppilas;1;1.2.246.562.99.00000000002;"}},
	{"urn:oid:2.5.4.42", "givenName", NameFormatURI, []string{"Testi1"}},
}

// fixture13 is the attribute content of the national service's 1.3 example
// response (mpassid-response-legacy-1.3.xml), less the uid value.
var fixture13 = []Attribute{
	{"urn:oid:2.5.4.4", "sn", NameFormatURI, []string{"Oppilas1"}},
	{"urn:mpass.id:classLevel", "mpassClassLevel", NameFormatURI, []string{"7"}},
	{"urn:mpass.id:schoolInfo", "mpassSchoolInfo", NameFormatURI, []string{"99900;Demolan koulu"}},
	{"urn:oid:1.3.6.1.4.1.16161.1.1.27", "learnerId", NameFormatURI, []string{"1.2.246.562.24.10000000016"}},
	{"urn:mpass.id:schoolCode", "mpassSchoolCode", NameFormatURI, []string{"99900"}},
	{"urn:mpass.id:educationProviderId", "mpassEducationProviderOid", NameFormatURI, []string{"1.2.246.562.10.12345678907"}},
	{"urn:mpass.id:school", "mpassSchool", NameFormatURI, []string{"Demolan koulu"}},
	{"urn:mpass.id:educationProvider", "mpassEducationProviderName", NameFormatURI, []string{"Demolan koulut Oy"}},
	{"urn:mpass.id:class", "mpassClass", NameFormatURI, []string{"7B"}},
	{"urn:mpass.id:educationProviderInfo", "mpassEducationProviderInfo", NameFormatURI, []string{"1.2.246.562.10.12345678907;Demolan koulut Oy"}},
	{"urn:mpass.id:role", "mpassRole", NameFormatURI, []string{"1.2.246.562.10.12345678907;99900;7B;Oppilas"}},
	{"urn:oid:2.5.4.42", "givenName", NameFormatURI, []string{"Testi1"}},
	{"urn:mpass.id:role_v1.1", "mpassRoleV11", NameFormatURI, []string{"Demola;99900;7B;Oppilas"}},
	{attrUIDName, "mpassUsername", NameFormatURI, nil},
}

// goldenMapping is a Google Workspace style mapping; nickname and learnerId
// are left unmapped, so they are read by their own names.
var goldenMapping = Mapping{
	"username": "uid", "firstName": "givenName", "surname": "sn", "roles": "role",
	"groups": "class", "groupLevels": "classLevel", "schoolIds": "schoolCode",
	"learningMaterialsCharges": "learningMaterialsCharge",
}

// buildGolden14 builds the pupil of the 1.4 example from upstream
// attributes and a registry holding just the two Mansikkala organisations.
func buildGolden14(t *testing.T) *model.User {
	t.Helper()
	l := registry.NewLookup([]model.Organisation{
		{OID: oidKunta, Name: model.LocalizedName{Fi: "Mansikkalan testi kunta"},
			Types: []string{model.OrgTypeEducationProvider}, Status: model.OrgActive},
		school(oidPeruskoulu, oidKunta, "30076", "Mansikkalan testi peruskoulu", 11, model.OrgActive),
	})
	res, err := Build(Input{
		IdP: IdPConfig{IdPID: goldenIdPID, FlowName: "ShibLdap", OrganisationOID: oidKunta, Mapping: goldenMapping},
		Raw: Raw{
			"uid": {goldenUsername}, "givenName": {"Testi1"}, "sn": {"Oppilas1"}, "nickname": {"Kutsumanimi1"},
			"learnerId": {"1.2.246.562.24.20000000018"}, "role": {"student"}, "class": {"9F"},
			"classLevel": {"9"}, "schoolCode": {"30076"}, "learningMaterialsCharge": {"1"},
		},
		Registry: l,
	})
	if err != nil || len(res.Dropped) > 0 {
		t.Fatalf("build: %v, dropped %v", err, res.Dropped)
	}
	if res.User.Source != "ShibLdap" {
		t.Errorf("source %q", res.User.Source)
	}
	return res.User
}

func buildGolden13(t *testing.T) *model.User {
	t.Helper()
	l := registry.NewLookup([]model.Organisation{
		{OID: oidDemolaOy, Name: model.LocalizedName{Fi: "Demolan koulut Oy"},
			Types: []string{model.OrgTypeEducationProvider}, Status: model.OrgActive},
		school(oidDemola, oidDemolaOy, "99900", "Demolan koulu", 11, model.OrgActive),
	})
	res, err := Build(Input{
		IdP: IdPConfig{IdPID: goldenIdPID, FlowName: "ShibLdap", OrganisationOID: oidDemolaOy, Mapping: goldenMapping},
		Raw: Raw{
			"uid": {goldenUsername}, "givenName": {"Testi1"}, "sn": {"Oppilas1"},
			"learnerId": {"1.2.246.562.24.10000000016"}, "role": {"Oppilas"}, "class": {"7B"},
			"classLevel": {"7"}, "schoolCode": {"99900"},
		},
		Registry: l,
	})
	if err != nil || len(res.Dropped) > 0 {
		t.Fatalf("build: %v, dropped %v", err, res.Dropped)
	}
	return res.User
}

func TestGoldenDataModel14(t *testing.T) {
	u := buildGolden14(t)
	attrs := SAMLAttributes(u, Release{})
	checkUID(t, attrs)
	compareExact(t, attrs, fixture14)
	golden(t, "datamodel-1.4.saml.json", attrs)
	golden(t, "datamodel-1.4.oidc.json", OIDCClaims(u, Release{}))
	golden(t, "datamodel-1.4.user.json", u)
}

func TestGoldenLegacy13(t *testing.T) {
	u := buildGolden13(t)
	attrs := SAMLAttributes(u, Release{Legacy: true})
	checkUID(t, attrs)
	got := byName(attrs)
	for _, w := range fixture13 {
		g, ok := got[w.Name]
		switch {
		case w.Name == attrUIDName:
		case w.Name == "urn:mpass.id:role_v1.1":
			// Its first field is the municipality's name, which the
			// registry does not have: not released.
			if ok {
				t.Errorf("released %s", w.Name)
			}
		case !ok:
			t.Errorf("missing %s", w.Name)
		case g.FriendlyName != w.FriendlyName || g.NameFormat != w.NameFormat:
			t.Errorf("%s: %s %s, want %s %s", w.Name, g.FriendlyName, g.NameFormat, w.FriendlyName, w.NameFormat)
		case w.Name == "urn:mpass.id:schoolInfo":
			// 1.4 adds the schoolOid;schoolName pair of the same school.
			want := append(slices.Clone(w.Values), oidDemola+";Demolan koulu")
			if !slices.Equal(g.Values, want) {
				t.Errorf("%s = %q, want %q", w.Name, g.Values, want)
			}
		case !slices.Equal(g.Values, w.Values):
			t.Errorf("%s = %q, want %q", w.Name, g.Values, w.Values)
		}
	}
	// Beyond the 1.3 example: only the 1.4 originalIssuer.
	want := byName(fixture13)
	for _, a := range attrs {
		if _, ok := want[a.Name]; !ok && a.Name != "urn:mpass.id:originalIssuer" {
			t.Errorf("unexpected %s %q", a.Name, a.Values)
		}
	}
	golden(t, "legacy-1.3.saml.json", attrs)
	golden(t, "legacy-1.3.oidc.json", OIDCClaims(u, Release{Legacy: true}))
}

// TestGoldenAgainstReference checks the tables above against the national
// example responses themselves, when the reference directory is at hand
// (MPASSID_REFERENCE, or ../shared/reference next to the repository).
func TestGoldenAgainstReference(t *testing.T) {
	dir := os.Getenv("MPASSID_REFERENCE")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "reference")
	}
	for file, table := range map[string][]Attribute{
		"mpassid-response-datamodel-1.4.xml": fixture14,
		"mpassid-response-legacy-1.3.xml":    fixture13,
	} {
		b, err := os.ReadFile(filepath.Join(dir, "fixtures", "saml", file))
		if os.IsNotExist(err) {
			t.Skipf("reference fixtures not at %s", dir)
		} else if err != nil {
			t.Fatal(err)
		}
		ref := parseSAMLAttributes(t, b)
		checkUID(t, ref)
		compareExact(t, ref, table)
	}
}

func parseSAMLAttributes(t *testing.T, b []byte) []Attribute {
	t.Helper()
	var doc struct {
		Attrs []struct {
			Name         string   `xml:"Name,attr"`
			FriendlyName string   `xml:"FriendlyName,attr"`
			NameFormat   string   `xml:"NameFormat,attr"`
			Values       []string `xml:"AttributeValue"`
		} `xml:"Assertion>AttributeStatement>Attribute"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := make([]Attribute, len(doc.Attrs))
	for i, a := range doc.Attrs {
		out[i] = Attribute{a.Name, a.FriendlyName, a.NameFormat, a.Values}
	}
	return out
}

func byName(attrs []Attribute) map[string]Attribute {
	m := make(map[string]Attribute, len(attrs))
	for _, a := range attrs {
		m[a.Name] = a
	}
	return m
}

// compareExact checks that got has exactly the attributes of want (in any
// order), each with the same FriendlyName, NameFormat and values; the uid's
// value is not compared.
func compareExact(t *testing.T, got, want []Attribute) {
	t.Helper()
	g, w := byName(got), byName(want)
	if len(g) != len(got) {
		t.Errorf("an attribute released twice: %v", got)
	}
	for name, wa := range w {
		ga, ok := g[name]
		if !ok {
			t.Errorf("missing %s", name)
			continue
		}
		if ga.FriendlyName != wa.FriendlyName || ga.NameFormat != wa.NameFormat {
			t.Errorf("%s: %s %s, want %s %s", name, ga.FriendlyName, ga.NameFormat, wa.FriendlyName, wa.NameFormat)
		}
		if name != attrUIDName && !slices.Equal(ga.Values, wa.Values) {
			t.Errorf("%s = %q, want %q", name, ga.Values, wa.Values)
		}
	}
	for name := range g {
		if _, ok := w[name]; !ok {
			t.Errorf("unexpected %s", name)
		}
	}
}

func checkUID(t *testing.T, attrs []Attribute) {
	t.Helper()
	v := byName(attrs)[attrUIDName].Values
	if len(v) != 1 || !uidFormat.MatchString(v[0]) {
		t.Fatalf("uid %q", v)
	}
	if v[0] != goldenUID && v[0] != UID(goldenIdPID, goldenUsername) && !isReferenceUID(v[0]) {
		t.Errorf("uid %s is not SHA-1(idpId+username)", v[0])
	}
}

// isReferenceUID accepts the uids of the national examples, whose inputs
// are unknown.
func isReferenceUID(s string) bool {
	return s == "MPASSOID.391ea8eb34f1e27024ab1342603537bdbd494900" || s == "MPASSOID.c6329e82913e265b3a79c11a043fdab8b06b1a9e"
}

// golden compares v's indented JSON with testdata/name, or rewrites the
// file with -update.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got %s\nwant %s", name, got, want)
	}
}
