package registry

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/mpassid/mpassid/internal/model"
)

func helsinki(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func ms(v int64) *time.Time {
	t := time.UnixMilli(v).UTC()
	return &t
}

func TestParseHierarchyFixture(t *testing.T) {
	f, err := os.Open("testdata/hierarkia-hae.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	orgs, st, err := parseHierarchy(f, helsinki(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 10 || st.NumHits != 10 || st.Duplicates != 0 {
		t.Fatalf("got %d orgs, numHits %d, duplicates %d; want 10, 10, 0 (subRows must not count)", len(orgs), st.NumHits, st.Duplicates)
	}
	const root, muni, lukio = model.RootOID, "1.2.246.562.10.20000000001", "1.2.246.562.10.20000000004"
	byOID := map[string]model.Organisation{}
	var order []string
	for _, o := range orgs {
		byOID[o.OID] = o
		order = append(order, o.OID)
	}
	if order[0] != muni || order[3] != lukio || order[4] != "1.2.246.562.10.20000000005" {
		t.Errorf("not parents-first in document order: %v", order)
	}
	tests := []struct {
		oid  string
		want model.Organisation
	}{
		{muni, model.Organisation{
			OID: muni, ParentOID: root, ParentOIDPath: []string{root},
			Name:             model.LocalizedName{Fi: "Testilän kunta", Sv: "Testilä kommun", En: "Testilä municipality"},
			BusinessID:       "0000004-3",
			Types:            []string{model.OrgTypeEducationProvider, model.OrgTypeEarlyEducationProvider, model.OrgTypeOther},
			MunicipalityCode: "999", Languages: []string{"oppilaitoksenopetuskieli_1"},
			Status: model.OrgActive, StartDate: ms(252453600000),
		}},
		{"1.2.246.562.10.20000000002", model.Organisation{
			OID: "1.2.246.562.10.20000000002", ParentOID: muni, ParentOIDPath: []string{root, muni},
			Name:  model.LocalizedName{Fi: "Koivulan koulu", Sv: "Koivulan koulu", En: "Koivulan koulu"},
			Types: []string{model.OrgTypeSchool}, SchoolCode: "09901", InstitutionType: 11, OfficeCode: "09901",
			MunicipalityCode: "999", Languages: []string{"oppilaitoksenopetuskieli_1"},
			Status: model.OrgActive, StartDate: ms(694216800000),
		}},
		{"1.2.246.562.10.20000000005", model.Organisation{
			OID: "1.2.246.562.10.20000000005", ParentOID: lukio, ParentOIDPath: []string{root, muni, lukio},
			Name:  model.LocalizedName{Fi: "Testilän lukio, iltalinja"},
			Types: []string{model.OrgTypeOffice}, OfficeCode: "0990301",
			MunicipalityCode: "999", Languages: []string{"oppilaitoksenopetuskieli_1"},
			Status: model.OrgActive, StartDate: ms(807224400000),
		}},
		{"1.2.246.562.10.20000000006", model.Organisation{ // closed
			OID: "1.2.246.562.10.20000000006", ParentOID: muni, ParentOIDPath: []string{root, muni},
			Name:  model.LocalizedName{Fi: "Vanhan myllyn koulu"},
			Types: []string{model.OrgTypeSchool}, SchoolCode: "09902", InstitutionType: 11, OfficeCode: "09902",
			MunicipalityCode: "999", Languages: []string{"oppilaitoksenopetuskieli_1"},
			Status: model.OrgPassive, StartDate: ms(31528800000), EndDate: ms(1717189200000),
		}},
		{"1.2.246.562.10.20000000008", model.Organisation{ // empty nimi, only "tyypit", planned
			OID: "1.2.246.562.10.20000000008", ParentOID: muni, ParentOIDPath: []string{root, muni},
			Name:  model.LocalizedName{Fi: "Uusi koulu"},
			Types: []string{model.OrgTypeSchool}, SchoolCode: "09905", InstitutionType: 11, OfficeCode: "09905",
			MunicipalityCode: "999", Status: model.OrgPlanned, StartDate: ms(1817589600000),
		}},
		{"1.2.246.562.10.20000000010", model.Organisation{ // no parentOid/path: from the tree
			OID: "1.2.246.562.10.20000000010", ParentOID: "1.2.246.562.10.20000000009",
			ParentOIDPath: []string{root, "1.2.246.562.10.20000000009"},
			Name:          model.LocalizedName{Fi: "Ammattiopisto Testaaja"},
			Types:         []string{model.OrgTypeSchool}, SchoolCode: "09906", InstitutionType: 21, OfficeCode: "09906",
			Status: model.OrgActive, StartDate: ms(946677600000),
		}},
	}
	for _, tt := range tests {
		got, ok := byOID[tt.oid]
		if !ok {
			t.Errorf("%s missing", tt.oid)
			continue
		}
		if !SameOrganisation(&got, &tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.oid, got, tt.want)
		}
	}
	sv := byOID["1.2.246.562.10.20000000007"]
	if sv.Name.Fi != "" || sv.Name.In("fi") != "Testby svenska skola" || sv.Name.In("en") != "Testby svenska skola" {
		t.Errorf("Swedish-only name: %+v", sv.Name)
	}
	if closed := byOID["1.2.246.562.10.20000000006"]; closed.IsActive() {
		t.Error("a closed school is active")
	}
}

func TestParseOrganisationFixture(t *testing.T) {
	b, err := os.ReadFile("testdata/organisaatio.json")
	if err != nil {
		t.Fatal(err)
	}
	loc := helsinki(t)
	o, err := ParseOrganisation(bytes.NewReader(b), loc)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(1995, 8, 1, 0, 0, 0, 0, loc).UTC()
	want := model.Organisation{
		OID: "1.2.246.562.10.20000000004", ParentOID: "1.2.246.562.10.20000000001",
		ParentOIDPath: []string{model.RootOID, "1.2.246.562.10.20000000001"},
		Name:          model.LocalizedName{Fi: "Testilän lukio", Sv: "Testilä gymnasium", En: "Testilä Upper Secondary School"},
		Types:         []string{model.OrgTypeSchool}, SchoolCode: "09903", InstitutionType: 15, OfficeCode: "09903",
		MunicipalityCode: "999", Languages: []string{"oppilaitoksenopetuskieli_1"},
		Status: model.OrgActive, StartDate: &start,
	}
	if !SameOrganisation(o, &want) {
		t.Errorf("\n got %+v\nwant %+v", *o, want)
	}
	// The same school from the hierarchy (epoch ms of the same midnight)
	// must compare equal, or every sync would count it as changed.
	if got := start.UnixMilli(); got != 807224400000 {
		t.Errorf("1995-08-01 in Helsinki is %d, want 807224400000", got)
	}
}

func TestNormalisePath(t *testing.T) {
	const root, a, b, self = model.RootOID, "1.2.246.562.10.1", "1.2.246.562.10.2", "1.2.246.562.10.3"
	tests := []struct {
		name, raw, parent string
		want              []string
	}{
		{"hierarchy: self first, root last", self + "/" + b + "/" + a + "/" + root, b, []string{root, a, b}},
		{"detail: pipes, root first", "|" + root + "|" + a + "|" + b + "|", b, []string{root, a, b}},
		{"root first with self", root + "/" + a + "/" + b + "/" + self, b, []string{root, a, b}},
		{"top level", self + "/" + root, root, []string{root}},
		{"no parent given, root last", self + "/" + b + "/" + root, "", []string{root, b}},
		{"no parent given, nearest first", self + "/" + b + "/" + a, "", []string{a, b}},
		{"empty", "", b, nil},
		{"only self", self, "", nil},
		{"stray separators", "//" + self + "//" + root + "/", root, []string{root}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalisePath(tt.raw, self, tt.parent); !slices.Equal(got, tt.want) {
				t.Errorf("normalisePath(%q) = %v, want %v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseHierarchyRejects(t *testing.T) {
	full, err := os.ReadFile("testdata/hierarkia-hae.json")
	if err != nil {
		t.Fatal(err)
	}
	org := `{"oid":"1.2.246.562.10.1","nimi":{"fi":"x"},"children":[]}`
	tests := []struct {
		name string
		body string
	}{
		{"truncated in the middle", string(full[:len(full)/2])},
		{"truncated before the end", string(full[:len(full)-3])},
		{"empty body", ""},
		{"not JSON", "<html>Service Unavailable</html>"},
		{"no organisaatiot", `{"numHits": 0}`},
		{"organisaatiot null", `{"numHits": 0, "organisaatiot": null}`},
		{"organisaatiot not a list", `{"organisaatiot": {}}`},
		{"an array", `[` + org + `]`},
		{"numHits much larger", `{"numHits": 500, "organisaatiot": [` + org + `]}`},
		{"org without oid", `{"organisaatiot": [{"nimi":{"fi":"x"}}]}`},
		{"child without oid", `{"organisaatiot": [{"oid":"1.2.246.562.10.1","children":[{"nimi":{}}]}]}`},
		{"trailing garbage", `{"organisaatiot": [` + org + `]} {}`},
		{"bad date", `{"organisaatiot": [{"oid":"1.2.246.562.10.1","alkuPvm":"yesterday"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orgs, err := ParseHierarchy(strings.NewReader(tt.body), time.UTC)
			if !errors.Is(err, ErrInvalidAnswer) {
				t.Fatalf("got %d orgs, err %v; want ErrInvalidAnswer", len(orgs), err)
			}
		})
	}
	// Accepted: an empty list is valid JSON (the Syncer refuses it), and a
	// missing numHits.
	for _, body := range []string{`{"numHits":0,"organisaatiot":[]}`, `{"organisaatiot":[` + org + `],"x":1}`} {
		if _, err := ParseHierarchy(strings.NewReader(body), nil); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func TestParseHierarchyDuplicatesKeptOnce(t *testing.T) {
	body := `{"organisaatiot":[
		{"oid":"1.2.246.562.10.1","children":[{"oid":"1.2.246.562.10.2"}]},
		{"oid":"1.2.246.562.10.2","nimi":{"fi":"second copy"}}]}`
	orgs, st, err := parseHierarchy(strings.NewReader(body), nil)
	if err != nil || len(orgs) != 2 || st.Duplicates != 1 || orgs[1].Name.Fi != "" {
		t.Fatalf("orgs %+v, dup %d, err %v", orgs, st.Duplicates, err)
	}
}

func FuzzParseHierarchy(f *testing.F) {
	if b, err := os.ReadFile("testdata/hierarkia-hae.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"numHits":1,"organisaatiot":[{"oid":"1.2","children":[{"oid":"1.3","parentOidPath":"1.3/1.2"}]}]}`))
	f.Add([]byte(`{"organisaatiot":[{"oid":"1","alkuPvm":1e300,"lakkautusPvm":"2020-01-01T00:00"}]}`))
	f.Add([]byte(`{"organisaatiot":[{"oid":"x","parentOidPath":"|||/","oppilaitostyyppi":"_#","kotipaikkaUri":"kunta_"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		orgs, err := ParseHierarchy(bytes.NewReader(data), time.UTC)
		if err != nil {
			if !errors.Is(err, ErrInvalidAnswer) {
				t.Fatalf("error not ErrInvalidAnswer: %v", err)
			}
			return
		}
		for _, o := range orgs {
			if o.OID == "" || slices.Contains(o.ParentOIDPath, o.OID) {
				t.Fatalf("bad org %+v", o)
			}
		}
		NewLookup(orgs) // must not panic either
		_, _ = ParseOrganisation(bytes.NewReader(data), time.UTC)
	})
}
