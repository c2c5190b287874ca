package discovery

import (
	"fmt"
	"testing"

	"github.com/mpassid/mpassid/internal/discovery/fixture"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
)

const (
	cityOID    = "1.2.246.562.10.00000000010"
	privateOID = "1.2.246.562.10.00000000020"
)

func testRegistry() *registry.Lookup {
	org := func(oid, parent, code string, typ int, name model.LocalizedName, types ...string) model.Organisation {
		return model.Organisation{OID: oid, ParentOID: parent, SchoolCode: code, InstitutionType: typ, Name: name, Types: types, Status: model.OrgActive, MunicipalityCode: "091"}
	}
	city := org(cityOID, model.RootOID, "", 0, model.LocalizedName{Fi: "Hämeenlinnan kaupunki", Sv: "Tavastehus stad"}, model.OrgTypeEducationProvider, model.OrgTypeOther)
	closed := org("1.2.246.562.10.00000000015", cityOID, "00005", 11, model.LocalizedName{Fi: "Suljettu koulu"}, model.OrgTypeSchool)
	closed.Status = model.OrgPassive
	return registry.NewLookup([]model.Organisation{
		city,
		org("1.2.246.562.10.00000000011", cityOID, "00001", 11, model.LocalizedName{Fi: "Äijälän koulu"}, model.OrgTypeSchool),
		org("1.2.246.562.10.00000000012", cityOID, "00002", 11, model.LocalizedName{Fi: "Aulangon koulu", Sv: "Aulanko skola"}, model.OrgTypeSchool),
		org("1.2.246.562.10.00000000013", cityOID, "00003", 15, model.LocalizedName{Fi: "Lyseon lukio"}, model.OrgTypeSchool),
		org("1.2.246.562.10.00000000014", cityOID, "00004", 11, model.LocalizedName{Fi: "Zetterin koulu"}, model.OrgTypeSchool),
		closed,
		org(privateOID, model.RootOID, "", 0, model.LocalizedName{Fi: "Steiner-koulun kannatusyhdistys"}, model.OrgTypeEducationProvider),
		org("1.2.246.562.10.00000000021", privateOID, "00006", 11, model.LocalizedName{Fi: "Steiner-koulu"}, model.OrgTypeSchool),
	})
}

func source(id int64, org string, d model.DiscoveryInformation, types ...int) *model.Integration {
	return &model.Integration{ID: id, Role: model.RoleIdP, Status: model.StatusActive, OrganisationOID: org,
		IdP: &model.IdP{Type: model.IdPTest, FlowName: "F", InstitutionTypes: types, Discovery: d}}
}

func labels(ix *Index, lang string, ids []int32) []string {
	var out []string
	for _, i := range ids {
		out = append(out, ix.Entry(i).Label[LangIndex(lang)])
	}
	return out
}

func eq(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBuildListsSchoolsPerDiscoveryInformation(t *testing.T) {
	srcs := []*model.Integration{
		// Basic schools by Wilma, except one; the upper secondary school
		// has a source of its own; a private school's source by name.
		source(1, cityOID, model.DiscoveryInformation{ShowSchools: true, Title: "Wilma", ExcludedSchools: []string{"00004"}}, 11),
		source(2, cityOID, model.DiscoveryInformation{ShowSchools: true, Schools: []string{"00003"}}),
		source(3, privateOID, model.DiscoveryInformation{CustomDisplayName: "Steinerkoulu (Google)", ShowSchools: false}),
		source(4, "1.2.246.562.10.99999999999", model.DiscoveryInformation{}),
	}
	srcs[3].IdP.IdPID = "unknown_org"
	srcs[1].IdP.LogoURL = "https://elsewhere.example/logo.png"
	srcs[2].IdP.LogoURL = "https://mpass.example/api/v2/integration/3/discoveryinformation/logo"
	ix := Build(srcs, testRegistry(), Options{BaseURL: "https://mpass.example"})
	all := ix.Mask([]int64{1, 2, 3, 4})
	res := ix.Search(Query{Lang: "fi", Allowed: all}, nil)
	// Finnish order: Ä after Z; groups by provider, the unknown last.
	want := []string{"Aulangon koulu", "Lyseon lukio", "Äijälän koulu", "Steinerkoulu (Google)", "F"}
	if got := labels(ix, "fi", res.Entries); !eq(got, want) {
		t.Fatalf("fi order %q, want %q", got, want)
	}
	if res.Total != 5 {
		t.Errorf("total %d", res.Total)
	}
	res = ix.Search(Query{Lang: "sv", Allowed: all}, nil)
	// Swedish sorts the private provider (Steiner) before Tavastehus.
	if got := labels(ix, "sv", res.Entries); got[1] != "Aulanko skola" {
		t.Errorf("sv labels %q", got)
	}
	if g := ix.Groups("sv"); len(g) != 3 || g[1].Name != "Tavastehus stad" || g[2].Name != "" {
		t.Errorf("sv groups %+v", g)
	}
	e := ix.Entry(mustID(t, ix, "1.00001"))
	if e.Title != "Wilma" || e.Municipality[0] != "Hämeenlinnan kaupunki" || e.SchoolCode != "00001" {
		t.Errorf("entry %+v", e)
	}
	if ix.Entry(mustID(t, ix, "2.00003")).Logo != "" {
		t.Error("external logo kept")
	}
	if l := ix.Entry(mustID(t, ix, "3")).Logo; l != "/api/v2/integration/3/discoveryinformation/logo" {
		t.Errorf("same-origin logo %q", l)
	}
	if _, ok := ix.ByID("1.00004"); ok {
		t.Error("excluded school listed")
	}
	if _, ok := ix.ByID("1.00005"); ok {
		t.Error("closed school listed")
	}
	if _, ok := ix.ByID("1.00003"); ok {
		t.Error("institution type 15 listed for a type-11 source")
	}
}

func mustID(t *testing.T, ix *Index, id string) int32 {
	t.Helper()
	i, ok := ix.ByID(id)
	if !ok {
		t.Fatalf("no entry %s", id)
	}
	return i
}

func TestSearch(t *testing.T) {
	srcs := []*model.Integration{
		source(1, cityOID, model.DiscoveryInformation{ShowSchools: true, Title: "Wilma"}),
		source(3, privateOID, model.DiscoveryInformation{ShowSchools: true}),
	}
	ix := Build(srcs, testRegistry(), Options{})
	all := ix.Mask([]int64{1, 3})
	tests := []struct {
		q    string
		want []string
	}{
		{"aijalan", []string{"Äijälän koulu"}},
		{"ÄIJÄLÄ", []string{"Äijälän koulu"}},
		{"hameenlinna lukio", []string{"Lyseon lukio"}}, // provider + school words
		{"tavastehus aulanko", []string{"Aulangon koulu"}},
		{"steiner koulu", []string{"Steiner-koulu"}},
		{"  wilma  ", []string{"Aulangon koulu", "Lyseon lukio", "Zetterin koulu", "Äijälän koulu"}},
		{"nothing here", nil},
	}
	for _, tt := range tests {
		got := labels(ix, "fi", ix.Search(Query{Lang: "fi", Text: tt.q, Allowed: all}, nil).Entries)
		if !eq(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.q, got, tt.want)
		}
	}
	// The mask narrows to the service's sources; a provider filter and a
	// limit narrow further, the total still counts all.
	if got := ix.Search(Query{Lang: "fi", Text: "koulu", Allowed: ix.Mask([]int64{3})}, nil); len(got.Entries) != 1 {
		t.Errorf("masked: %v", got)
	}
	res := ix.Search(Query{Lang: "fi", ProviderOID: cityOID, Allowed: all, Limit: 2}, nil)
	if len(res.Entries) != 2 || res.Total != 4 {
		t.Errorf("limited provider search: %+v", res)
	}
	if p := ix.Providers("fi", all, nil); len(p) != 2 || p[0].Count != 4 || p[1].Count != 1 {
		t.Errorf("providers %+v", p)
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Hämeenlinna":        "hameenlinna",
		"  Steiner-KOULU  ":  "steiner koulu",
		"Åbo Akademi":        "abo akademi",
		"Kuusikorven, koulu": "kuusikorven koulu",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q", in, got)
		}
		if got := FoldQuery(in); got != want {
			t.Errorf("FoldQuery(%q) = %q", in, got)
		}
	}
}

func TestNationalScale(t *testing.T) {
	reg, srcs := fixture.National(false)
	ix := Build(srcs, reg, Options{})
	ids := make([]int64, len(srcs))
	for i, s := range srcs {
		ids[i] = s.ID
	}
	res := ix.Search(Query{Lang: "fi", Text: "koulu", Allowed: ix.Mask(ids)}, nil)
	t.Logf("%d sources, %d entries, %d providers; %d match 'koulu'", len(srcs), ix.Len(), len(ix.Groups("fi")), res.Total)
	if ix.Len() < 1000 || res.Total == 0 {
		t.Errorf("national index too small: %d entries", ix.Len())
	}
}

func BenchmarkBuild(b *testing.B) {
	reg, srcs := fixture.National(false)
	b.ResetTimer()
	for b.Loop() {
		Build(srcs, reg, Options{})
	}
}

// BenchmarkSearch runs queries over the national set (about 40 sources
// listing their schools) and over the worst case where every provider's
// source lists every school (about 3,000 entries).
func BenchmarkSearch(b *testing.B) {
	for _, all := range []bool{false, true} {
		reg, srcs := fixture.National(all)
		ix := Build(srcs, reg, Options{})
		ids := make([]int64, len(srcs))
		for i, s := range srcs {
			ids[i] = s.ID
		}
		mask := ix.Mask(ids)
		buf := make([]int32, 0, 256)
		set := "national"
		if all {
			set = "every-school"
		}
		for _, q := range []string{"koulu", "Hämeen lukio", "zzz"} {
			b.Run(fmt.Sprintf("%s/%d-entries/%s", set, ix.Len(), q), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					buf = ix.Search(Query{Lang: "fi", Text: q, Allowed: mask, Limit: 100}, buf).Entries
				}
			})
		}
	}
}
