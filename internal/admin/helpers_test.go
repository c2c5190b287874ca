package admin_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/store/sqlite"
)

const (
	adminOrg = admin.AdminOrganisationOID
	ownOrg   = "1.2.246.562.10.11111111111"
	otherOrg = "1.2.246.562.10.22222222222"
)

type env struct {
	t      *testing.T
	api    *admin.API
	st     *sqlite.Store
	sealer *keys.Sealer
	h      http.Handler
	tokens map[string]string // who -> bearer token
}

func organisations() []model.Organisation {
	prov := func(oid, name string) model.Organisation {
		return model.Organisation{OID: oid, ParentOID: adminOrg, Name: model.LocalizedName{Fi: name},
			Types: []string{model.OrgTypeEducationProvider}, Status: model.OrgActive}
	}
	school := func(oid, parent, code, name string, st model.OrgStatus) model.Organisation {
		return model.Organisation{OID: oid, ParentOID: parent, Name: model.LocalizedName{Fi: name},
			Types: []string{model.OrgTypeSchool}, SchoolCode: code, InstitutionType: 11, Status: st}
	}
	return []model.Organisation{
		{OID: adminOrg, Name: model.LocalizedName{Fi: "Opetushallitus"}, Types: []string{model.OrgTypeOther}, Status: model.OrgActive},
		prov(ownOrg, "Oma kunta"),
		prov(otherOrg, "Toinen kunta"),
		school("1.2.246.562.10.00000000101", ownOrg, "00001", "Ykköskoulu", model.OrgActive),
		school("1.2.246.562.10.00000000102", ownOrg, "00002", "Kakkoskoulu", model.OrgActive),
		school("1.2.246.562.10.00000000103", ownOrg, "00003", "Suljettu koulu", model.OrgPassive),
		school("1.2.246.562.10.00000000110", otherOrg, "00010", "Toinen koulu", model.OrgActive),
	}
}

func newEnv(t *testing.T, mod ...func(*admin.Config)) *env {
	t.Helper()
	ctx := t.Context()
	st := sqlite.OpenTemp(t)
	sealer, err := keys.NewSealer(bytes.Repeat([]byte{7}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	cfg := admin.Config{PublicURL: "https://mpass.example.fi", ProvisioningUser: "proxy", ProvisioningPassword: "pw"}
	for _, m := range mod {
		m(&cfg)
	}
	api, err := admin.New(cfg, admin.Deps{
		Store: st, Registry: registry.NewRegistry(registry.NewLookup(organisations())), Sealer: sealer,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, api: api, st: st, sealer: sealer, h: api, tokens: map[string]string{}}
	for who, group := range map[string]string{
		"admin":        "APP_MPASSID_TALLENTAJA_" + adminOrg,
		"adminViewer":  "APP_MPASSID_KATSELIJA_" + adminOrg,
		"editor":       "APP_MPASSID_TALLENTAJA_" + ownOrg,
		"viewer":       "APP_MPASSID_KATSELIJA_" + ownOrg,
		"spEditor":     "APP_MPASSID_PALVELU_TALLENTAJA_" + ownOrg,
		"spViewer":     "APP_MPASSID_PALVELU_KATSELIJA_" + ownOrg,
		"otherEditor":  "APP_MPASSID_TALLENTAJA_" + otherOrg,
		"otherSPOwner": "APP_MPASSID_PALVELU_TALLENTAJA_" + otherOrg,
	} {
		info, err := api.CreateToken(ctx, who, []string{group}, "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[who] = info.Token
	}
	return e
}

type resp struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r resp) obj(t *testing.T) map[string]any {
	var m map[string]any
	r.json(t, &m)
	return m
}

// fields returns the field names of a validation answer.
func (r resp) fields(t *testing.T) []string {
	var b admin.ErrorBody
	r.json(t, &b)
	var out []string
	for _, f := range b.Errors {
		out = append(out, f.Field)
	}
	return out
}

func (e *env) do(who, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok, ok := e.tokens[who]; ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{rec.Code, rec.Result().Header, rec.Body.Bytes()}
}

func (e *env) want(r resp, code int) resp {
	e.t.Helper()
	if r.Code != code {
		e.t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
	}
	return r
}

// certB64 returns a fresh self-signed certificate, base64 DER.
func certB64(t *testing.T, notAfter time.Time) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func idpMetadata(entityID, cert string, validUntil time.Time) string {
	return fmt.Sprintf(`<?xml version="1.0"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s" validUntil="%s">
<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>%s</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.fi/sso"/>
</IDPSSODescriptor></EntityDescriptor>`, entityID, validUntil.UTC().Format(time.RFC3339), cert)
}

// Record builders in the national shape.

func setRecord(org, name string) map[string]any {
	return map[string]any{
		"deploymentPhase":     0,
		"organization":        map[string]any{"oid": org},
		"configurationEntity": map[string]any{"set": map[string]any{"name": name}, "attributes": []any{}},
	}
}

func samlSPRecord(t *testing.T, org string, setID int64, entityID string) map[string]any {
	return map[string]any{
		"deploymentPhase":   0,
		"organization":      map[string]any{"oid": org},
		"integrationGroups": []any{map[string]any{"id": setID}},
		"configurationEntity": map[string]any{
			"sp": map[string]any{"type": "saml", "name": "Materiaali", "metadata": map[string]any{
				"entityId":             entityID,
				"authnRequestsSigned":  false,
				"wantAssertionsSigned": true,
				"signingCertificates":  []string{certB64(t, time.Now().AddDate(1, 0, 0))},
				"assertionConsumerServiceUrls": []any{map[string]any{
					"bindings": "HTTP-POST", "location": "https://sp.example.fi/acs", "index": 0, "isDefault": true}},
			}},
			"attributes": []any{},
		},
	}
}

func oidcSPRecord(org string, setID int64) map[string]any {
	return map[string]any{
		"deploymentPhase":   0,
		"organization":      map[string]any{"oid": org},
		"integrationGroups": []any{map[string]any{"id": setID}},
		"configurationEntity": map[string]any{
			"sp": map[string]any{"type": "oidc", "name": "Peli", "metadata": map[string]any{
				"redirect_uris": []string{"https://rp.example.fi/cb"}, "grant_types": []string{"authorization_code"},
				"response_types": []string{"code"}, "scope": "openid profile",
			}},
			"attributes": []any{},
		},
	}
}

func wilmaRecord(org, idpID string, schools ...string) map[string]any {
	return map[string]any{
		"deploymentPhase": 0,
		"organization":    map[string]any{"oid": org},
		"configurationEntity": map[string]any{
			"idp": map[string]any{"type": "wilma", "idpId": idpID, "flowName": "Wilma", "hostname": "wilma.example.fi",
				"sharedSecret": "wilma-shared-secret", "institutionTypes": []int{11}},
			"attributes": []any{map[string]any{"name": "hostname", "content": "wilma.example.fi", "type": "data"}},
		},
		"discoveryInformation": map[string]any{"showSchools": true, "schools": schools, "excludedSchools": []string{}, "title": "Wilma"},
	}
}

func idOf(t *testing.T, r resp) int64 {
	t.Helper()
	var m struct {
		ID int64 `json:"id"`
	}
	r.json(t, &m)
	if m.ID == 0 {
		t.Fatalf("no id in %s", r.Body)
	}
	return m.ID
}

func multipartFile(t *testing.T, name string, data []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	return b.Bytes(), w.FormDataContentType()
}
