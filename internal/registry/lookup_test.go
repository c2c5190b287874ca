package registry

import (
	"slices"
	"sync"
	"testing"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry/fakeopas"
)

func TestLookupDemo(t *testing.T) {
	l := NewLookup(fakeopas.Generate(1, fakeopas.SizeDemo).Orgs())
	const city, lukio, office, voc, amis, campus = "1.2.246.562.10.99900000001", "1.2.246.562.10.99900000004",
		"1.2.246.562.10.99900000005", "1.2.246.562.10.99900000011", "1.2.246.562.10.99900000012", "1.2.246.562.10.99900000013"
	tests := []struct {
		name string
		got  func() (*model.Organisation, bool)
		want string // OID, "" for not found
	}{
		{"school code", func() (*model.Organisation, bool) { return l.BySchoolCode("99003") }, lukio},
		{"unknown school code", func() (*model.Organisation, bool) { return l.BySchoolCode("12345") }, ""},
		{"office code", func() (*model.Organisation, bool) { return l.ByOfficeCode("9900601") }, campus},
		{"a school's own toimipistekoodi is not an office", func() (*model.Organisation, bool) { return l.ByOfficeCode("99003") }, ""},
		{"oid", func() (*model.Organisation, bool) { return l.ByOID(office) }, office},
		{"provider of a school", func() (*model.Organisation, bool) { s, _ := l.ByOID(lukio); return l.Provider(s) }, city},
		{"provider of an office", func() (*model.Organisation, bool) { s, _ := l.ByOID(campus); return l.Provider(s) }, voc},
		{"provider of a provider: none above", func() (*model.Organisation, bool) { s, _ := l.ByOID(city); return l.Provider(s) }, ""},
		{"school of an office", func() (*model.Organisation, bool) { s, _ := l.ByOID(campus); return l.ParentSchool(s) }, amis},
		{"school of a daycare unit under a city: none", func() (*model.Organisation, bool) {
			s, _ := l.ByOID("1.2.246.562.10.99900000009")
			return l.ParentSchool(s)
		}, ""},
		{"provider of an organisation from elsewhere", func() (*model.Organisation, bool) {
			return l.Provider(&model.Organisation{OID: "1.2.246.562.10.5", ParentOID: office})
		}, city},
		{"nil", func() (*model.Organisation, bool) { return l.Provider(nil) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := tt.got()
			if ok != (tt.want != "") || ok && o.OID != tt.want {
				t.Errorf("got %v %v, want %q", o, ok, tt.want)
			}
		})
	}
	var names []string
	for _, s := range l.SchoolsOf(city) {
		names = append(names, s.Name.In("fi"))
	}
	want := []string{"Esimerkkilän lukio", "Exempelby svenska skola", "Revontulten koulu", "Saunalahden yhtenäiskoulu", "Uudenmäen koulu", "Vanhan myllyn koulu"}
	if !slices.Equal(names, want) {
		t.Errorf("SchoolsOf = %v, want %v", names, want)
	}
	if l.SchoolsOf("1.2.246.562.10.404") != nil || l.Len() != 16 {
		t.Error("SchoolsOf unknown / Len")
	}
	if closed, _ := l.BySchoolCode("99005"); closed.IsActive() {
		t.Error("closed school active")
	}
}

func TestLookupPrefersActiveOnSharedCode(t *testing.T) {
	orgs := []model.Organisation{
		{OID: "1.2.246.562.10.1", Types: []string{model.OrgTypeSchool}, SchoolCode: "11111", Status: model.OrgPassive},
		{OID: "1.2.246.562.10.2", Types: []string{model.OrgTypeSchool}, SchoolCode: "11111", Status: model.OrgActive},
		{OID: "1.2.246.562.10.3", Types: []string{model.OrgTypeSchool}, SchoolCode: "11111", Status: model.OrgPlanned},
		{OID: "1.2.246.562.10.4", Types: []string{model.OrgTypeSchool}, SchoolCode: "22222", Status: model.OrgPassive},
		{OID: "1.2.246.562.10.5", Types: []string{model.OrgTypeSchool}, SchoolCode: "22222", Status: model.OrgPassive},
		// A cycle in bad data must not hang.
		{OID: "1.2.246.562.10.6", ParentOID: "1.2.246.562.10.7", Types: []string{model.OrgTypeOffice}},
		{OID: "1.2.246.562.10.7", ParentOID: "1.2.246.562.10.6", Types: []string{model.OrgTypeOffice}},
	}
	l := NewLookup(orgs)
	if o, _ := l.BySchoolCode("11111"); o.OID != "1.2.246.562.10.2" {
		t.Errorf("shared code resolved to %s", o.OID)
	}
	if o, _ := l.BySchoolCode("22222"); o.OID != "1.2.246.562.10.4" {
		t.Errorf("both closed: %s, want the first", o.OID)
	}
	o, _ := l.ByOID("1.2.246.562.10.6")
	if _, ok := l.Provider(o); ok {
		t.Error("provider found in a cycle")
	}
	if _, ok := l.Provider(&model.Organisation{ParentOID: "1.2.246.562.10.6"}); ok {
		t.Error("provider found in a cycle (walk)")
	}
	// Immutable: changing the input does not change the lookup.
	orgs[1].SchoolCode = "99999"
	orgs[1].Name.Fi = "changed"
	if o, _ := l.BySchoolCode("11111"); o.Name.Fi == "changed" {
		t.Error("lookup shares the caller's slice")
	}
}

func TestLookupAllocationFree(t *testing.T) {
	orgs := fakeopas.Generate(2, fakeopas.SizeSmall).Orgs()
	l := NewLookup(orgs)
	var school, office *model.Organisation
	for i := range orgs {
		if school == nil && orgs[i].IsSchool() && orgs[i].IsActive() {
			school, _ = l.ByOID(orgs[i].OID)
		}
		if office == nil && orgs[i].HasType(model.OrgTypeOffice) {
			office, _ = l.ByOID(orgs[i].OID)
		}
	}
	code, oid, officeCode := school.SchoolCode, school.OID, office.OfficeCode
	allocs := testing.AllocsPerRun(1000, func() {
		s, ok := l.BySchoolCode(code)
		if !ok {
			panic("school")
		}
		if _, ok := l.Provider(s); !ok {
			panic("provider")
		}
		if _, ok := l.ByOID(oid); !ok {
			panic("oid")
		}
		o, ok := l.ByOfficeCode(officeCode)
		if !ok {
			panic("office")
		}
		if _, ok := l.ParentSchool(o); !ok {
			panic("parent school")
		}
		l.Len()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per lookup, want 0", allocs)
	}
}

func TestRegistrySwap(t *testing.T) {
	var r Registry // the zero value works
	if r.Current() == nil || r.Current().Len() != 0 {
		t.Fatal("zero Registry")
	}
	if _, ok := r.Current().BySchoolCode("99001"); ok {
		t.Fatal("empty lookup found a school")
	}
	a := NewLookup(fakeopas.Generate(1, fakeopas.SizeDemo).Orgs())
	if old := r.Swap(a); old != nil || r.Current() != a {
		t.Fatal("swap")
	}
	// Readers during swaps always see a whole lookup.
	b := NewLookup(fakeopas.Generate(1, fakeopas.SizeSmall).Orgs())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				l := r.Current()
				if l != a && l != b {
					t.Error("unknown lookup")
					return
				}
			}
		}()
	}
	for i := range 2000 {
		if i%2 == 0 {
			r.Swap(b)
		} else {
			r.Swap(a)
		}
	}
	wg.Wait()
	r.Update(a.All())
	if l := r.Current(); l == a || l.Len() != a.Len() {
		t.Error("Update did not publish a new lookup")
	}
}
