package admin_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/admin/exchange"
	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

const base = "/api/v2"

func TestUnauthenticated(t *testing.T) {
	e := newEnv(t)
	e.want(e.do("", "GET", base+"/integration/search", nil), 401)
	e.want(e.do("", "GET", base+"/integration/search", nil, "Authorization", "Bearer mpa_nope"), 401)
	e.want(e.do("", "GET", base+"/integration/search", nil, "Authorization", "Basic eDp5"), 401)
	r := e.want(e.do("", "GET", base+"/integration/1", nil), 401)
	b := r.obj(t)
	if b["status"] != float64(401) || b["message"] == "" || b["timestamp"] == nil {
		t.Errorf("error body %s", r.Body)
	}
}

func TestCreateAndPermissions(t *testing.T) {
	e := newEnv(t)
	// Sets and services: the service editor may, the viewer may not.
	e.want(e.do("spViewer", "POST", base+"/integration", setRecord(ownOrg, "Palvelut")), 403)
	e.want(e.do("otherSPOwner", "POST", base+"/integration", setRecord(ownOrg, "Palvelut")), 403)
	setID := idOf(t, e.want(e.do("spEditor", "POST", base+"/integration", setRecord(ownOrg, "Palvelut")), 201))
	if setID < 6000000 || setID > 6999999 {
		t.Errorf("test set id %d", setID)
	}
	samlID := idOf(t, e.want(e.do("spEditor", "POST", base+"/integration", samlSPRecord(t, ownOrg, setID, "https://sp.example.fi/mpass")), 201))

	// OIDC: client_id and secret generated, the secret shown once.
	r := e.want(e.do("spEditor", "POST", base+"/integration", oidcSPRecord(ownOrg, setID)), 201)
	var created exchange.Record
	r.json(t, &created)
	md := created.ConfigurationEntity.SP.Metadata
	if md.ClientID == "" || len(md.ClientSecret) < 32 || md.ClientSecret == exchange.Mask {
		t.Fatalf("created client %q secret %q", md.ClientID, md.ClientSecret)
	}
	stored, err := e.st.GetIntegration(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !keys.IsSealedString(stored.SP.OIDC.ClientSecret) {
		t.Fatalf("secret stored as %q", stored.SP.OIDC.ClientSecret)
	}
	if s, err := e.sealer.OpenString(stored.SP.OIDC.ClientSecret, md.ClientID); err != nil || s != md.ClientSecret {
		t.Errorf("sealed secret opens to %q, %v", s, err)
	}
	r = e.want(e.do("spViewer", "GET", fmt.Sprintf("%s/integration/%d", base, created.ID), nil), 200)
	if strings.Contains(string(r.Body), md.ClientSecret) || !strings.Contains(string(r.Body), exchange.Mask) {
		t.Errorf("GET shows the secret: %s", r.Body)
	}
	// Setting a secret is refused.
	bad := oidcSPRecord(ownOrg, setID)
	bad["configurationEntity"].(map[string]any)["sp"].(map[string]any)["metadata"].(map[string]any)["client_secret"] = "mine"
	e.want(e.do("spEditor", "POST", base+"/integration", bad), 400)

	// IdPs: the editor may; service roles and viewers may not.
	e.want(e.do("spEditor", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_x", "00001")), 403)
	e.want(e.do("viewer", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_x", "00001")), 403)
	e.want(e.do("otherEditor", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_x", "00001")), 403)
	idpID := idOf(t, e.want(e.do("editor", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_x", "00001")), 201))
	src, _ := e.st.GetIntegration(t.Context(), idpID)
	if s, err := e.sealer.OpenString(src.IdP.SharedSecret, "idp:wilma_x:sharedSecret"); err != nil || s != "wilma-shared-secret" {
		t.Errorf("shared secret %q, %v", s, err)
	}

	// Reading: own organisation per role; others' integrations are not found.
	for _, tc := range []struct {
		who  string
		id   int64
		code int
	}{
		{"viewer", idpID, 200}, {"viewer", samlID, 200}, {"spViewer", samlID, 200}, {"spViewer", idpID, 404},
		{"otherEditor", idpID, 404}, {"otherEditor", samlID, 404}, {"adminViewer", idpID, 200}, {"admin", samlID, 200},
		{"editor", 4999999, 404},
	} {
		e.want(e.do(tc.who, "GET", fmt.Sprintf("%s/integration/%d", base, tc.id), nil), tc.code)
	}
	e.want(e.do("editor", "GET", base+"/integration/abc", nil), 400)

	// The SP lookup by entityID (with slashes) and by client_id.
	r = e.want(e.do("otherEditor", "GET", base+"/sp/"+url.PathEscape("https://sp.example.fi/mpass"), nil), 200)
	if m := r.obj(t); m["id"] != float64(samlID) || m["configurationEntity"] != nil {
		t.Errorf("summary for an outsider: %s", r.Body)
	}
	r = e.want(e.do("spEditor", "GET", base+"/sp/"+md.ClientID, nil), 200)
	if m := r.obj(t); m["configurationEntity"] == nil {
		t.Errorf("full record for the owner: %s", r.Body)
	}
	e.want(e.do("spEditor", "GET", base+"/sp/nothing-like-this", nil), 404)
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	setID := idOf(t, e.want(e.do("admin", "POST", base+"/integration", setRecord(ownOrg, "S")), 201))

	prod := samlSPRecord(t, ownOrg, setID, "https://prod.example.fi")
	prod["deploymentPhase"] = 1
	md := prod["configurationEntity"].(map[string]any)["sp"].(map[string]any)["metadata"].(map[string]any)
	md["assertionConsumerServiceUrls"] = []any{
		map[string]any{"bindings": "HTTP-POST", "location": "http://sp.example.fi/acs", "index": 0},
		map[string]any{"bindings": "HTTP-POST", "location": "https://localhost/acs", "index": 1},
		map[string]any{"bindings": "HTTP-POST", "location": "https://sp.example.fi/acs#x", "index": 2},
		map[string]any{"bindings": "SOAP-ish", "location": "https://sp.example.fi/acs", "index": 3},
	}
	md["signingCertificates"] = []string{"bm90IGEgY2VydA=="}
	md["encryptionCertificates"] = []string{"%%%"}
	r := e.want(e.do("admin", "POST", base+"/integration", prod), 400)
	got := r.fields(t)
	for _, f := range []string{
		"configurationEntity.sp.metadata.assertionConsumerServiceUrls[0].location",
		"configurationEntity.sp.metadata.assertionConsumerServiceUrls[1].location",
		"configurationEntity.sp.metadata.assertionConsumerServiceUrls[2].location",
		"configurationEntity.sp.metadata.assertionConsumerServiceUrls[3].bindings",
		"configurationEntity.sp.metadata.signingCertificates[0]",
		"configurationEntity.sp.metadata.encryptionCertificates[0]",
	} {
		if !slices.Contains(got, f) {
			t.Errorf("no error for %s in %v", f, got)
		}
	}
	// The same URLs are fine in test, but a fragment never is.
	test := samlSPRecord(t, ownOrg, setID, "https://test.example.fi")
	tmd := test["configurationEntity"].(map[string]any)["sp"].(map[string]any)["metadata"].(map[string]any)
	tmd["assertionConsumerServiceUrls"] = []any{map[string]any{"bindings": "HTTP-POST", "location": "http://localhost:8080/acs", "index": 0}}
	e.want(e.do("admin", "POST", base+"/integration", test), 201)
	tmd["entityId"] = "https://test2.example.fi"
	tmd["assertionConsumerServiceUrls"] = []any{map[string]any{"bindings": "HTTP-POST", "location": "http://localhost:8080/acs#f", "index": 0}}
	e.want(e.do("admin", "POST", base+"/integration", test), 400)

	// Nothing was half-saved.
	if _, n, _ := e.st.ListIntegrations(t.Context(), store.IntegrationFilter{Role: model.RoleSP}); n != 1 {
		t.Errorf("%d services stored", n)
	}

	// Unique entityID.
	tmd["entityId"] = "https://test.example.fi"
	tmd["assertionConsumerServiceUrls"] = []any{map[string]any{"bindings": "HTTP-POST", "location": "https://x.example.fi/acs", "index": 0}}
	r = e.want(e.do("admin", "POST", base+"/integration", test), 409)
	if f := r.fields(t); !slices.Equal(f, []string{"configurationEntity.sp.metadata.entityId"}) {
		t.Errorf("duplicate fields %v", f)
	}

	// Schools and type fields of IdPs.
	idp := wilmaRecord(ownOrg, "wilma_v", "00001", "99999", "00003")
	idp["configurationEntity"].(map[string]any)["idp"].(map[string]any)["hostname"] = ""
	r = e.want(e.do("admin", "POST", base+"/integration", idp), 400)
	got = r.fields(t)
	for _, f := range []string{"discoveryInformation.schools[1]", "discoveryInformation.schools[2]", "configurationEntity.idp.hostname"} {
		if !slices.Contains(got, f) {
			t.Errorf("no error for %s in %v", f, got)
		}
	}
	gs := map[string]any{
		"deploymentPhase": 0, "organization": map[string]any{"oid": ownOrg},
		"configurationEntity": map[string]any{"idp": map[string]any{"type": "gsuite", "idpId": "gs"}, "attributes": []any{}},
	}
	r = e.want(e.do("admin", "POST", base+"/integration", gs), 400)
	if got := r.fields(t); !slices.Contains(got, "configurationEntity.idp.entityId") || !slices.Contains(got, "configurationEntity.idp.metadataUrl") {
		t.Errorf("gsuite fields %v", got)
	}
	// Unknown organisation, unknown set, bad JSON, unknown fields.
	e.want(e.do("admin", "POST", base+"/integration", setRecord("1.2.246.562.10.99", "S")), 400)
	e.want(e.do("admin", "POST", base+"/integration", oidcSPRecord(ownOrg, 6999999)), 400)
	e.want(e.do("admin", "POST", base+"/integration", `{"id":`), 400)
	e.want(e.do("admin", "POST", base+"/integration", `{"bogus":1}`), 400)
	e.want(e.do("admin", "POST", base+"/integration", `{"configurationEntity":{"attributes":[]}}`), 400)
	e.want(e.do("admin", "POST", base+"/integration", strings.Repeat(" ", 2<<20)), 413)
	// The idpId is unique.
	e.want(e.do("admin", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_u", "00001")), 201)
	r = e.want(e.do("admin", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_u", "00002")), 400)
	if got := r.fields(t); !slices.Contains(got, "configurationEntity.idp.idpId") {
		t.Errorf("idpId fields %v", got)
	}
}

func TestUpdateHistoryRestore(t *testing.T) {
	e := newEnv(t)
	setID := idOf(t, e.want(e.do("spEditor", "POST", base+"/integration", setRecord(ownOrg, "Alku")), 201))
	path := fmt.Sprintf("%s/integration/%d", base, setID)
	var rec exchange.Record
	e.want(e.do("spEditor", "GET", path, nil), 200).json(t, &rec)

	rec.ConfigurationEntity.Set.Name = "Toinen"
	e.want(e.do("spViewer", "PUT", path, rec), 403)
	e.want(e.do("otherSPOwner", "PUT", path, rec), 404)
	var saved exchange.Record
	e.want(e.do("spEditor", "PUT", path, rec), 200).json(t, &saved)
	if saved.Version != 2 || saved.ConfigurationEntity.Set.Name != "Toinen" {
		t.Fatalf("saved %+v", saved)
	}
	// Stale version.
	rec.ConfigurationEntity.Set.Name = "Kolmas"
	r := e.want(e.do("spEditor", "PUT", path, rec), 409)
	if !strings.Contains(string(r.Body), "changed by someone else") {
		t.Errorf("409 body %s", r.Body)
	}
	// No version, wrong id, moving to an organisation one cannot edit.
	noVersion := rec
	noVersion.Version = 0
	e.want(e.do("spEditor", "PUT", path, noVersion), 400)
	wrongID := saved
	wrongID.ID = 1
	e.want(e.do("spEditor", "PUT", path, wrongID), 400)
	moved := saved
	moved.Organization = &exchange.Organization{OID: otherOrg}
	e.want(e.do("spEditor", "PUT", path, moved), 403)
	e.want(e.do("spEditor", "PUT", base+"/integration/6999999", saved), 404)

	// History: newest first, who, and what changed.
	var hist []struct {
		Version int64
		Actor   string
		Changes []struct {
			Path     string
			From, To any
		}
	}
	e.want(e.do("spViewer", "GET", path+"/history", nil), 200).json(t, &hist)
	if len(hist) != 2 || hist[0].Version != 2 || !strings.Contains(hist[0].Actor, "spEditor") {
		t.Fatalf("history %+v", hist)
	}
	if c := hist[0].Changes; len(c) != 1 || c[0].Path != "configurationEntity.set.name" || c[0].From != "Alku" || c[0].To != "Toinen" {
		t.Errorf("diff %+v", c)
	}
	e.want(e.do("otherEditor", "GET", path+"/history", nil), 404)

	// Restore version 1.
	e.want(e.do("spViewer", "POST", path+"/history/1/restore", nil), 403)
	e.want(e.do("spEditor", "POST", path+"/history/9/restore", nil), 404)
	e.want(e.do("spEditor", "POST", path+"/history/x/restore", nil), 400)
	e.want(e.do("spEditor", "POST", path+"/history/1/restore?basedOn=1", nil), 409)
	var restored exchange.Record
	e.want(e.do("spEditor", "POST", path+"/history/1/restore?basedOn=2", nil), 200).json(t, &restored)
	if restored.Version != 3 || restored.ConfigurationEntity.Set.Name != "Alku" {
		t.Errorf("restored %+v", restored)
	}

	// Inactivation.
	e.want(e.do("spViewer", "DELETE", path+"/inactive", nil), 403)
	var inactive exchange.Record
	e.want(e.do("spEditor", "DELETE", path+"/inactive", nil), 200).json(t, &inactive)
	if inactive.Status != "inactive" || inactive.Version != 4 {
		t.Errorf("inactivated %+v", inactive)
	}
}

func TestUpdateKeepsSecretsAndIDs(t *testing.T) {
	e := newEnv(t)
	setID := idOf(t, e.want(e.do("admin", "POST", base+"/integration", setRecord(ownOrg, "S")), 201))
	var created exchange.Record
	e.want(e.do("admin", "POST", base+"/integration", oidcSPRecord(ownOrg, setID)), 201).json(t, &created)
	before, _ := e.st.GetIntegration(t.Context(), created.ID)
	path := fmt.Sprintf("%s/integration/%d", base, created.ID)
	var rec exchange.Record
	e.want(e.do("admin", "GET", path, nil), 200).json(t, &rec)
	rec.ConfigurationEntity.SP.Name = "Uusi nimi"
	e.want(e.do("admin", "PUT", path, rec), 200)
	after, _ := e.st.GetIntegration(t.Context(), created.ID)
	if after.SP.OIDC.ClientSecret != before.SP.OIDC.ClientSecret || after.SP.OIDC.ClientID != before.SP.OIDC.ClientID {
		t.Error("update lost the secret or client_id")
	}
	rec.Version = after.Version
	rec.ConfigurationEntity.SP.Metadata.ClientID = "other"
	e.want(e.do("admin", "PUT", path, rec), 400)

	idpID := idOf(t, e.want(e.do("editor", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_k", "00001")), 201))
	ipath := fmt.Sprintf("%s/integration/%d", base, idpID)
	var irec exchange.Record
	e.want(e.do("editor", "GET", ipath, nil), 200).json(t, &irec)
	if irec.ConfigurationEntity.IdP.SharedSecret != exchange.Mask {
		t.Errorf("shared secret shown as %q", irec.ConfigurationEntity.IdP.SharedSecret)
	}
	irec.ConfigurationEntity.IdP.IdPID = "renamed"
	e.want(e.do("editor", "PUT", ipath, irec), 400)
	irec.ConfigurationEntity.IdP.IdPID = "wilma_k"
	irec.ConfigurationEntity.IdP.SharedSecret = "new-secret"
	e.want(e.do("editor", "PUT", ipath, irec), 200)
	src, _ := e.st.GetIntegration(t.Context(), idpID)
	if s, _ := e.sealer.OpenString(src.IdP.SharedSecret, "idp:wilma_k:sharedSecret"); s != "new-secret" {
		t.Errorf("new shared secret %q", s)
	}
	// The history says a secret changed without showing it.
	r := e.want(e.do("editor", "GET", ipath+"/history", nil), 200)
	if strings.Contains(string(r.Body), "new-secret") || strings.Contains(string(r.Body), "v1:") || !strings.Contains(string(r.Body), `"path":"secret"`) {
		t.Errorf("history %s", r.Body)
	}
}

func TestSearch(t *testing.T) {
	e := newEnv(t)
	own := idOf(t, e.want(e.do("admin", "POST", base+"/integration", setRecord(ownOrg, "Oma joukko")), 201))
	e.want(e.do("admin", "POST", base+"/integration", setRecord(otherOrg, "Toinen joukko")), 201)
	e.want(e.do("admin", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_s", "00001")), 201)
	e.want(e.do("admin", "POST", base+"/integration", oidcSPRecord(ownOrg, own)), 201)

	total := func(who, q string) int {
		t.Helper()
		var p struct {
			TotalElements int
			Content       []map[string]any
		}
		e.want(e.do(who, "GET", base+"/integration/search"+q, nil), 200).json(t, &p)
		if len(p.Content) > p.TotalElements {
			t.Errorf("page larger than total")
		}
		return p.TotalElements
	}
	for _, tc := range []struct {
		who, q string
		want   int
	}{
		{"admin", "", 4}, {"adminViewer", "", 4}, {"editor", "", 3}, {"viewer", "", 3}, {"spViewer", "", 2},
		{"otherEditor", "", 1}, {"admin", "?role=set", 2}, {"admin", "?type=wilma", 1}, {"admin", "?search=joukko", 2},
		{"admin", "?search=toinen", 1}, {"admin", "?deploymentPhase=1", 0}, {"admin", "?status=inactive", 0},
		{"editor", "?role=sp", 1}, {"spViewer", "?role=idp", 0},
	} {
		if got := total(tc.who, tc.q); got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.who, tc.q, got, tc.want)
		}
	}
	var p struct {
		Content    []exchange.Record
		TotalPages int
		Number     int
	}
	e.want(e.do("admin", "GET", base+"/integration/search?size=3&page=1&sort=id,desc", nil), 200).json(t, &p)
	if len(p.Content) != 1 || p.TotalPages != 2 || p.Number != 1 {
		t.Errorf("page %+v", p)
	}
	e.want(e.do("editor", "GET", base+"/integration/search?size=1&page=2&sort=-name", nil), 200).json(t, &p)
	if len(p.Content) != 1 {
		t.Errorf("scoped page %+v", p)
	}
	for _, q := range []string{"?role=x", "?status=x", "?deploymentPhase=7", "?page=-1", "?size=0", "?size=1000", "?sort=bogus", "?sort=id,up"} {
		e.want(e.do("admin", "GET", base+"/integration/search"+q, nil), 400)
	}
}

func TestTemplateTypesNames(t *testing.T) {
	e := newEnv(t)
	r := e.want(e.do("spEditor", "GET", base+"/integration?role=sp&type=oidc&organization="+ownOrg, nil), 200)
	var rec exchange.Record
	r.json(t, &rec)
	if rec.ConfigurationEntity.SP == nil || rec.ConfigurationEntity.SP.Type != "oidc" || rec.Organization.OID != ownOrg || rec.ID != 0 {
		t.Errorf("template %s", r.Body)
	}
	e.want(e.do("editor", "GET", base+"/integration?role=idp&type=wilma&organization="+ownOrg, nil), 200)
	e.want(e.do("editor", "GET", base+"/integration?role=set&organization="+ownOrg, nil), 200)
	e.want(e.do("spEditor", "GET", base+"/integration?role=idp&type=wilma&organization="+ownOrg, nil), 403)
	e.want(e.do("editor", "GET", base+"/integration?role=idp&type=nope&organization="+ownOrg, nil), 400)
	e.want(e.do("editor", "GET", base+"/integration?role=sp&type=nope&organization="+ownOrg, nil), 400)
	e.want(e.do("editor", "GET", base+"/integration?role=x", nil), 400)

	var types []map[string]any
	e.want(e.do("viewer", "GET", base+"/idp/types", nil), 200).json(t, &types)
	if len(types) != len(model.IdPTypes()) {
		t.Errorf("idp types %v", types)
	}
	e.want(e.do("viewer", "GET", base+"/sp/types", nil), 200).json(t, &types)
	if len(types) != 2 {
		t.Errorf("sp types %v", types)
	}
	r = e.want(e.do("viewer", "GET", base+"/attribute/names", nil), 200)
	if !strings.Contains(string(r.Body), "learnerId") || !strings.Contains(string(r.Body), "datasource") {
		t.Errorf("names %s", r.Body)
	}
	e.want(e.do("", "GET", base+"/idp/types", nil), 401)
}

func TestDiscoveryInformation(t *testing.T) {
	e := newEnv(t)
	first := idOf(t, e.want(e.do("editor", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_a", "00001")), 201))
	second := wilmaRecord(ownOrg, "wilma_b", "00002")
	second["discoveryInformation"].(map[string]any)["excludedSchools"] = []string{"00001"}
	idOf(t, e.want(e.do("editor", "POST", base+"/integration", second), 201))

	var d struct {
		ExistingIncludes, ExistingExcludes []string
		Schools                            []map[string]any
	}
	e.want(e.do("viewer", "GET", fmt.Sprintf("%s/integration/discoveryinformation?organizationOid=%s&id=%d", base, ownOrg, first), nil), 200).json(t, &d)
	if !slices.Equal(d.ExistingIncludes, []string{"00002"}) || !slices.Equal(d.ExistingExcludes, []string{"00001"}) || len(d.Schools) != 3 {
		t.Errorf("discovery %+v", d)
	}
	e.want(e.do("otherEditor", "GET", base+"/integration/discoveryinformation?organizationOid="+ownOrg, nil), 403)
	e.want(e.do("spViewer", "GET", base+"/integration/discoveryinformation?organizationOid="+ownOrg, nil), 403)
	e.want(e.do("viewer", "GET", base+"/integration/discoveryinformation", nil), 400)
	e.want(e.do("viewer", "GET", base+"/integration/discoveryinformation?organizationOid="+ownOrg+"&id=x", nil), 400)
}

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLogo(t *testing.T) {
	e := newEnv(t, func(c *admin.Config) {})
	id := idOf(t, e.want(e.do("editor", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_l", "00001")), 201))
	path := fmt.Sprintf("%s/integration/%d/discoveryinformation/logo", base, id)
	e.want(e.do("", "GET", path, nil), 404)
	img := pngBytes(t)
	e.want(e.do("viewer", "POST", path, img), 403)
	e.want(e.do("editor", "POST", path, "just text"), 400)
	e.want(e.do("editor", "POST", path, bytes.Repeat([]byte{0x89}, 300<<10)), 413)
	var rec exchange.Record
	e.want(e.do("editor", "POST", path, img), 200).json(t, &rec)
	if rec.ConfigurationEntity.IdP.LogoURL != "https://mpass.example.fi"+path {
		t.Errorf("logoUrl %q", rec.ConfigurationEntity.IdP.LogoURL)
	}
	// Multipart works too.
	body, ct := multipartFile(t, "logo.png", img)
	e.want(e.do("editor", "POST", path, body, "Content-Type", ct), 200)
	r := e.want(e.do("", "GET", path, nil), 200)
	if r.Header.Get("Content-Type") != "image/png" || !bytes.Equal(r.Body, img) || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("logo served as %s, %d bytes", r.Header.Get("Content-Type"), len(r.Body))
	}
	// Services have no logo.
	setID := idOf(t, e.want(e.do("editor", "POST", base+"/integration", setRecord(ownOrg, "S")), 201))
	e.want(e.do("editor", "POST", fmt.Sprintf("%s/integration/%d/discoveryinformation/logo", base, setID), img), 400)
}

func TestSAMLMetadata(t *testing.T) {
	e := newEnv(t)
	rec := map[string]any{
		"deploymentPhase": 0, "organization": map[string]any{"oid": ownOrg},
		"configurationEntity": map[string]any{"idp": map[string]any{"type": "adfs", "idpId": "adfs_m", "flowName": "Adfs",
			"entityId": "https://adfs.example.fi", "metadataUrl": "https://adfs.example.fi/md"}, "attributes": []any{}},
	}
	id := idOf(t, e.want(e.do("editor", "POST", base+"/integration", rec), 201))
	path := fmt.Sprintf("%s/idp/saml/metadata/%d", base, id)
	e.want(e.do("editor", "GET", path, nil), 404)

	notAfter := time.Now().Add(10 * 24 * time.Hour).UTC().Truncate(time.Second)
	validUntil := time.Now().Add(5 * 24 * time.Hour).UTC().Truncate(time.Second)
	doc := idpMetadata("https://adfs.example.fi", certB64(t, notAfter), validUntil)
	e.want(e.do("viewer", "POST", path, doc), 403)
	e.want(e.do("editor", "POST", path, "<nope/>"), 400)
	r := e.want(e.do("editor", "POST", path, idpMetadata("https://other.example.fi", certB64(t, notAfter), validUntil)), 400)
	if f := r.fields(t); !slices.Equal(f, []string{"metadata"}) {
		t.Errorf("fields %v", f)
	}
	var saved exchange.Record
	e.want(e.do("editor", "POST", path, doc), 200).json(t, &saved)
	p := saved.ConfigurationEntity.IdP
	if p.MetadataValidUntil == nil || !p.MetadataValidUntil.Equal(validUntil) || p.SigningCertificateValidUntil == nil || !p.SigningCertificateValidUntil.Equal(notAfter) {
		t.Errorf("expiry %v %v", p.MetadataValidUntil, p.SigningCertificateValidUntil)
	}
	r = e.want(e.do("viewer", "GET", path, nil), 200)
	if string(r.Body) != doc {
		t.Errorf("metadata download differs")
	}
	e.want(e.do("otherEditor", "GET", path, nil), 404)

	// Expiry watch: the metadata (5 days) and the certificate (10 days).
	var exp []struct {
		ID   int64
		What string
	}
	e.want(e.do("viewer", "GET", base+"/integration/expiring?days=30", nil), 200).json(t, &exp)
	if len(exp) != 2 || exp[0].What != "metadata" || exp[1].What != "signingCertificate" || exp[0].ID != id {
		t.Errorf("expiring %+v", exp)
	}
	e.want(e.do("viewer", "GET", base+"/integration/expiring?days=7", nil), 200).json(t, &exp)
	if len(exp) != 1 {
		t.Errorf("expiring in 7 days %+v", exp)
	}
	e.want(e.do("otherEditor", "GET", base+"/integration/expiring?days=30", nil), 200).json(t, &exp)
	if len(exp) != 0 {
		t.Errorf("outsider sees %+v", exp)
	}
	e.want(e.do("viewer", "GET", base+"/integration/expiring?days=x", nil), 400)

	// Only SAML IdPs have metadata.
	wid := idOf(t, e.want(e.do("editor", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_m", "00001")), 201))
	e.want(e.do("editor", "POST", fmt.Sprintf("%s/idp/saml/metadata/%d", base, wid), doc), 400)
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	req := map[string]any{"name": "ci", "groups": []string{"APP_MPASSID_KATSELIJA_" + ownOrg}}
	e.want(e.do("editor", "POST", base+"/tokens", req), 403)
	e.want(e.do("editor", "GET", base+"/tokens", nil), 403)
	var info struct{ ID, Token string }
	e.want(e.do("admin", "POST", base+"/tokens", req), 201).json(t, &info)
	e.tokens["ci"] = info.Token
	e.want(e.do("ci", "GET", base+"/integration/search", nil), 200)
	r := e.want(e.do("admin", "GET", base+"/tokens", nil), 200)
	if strings.Contains(string(r.Body), info.Token) {
		t.Error("token listed in clear")
	}
	e.want(e.do("admin", "POST", base+"/tokens", map[string]any{"name": "x", "groups": []string{"ADMINS"}}), 400)
	e.want(e.do("admin", "POST", base+"/tokens", map[string]any{"groups": []string{"APP_MPASSID_KATSELIJA_1.2"}}), 400)
	e.want(e.do("editor", "DELETE", base+"/tokens/"+info.ID, nil), 403)
	e.want(e.do("admin", "DELETE", base+"/tokens/"+info.ID, nil), 204)
	e.want(e.do("admin", "DELETE", base+"/tokens/"+info.ID, nil), 404)
	e.want(e.do("ci", "GET", base+"/integration/search", nil), 401)

	var me struct {
		Principal struct {
			Roles []map[string]string
			Via   string
		}
	}
	e.want(e.do("spEditor", "GET", base+"/auth/me", nil), 200).json(t, &me)
	if me.Principal.Via != "token" || len(me.Principal.Roles) != 1 || me.Principal.Roles[0]["kind"] != "PALVELU_TALLENTAJA" {
		t.Errorf("me %+v", me)
	}
}

func TestProvisioning(t *testing.T) {
	e := newEnv(t)
	setID := idOf(t, e.want(e.do("admin", "POST", base+"/integration", setRecord(ownOrg, "S")), 201))
	e.want(e.do("admin", "POST", base+"/integration", oidcSPRecord(ownOrg, setID)), 201)
	e.want(e.do("admin", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_p", "00001")), 201)
	basic := []string{"Authorization", "Basic cHJveHk6cHc="} // proxy:pw
	wrong := []string{"Authorization", "Basic cHJveHk6bm8="}
	e.want(e.do("", "GET", base+"/provisioning/identityproviders", nil), 401)
	e.want(e.do("", "GET", base+"/provisioning/identityproviders", nil, wrong...), 401)
	e.want(e.do("admin", "GET", base+"/provisioning/identityproviders", nil), 401)

	r := e.want(e.do("", "GET", base+"/provisioning/identityproviders", nil, basic...), 200)
	b, err := exchange.DecodeBundle(r.Body)
	if err != nil || len(b.IdentityProviders) != 1 || b.IdentityProviders[0].ConfigurationEntity.IdP.IdPID != "wilma_p" {
		t.Fatalf("idps %s", r.Body)
	}
	if strings.Contains(string(r.Body), "wilma-shared-secret") || strings.Contains(string(r.Body), "v1:") {
		t.Errorf("secret exported: %s", r.Body)
	}
	r = e.want(e.do("", "GET", base+"/provisioning/serviceproviders?deploymentPhase=0", nil, basic...), 200)
	b, _ = exchange.DecodeBundle(r.Body)
	if len(b.ServiceProviders) != 1 || len(b.IntegrationGroups) != 1 || strings.Contains(string(r.Body), "v1:") {
		t.Errorf("sps %s", r.Body)
	}
	e.want(e.do("", "GET", base+"/provisioning/serviceproviders?deploymentPhase=9", nil, basic...), 400)

	var st []struct {
		DeploymentPhase int
		Changed         bool
	}
	e.want(e.do("", "GET", base+"/provisioning/configuration/status", nil, basic...), 200).json(t, &st)
	if len(st) != 3 || !st[0].Changed || st[1].Changed {
		t.Errorf("status %+v", st)
	}
	e.want(e.do("", "PUT", base+"/provisioning", map[string]any{"deploymentPhase": 0}, basic...), 200)
	e.want(e.do("", "PUT", base+"/provisioning", map[string]any{"deploymentPhase": 5}, basic...), 400)
	e.want(e.do("", "PUT", base+"/provisioning", map[string]any{}, basic...), 400)
	e.want(e.do("", "GET", base+"/provisioning/configuration/status", nil, basic...), 200).json(t, &st)
	if st[0].Changed {
		t.Errorf("status after a run %+v", st)
	}

	// Disabled without a password.
	e2 := newEnv(t, func(c *admin.Config) { c.ProvisioningPassword = "" })
	e2.want(e2.do("", "GET", base+"/provisioning/identityproviders", nil, "Authorization", "Basic cHJveHk6"), 401)
}

// TestLivePublication: a change saved through the API moves the
// configuration version, and a catalog rebuilt from the store (as the
// broker's reload does) sees the new service.
func TestLivePublication(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	setID := idOf(t, e.want(e.do("admin", "POST", base+"/integration", setRecord(ownOrg, "S")), 201))
	v1, _ := e.st.ConfigVersion(ctx)
	var rec exchange.Record
	e.want(e.do("spEditor", "POST", base+"/integration", oidcSPRecord(ownOrg, setID)), 201).json(t, &rec)
	v2, _ := e.st.ConfigVersion(ctx)
	if v2 <= v1 {
		t.Fatalf("config version %d -> %d", v1, v2)
	}
	all, _, err := e.st.ListIntegrations(ctx, store.IntegrationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	cat := broker.NewCatalog(v2, all)
	svc, ok := cat.ServiceByClientID(rec.ConfigurationEntity.SP.Metadata.ClientID)
	if !ok || svc.Set == nil || svc.Set.ID != setID {
		t.Fatalf("catalog does not see the new service: %v %+v", ok, svc)
	}
	// Inactivating it takes it out.
	e.want(e.do("spEditor", "DELETE", fmt.Sprintf("%s/integration/%d/inactive", base, rec.ID), nil), 200)
	v3, _ := e.st.ConfigVersion(ctx)
	all, _, _ = e.st.ListIntegrations(ctx, store.IntegrationFilter{})
	if _, ok := broker.NewCatalog(v3, all).ServiceByClientID(rec.ConfigurationEntity.SP.Metadata.ClientID); ok || v3 <= v2 {
		t.Error("inactivated service still in the catalog")
	}
}

var _ = http.StatusOK
