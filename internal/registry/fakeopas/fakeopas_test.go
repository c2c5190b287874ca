package fakeopas

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	_ "time/tzdata"

	"github.com/mpassid/mpassid/internal/model"
)

func TestGenerateNationalShape(t *testing.T) {
	ds := Generate(1, SizeNational)
	orgs := ds.Orgs()
	if n := len(orgs); n < 13000 || n > 17000 {
		t.Errorf("national size %d, want about 15,000", n)
	}
	oidRE := regexp.MustCompile(`^1\.2\.246\.562\.10\.\d{11}$`)
	codeRE := regexp.MustCompile(`^\d{5}$`)
	officeRE := regexp.MustCompile(`^\d{7}$`)
	oids := map[string]bool{}
	codes := map[string]bool{}
	byType := map[int]int{}
	var munis, providers, offices, daycare, passive, planned, svOnly int
	for _, o := range orgs {
		if !oidRE.MatchString(o.OID) {
			t.Fatalf("bad oid %q", o.OID)
		}
		if oids[o.OID] {
			t.Fatalf("duplicate oid %s", o.OID)
		}
		oids[o.OID] = true
		if len(o.ParentOIDPath) == 0 || o.ParentOIDPath[0] != model.RootOID || o.ParentOIDPath[len(o.ParentOIDPath)-1] != o.ParentOID {
			t.Fatalf("%s: path %v parent %s", o.OID, o.ParentOIDPath, o.ParentOID)
		}
		if o.Name.In("fi") == "" {
			t.Fatalf("%s has no name", o.OID)
		}
		if o.Name.Fi == "" {
			svOnly++
		}
		switch o.Status {
		case model.OrgPassive:
			passive++
			if o.EndDate == nil {
				t.Errorf("%s passive without end date", o.OID)
			}
		case model.OrgPlanned:
			planned++
		}
		switch {
		case o.HasType(model.OrgTypeEducationProvider) && o.HasType(model.OrgTypeEarlyEducationProvider):
			munis++
		case o.IsEducationProvider():
			providers++
		case o.IsSchool():
			if !codeRE.MatchString(o.SchoolCode) || codes[o.SchoolCode] {
				t.Fatalf("bad or duplicate school code %q", o.SchoolCode)
			}
			codes[o.SchoolCode] = true
			byType[o.InstitutionType]++
		case o.HasType(model.OrgTypeOffice):
			offices++
			if !officeRE.MatchString(o.OfficeCode) {
				t.Fatalf("bad office code %q", o.OfficeCode)
			}
		case o.HasType(model.OrgTypeEarlyEducationUnit):
			daycare++
		}
	}
	t.Logf("orgs %d: municipalities %d, providers %d, schools %d %v, offices %d, daycare %d, passive %d, planned %d, no fi name %d",
		len(orgs), munis, providers, len(codes), byType, offices, daycare, passive, planned, svOnly)
	if munis != 300 || providers < 950 || providers > 1050 {
		t.Errorf("municipalities %d providers %d", munis, providers)
	}
	if s := len(codes); s < 2800 || s > 3400 || byType[11] < byType[15] || byType[15] < 300 || byType[21] != 150 {
		t.Errorf("schools %d by type %v", s, byType)
	}
	if passive == 0 || planned == 0 || svOnly == 0 || offices < 800 || daycare < 7000 {
		t.Errorf("passive %d planned %d svOnly %d offices %d daycare %d", passive, planned, svOnly, offices, daycare)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, _ := json.Marshal(Generate(7, SizeSmall).Orgs())
	b, _ := json.Marshal(Generate(7, SizeSmall).Orgs())
	c, _ := json.Marshal(Generate(8, SizeSmall).Orgs())
	if string(a) != string(b) {
		t.Error("same seed, different data")
	}
	if string(a) == string(c) {
		t.Error("different seeds, same data")
	}
}

func get(t *testing.T, url string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestHandlerShape(t *testing.T) {
	ds := Generate(1, SizeDemo)
	srv := NewServer(ds)
	defer srv.Close()

	if resp := get(t, srv.URL+"/hierarkia/hae", nil); resp.StatusCode != 400 {
		t.Fatalf("without Caller-Id: %d, want 400", resp.StatusCode)
	}
	resp := get(t, srv.URL+"/hierarkia/hae?aktiiviset=true&suunnitellut=true&lakkautetut=true",
		map[string]string{"Caller-Id": "test", "Accept-Encoding": "gzip"})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatal("no gzip")
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		NumHits       int               `json:"numHits"`
		Organisaatiot []json.RawMessage `json:"organisaatiot"`
	}
	if err := json.NewDecoder(zr).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.NumHits != ds.Len() || len(body.Organisaatiot) != 3 {
		t.Fatalf("numHits %d (want %d), %d top-level", body.NumHits, ds.Len(), len(body.Organisaatiot))
	}
	var city map[string]any
	json.Unmarshal(body.Organisaatiot[0], &city)
	kids := city["children"].([]any)
	school := kids[0].(map[string]any)
	if school["parentOidPath"] != "1.2.246.562.10.99900000002/1.2.246.562.10.99900000001/1.2.246.562.10.00000000001" ||
		school["oppilaitostyyppi"] != "oppilaitostyyppi_11#1" || school["kotipaikkaUri"] != "kunta_998" {
		t.Errorf("school in the wrong shape: %v", school)
	}
	if len(city["subRows"].([]any)) != len(kids) {
		t.Error("subRows should copy children")
	}

	// Default filter leaves closed ones out.
	resp = get(t, srv.URL+"/hierarkia/hae", map[string]string{"Caller-Id": "test"})
	json.NewDecoder(resp.Body).Decode(&body)
	if body.NumHits != ds.Len()-1 {
		t.Errorf("default filter numHits %d, want %d", body.NumHits, ds.Len()-1)
	}
	// oid filter: the subtree under its ancestors.
	resp = get(t, srv.URL+"/hierarkia/hae?oid=1.2.246.562.10.99900000004", map[string]string{"Caller-Id": "test"})
	json.NewDecoder(resp.Body).Decode(&body)
	if body.NumHits != 3 {
		t.Errorf("oid filter numHits %d, want 3 (city, lukio, office)", body.NumHits)
	}

	resp = get(t, srv.URL+"/1.2.246.562.10.99900000005", map[string]string{"Caller-Id": "test"})
	b, _ := io.ReadAll(resp.Body)
	var detail map[string]any
	json.Unmarshal(b, &detail)
	if detail["parentOidPath"] != "|1.2.246.562.10.00000000001|1.2.246.562.10.99900000001|1.2.246.562.10.99900000004|" ||
		detail["alkuPvm"] != "1995-08-01" || detail["toimipistekoodi"] != "9900301" {
		t.Errorf("detail: %s", b)
	}
	if resp := get(t, srv.URL+"/1.2.246.562.10.1", map[string]string{"Caller-Id": "test"}); resp.StatusCode != 404 {
		t.Errorf("unknown oid: %d", resp.StatusCode)
	}
}

func TestDatasetMutations(t *testing.T) {
	ds := Generate(1, SizeDemo)
	const school, voc = "1.2.246.562.10.99900000004", "1.2.246.562.10.99900000011"
	if err := ds.Move(school, voc); err != nil {
		t.Fatal(err)
	}
	office, _ := ds.Get("1.2.246.562.10.99900000005")
	if want := []string{model.RootOID, voc, school}; !equal(office.ParentOIDPath, want) {
		t.Errorf("office path after move %v, want %v", office.ParentOIDPath, want)
	}
	if err := ds.Move(voc, school); err == nil {
		t.Error("a cycle was allowed")
	}
	before := ds.Len()
	if n := ds.Remove(school); n != 2 || ds.Len() != before-2 {
		t.Errorf("removed %d", n)
	}
}

func equal(a, b []string) bool {
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
