package ui_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"html"
	"io"
	"log/slog"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/admin/ui"
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

func organisations() []model.Organisation {
	prov := func(oid, name string) model.Organisation {
		return model.Organisation{OID: oid, ParentOID: adminOrg, Name: model.LocalizedName{Fi: name, Sv: name + " (sv)"},
			Types: []string{model.OrgTypeEducationProvider}, Status: model.OrgActive, BusinessID: "1234567-8"}
	}
	school := func(oid, parent, code, name string, it int) model.Organisation {
		return model.Organisation{OID: oid, ParentOID: parent, Name: model.LocalizedName{Fi: name},
			Types: []string{model.OrgTypeSchool}, SchoolCode: code, InstitutionType: it, Status: model.OrgActive}
	}
	return []model.Organisation{
		{OID: adminOrg, Name: model.LocalizedName{Fi: "Opetushallitus"}, Types: []string{model.OrgTypeOther}, Status: model.OrgActive},
		prov(ownOrg, "Oma kunta"),
		prov(otherOrg, "Toinen kunta"),
		school("1.2.246.562.10.00000000101", ownOrg, "00001", "Ykköskoulu", 11),
		school("1.2.246.562.10.00000000102", ownOrg, "00002", "Kakkoslukio", 15),
		school("1.2.246.562.10.00000000110", otherOrg, "00010", "Toinen koulu", 11),
	}
}

// env is a running management service: the API and the pages on one
// server, and a store to check what was saved.
type env struct {
	t      *testing.T
	api    *admin.API
	st     *sqlite.Store
	sealer *keys.Sealer
	srv    *httptest.Server
}

const publicURL = "http://mpass.test"

func newEnv(t *testing.T, mod ...func(*ui.Config)) *env {
	t.Helper()
	st := sqlite.OpenTemp(t)
	sealer, err := keys.NewSealer(bytes.Repeat([]byte{7}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewRegistry(registry.NewLookup(organisations()))
	log := slog.New(slog.DiscardHandler)
	api, err := admin.New(admin.Config{PublicURL: publicURL, Dev: true}, admin.Deps{Store: st, Registry: reg, Sealer: sealer, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := ui.Config{Dev: true, PageSize: 2}
	for _, m := range mod {
		m(&cfg)
	}
	pages, err := ui.New(cfg, ui.Deps{API: api, Registry: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Routes(mux)
	pages.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, api: api, st: st, sealer: sealer, srv: srv}
}

// user is a browser: a cookie jar, no automatic redirects.
type user struct {
	e *env
	c *http.Client
}

// browser returns a browser signed in (through the development sign-in
// form) with kind in org; kind "" is a browser that is not signed in.
func (e *env) browser(kind admin.RoleKind, org string) *user {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &user{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if kind != "" {
		r := u.post("/admin/signin/dev", url.Values{"name": {"Testi " + string(kind)}, "kind": {string(kind)}, "org": {org}, "return": {"/admin/"}}, "")
		u.want(r, http.StatusSeeOther)
		if loc := r.Header.Get("Location"); loc != "/admin/" {
			e.t.Fatalf("sign-in went to %q", loc)
		}
	}
	return u
}

type page struct {
	Code   int
	Header http.Header
	Body   string
}

func (u *user) do(req *http.Request) page {
	u.e.t.Helper()
	res, err := u.c.Do(req)
	if err != nil {
		u.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, res.Header, string(b)}
}

func (u *user) get(path string) page {
	u.e.t.Helper()
	req, _ := http.NewRequest("GET", u.e.srv.URL+path, nil)
	return u.do(req)
}

// post sends a form; csrf "" sends no token, "auto" the session's.
func (u *user) post(path string, v url.Values, csrf string, hdr ...string) page {
	u.e.t.Helper()
	if csrf == "auto" {
		csrf = u.csrf()
	}
	if csrf != "" {
		v.Set("csrf_token", csrf)
	}
	req, _ := http.NewRequest("POST", u.e.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return u.do(req)
}

// upload sends a multipart form with one file.
func (u *user) upload(path string, v url.Values, field, name string, data []byte) page {
	u.e.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	v.Set("csrf_token", u.csrf())
	for k, vals := range v {
		for _, s := range vals {
			w.WriteField(k, s)
		}
	}
	fw, _ := w.CreateFormFile(field, name)
	fw.Write(data)
	w.Close()
	req, _ := http.NewRequest("POST", u.e.srv.URL+path, &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return u.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf reads the session's CSRF token from a page's hidden field.
func (u *user) csrf() string {
	u.e.t.Helper()
	p := u.want(u.get("/admin/"), 200)
	m := csrfRe.FindStringSubmatch(p.Body)
	if m == nil {
		u.e.t.Fatal("no CSRF token on the list page")
	}
	return m[1]
}

func (u *user) want(p page, code int) page {
	u.e.t.Helper()
	if p.Code != code {
		u.e.t.Fatalf("status %d, want %d: %s", p.Code, code, p.Body)
	}
	return p
}

// text is the page with entities decoded, for looking for texts.
func (p page) text() string { return html.UnescapeString(p.Body) }

func (p page) has(t *testing.T, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.text(), w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func (p page) lacks(t *testing.T, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if strings.Contains(p.text(), w) {
			t.Errorf("page has %q", w)
		}
	}
}

var idRe = regexp.MustCompile(`/admin/integrations/(\d+)`)

// createdID is the id a create redirected to.
func createdID(t *testing.T, p page) string {
	t.Helper()
	m := idRe.FindStringSubmatch(p.Header.Get("Location") + " " + p.Body)
	if m == nil {
		t.Fatalf("no integration id after create: %d %s %s", p.Code, p.Header.Get("Location"), p.Body)
	}
	return m[1]
}

// principal acts directly through the API's Go methods, for fixtures.
func principal(kind admin.RoleKind, org string) *admin.Principal {
	return &admin.Principal{Subject: "fixture", Roles: []admin.Role{{Kind: kind, OrgOID: org}}}
}

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

// fixtures creates, as the admin, a set, an OIDC service and a SAML
// service of ownOrg, and a set of otherOrg; it returns their ids.
func (e *env) fixtures() (setID, oidcID, samlID, otherSetID int64) {
	t := e.t
	ctx := t.Context()
	p := principal(admin.KindEditor, adminOrg)
	mk := func(role model.Role, typ, org string, f func(*model.Integration)) int64 {
		t.Helper()
		in, err := e.api.Template(p, role, typ, org)
		if err != nil {
			t.Fatal(err)
		}
		f(in)
		saved, _, err := e.api.Create(ctx, p, in)
		if err != nil {
			t.Fatal(err)
		}
		return saved.ID
	}
	setID = mk(model.RoleSet, "", ownOrg, func(in *model.Integration) { in.Set.Name = "Oppimateriaalit" })
	otherSetID = mk(model.RoleSet, "", otherOrg, func(in *model.Integration) { in.Set.Name = "Toisen palvelut" })
	oidcID = mk(model.RoleSP, "oidc", ownOrg, func(in *model.Integration) {
		in.SP.Name, in.SP.SetID = "Peli", setID
		in.SP.OIDC.RedirectURIs = []string{"https://peli.example.fi/cb"}
	})
	samlID = mk(model.RoleSP, "saml", ownOrg, func(in *model.Integration) {
		in.SP.Name, in.SP.SetID = "Kirjasto", setID
		in.SP.SAML.EntityID = "https://kirjasto.example.fi/sp"
		in.SP.SAML.ACS = []model.ACSEndpoint{{Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", Location: "https://kirjasto.example.fi/acs", IsDefault: true}}
		in.SP.SAML.SigningCertificates = []string{certB64(t, time.Now().Add(10*24*time.Hour))}
	})
	return
}
