package app

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"crypto/rand"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/testenv"
)

// startDev runs a whole dev instance (SQLite, demo registry and
// integrations) on a free loopback port and returns it with its base URL.
func startDev(t *testing.T) (*App, string) {
	t.Helper()
	return StartForTest(t, TestOptions{})
}

// startDevOn runs the dev instance on the named backend: "sqlite", or
// "postgres" on a fresh schema of the test server (skipped, or failed under
// MPASSID_REQUIRE_ALL, without one).
func startDevOn(t *testing.T, backend string) (*App, string) {
	t.Helper()
	if backend == "postgres" {
		return StartForTest(t, TestOptions{PostgresDSN: freshSchema(t)})
	}
	return startDev(t)
}

// freshSchema creates a schema on the test PostgreSQL, dropped when the
// test ends, and returns a DSN that uses it.
func freshSchema(t *testing.T) string {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	schema := "e2e_" + strings.ToLower(rand.Text())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

type testBrowser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *testBrowser {
	jar, _ := cookiejar.New(nil)
	return &testBrowser{t: t, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

func (b *testBrowser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *testBrowser) get(u string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

func (b *testBrowser) post(u string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	formAction  = regexp.MustCompile(`<form[^>]*method="post"[^>]*action="([^"]+)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// submit posts the page's first POST form with its hidden fields plus extra.
func (b *testBrowser) submit(page string, extra url.Values) (*http.Response, string) {
	b.t.Helper()
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no POST form on page: %s", page)
	}
	form := url.Values{}
	for _, h := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	for k, v := range extra {
		form[k] = v
	}
	return b.post(html.UnescapeString(m[1]), form)
}

// chooseTestUser picks a user on the test source's page by username.
func (b *testBrowser) chooseTestUser(page, username string) (*http.Response, string) {
	b.t.Helper()
	m := regexp.MustCompile(`name="user" id="[^"]+" value="(` + regexp.QuoteMeta(username) + `\.[^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("test user %s not offered: %s", username, page)
	}
	return b.submit(page, url.Values{"user": {m[1]}})
}

// A real relying party (coreos/go-oidc with x/oauth2, PKCE and
// client_secret_basic) logs in through the running broker and the built-in
// test source, gets the data model claims, and a second login in the same
// browser reuses the SSO session.
func TestOIDCLoginThroughTestSource(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { testOIDCLoginThroughTestSource(t, backend) })
	}
}

func testOIDCLoginThroughTestSource(t *testing.T, backend string) {
	a, base := startDevOn(t, backend)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	redirect := base + "/demo/oidc/callback"
	oc := &oauth2.Config{ClientID: a.Demo().OIDCClientID, ClientSecret: a.Demo().OIDCClientSecret,
		Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "profile"}}

	br := newBrowser(t)
	br.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	login := func(prompt string) (code string, page string) {
		verifier := oauth2.GenerateVerifier()
		opts := []oauth2.AuthCodeOption{oidc.Nonce("n-" + prompt), oauth2.S256ChallengeOption(verifier)}
		if prompt != "" {
			opts = append(opts, oauth2.SetAuthURLParam("prompt", prompt))
		}
		resp, body := br.get(oc.AuthCodeURL("st", opts...))
		if resp.StatusCode == http.StatusOK && strings.Contains(body, `name="user"`) {
			resp, body = br.chooseTestUser(body, "opettaja.monikoulu")
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), redirect) {
			return "", body
		}
		if loc.Query().Get("state") != "st" {
			t.Errorf("state not returned: %s", loc)
		}
		tok, err := oc.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("token exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: oc.ClientID}).Verify(ctx, raw)
		if err != nil {
			t.Fatalf("ID token: %v", err)
		}
		var claims map[string]any
		_ = idt.Claims(&claims)
		if claims["acr"] != "urn:mpass.id:authnsource:Testi" || !strings.HasPrefix(idt.Subject, "MPASSOID.") {
			t.Errorf("claims: %v", claims)
		}
		roles, _ := claims["urn:mpass.id:role"].([]any)
		if len(roles) != 3 {
			t.Errorf("teacher of three schools got roles %v", roles)
		}
		ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil || ui.Subject != idt.Subject {
			t.Fatalf("userinfo: %v %v", ui, err)
		}
		return loc.Query().Get("code"), ""
	}
	if code, page := login(""); code == "" {
		t.Fatalf("first login did not reach the client: %s", page)
	}
	// The same browser now has an SSO session: prompt=none succeeds.
	if code, page := login("none"); code == "" {
		t.Fatalf("SSO login did not reach the client: %s", page)
	}
	// A fresh browser has none: prompt=none answers login_required.
	br2 := newBrowser(t)
	br2.c.CheckRedirect = br.c.CheckRedirect
	resp, _ := br2.get(oc.AuthCodeURL("st", oauth2.SetAuthURLParam("prompt", "none"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=login_required") {
		t.Errorf("prompt=none without session: %d %s", resp.StatusCode, loc)
	}
	// The two ID tokens are counted among the signatures of the broker's
	// keys, with their CPU time.
	_, metrics := br.get(base + "/metrics")
	var signatures, cpu float64
	for _, l := range strings.Split(metrics, "\n") {
		fmt.Sscanf(l, `mpassid_signatures_total{key="RSA-2048"} %g`, &signatures)
		fmt.Sscanf(l, `mpassid_signature_cpu_seconds_total{key="RSA-2048"} %g`, &cpu)
	}
	if signatures < 2 || cpu <= 0 {
		t.Errorf("RSA-2048 signatures %g taking %g s; want at least the two ID tokens:\n%s", signatures, cpu, grepLines(metrics, "mpassid_signature"))
	}
}

// A real SAML service (crewjam's samlsp, mounted as the dev demo service)
// logs in through the running broker and the test source, receives the
// data model attributes, and logs out.
func TestSAMLLoginAndLogoutThroughTestSource(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { testSAMLLoginAndLogoutThroughTestSource(t, backend) })
	}
}

func testSAMLLoginAndLogoutThroughTestSource(t *testing.T, backend string) {
	_, base := startDevOn(t, backend)
	br := newBrowser(t)
	_, page := br.get(base + "/demo/saml/login")
	_, page = br.chooseTestUser(page, "oppilas.revontuli")
	if !strings.Contains(page, "SAMLResponse") {
		t.Fatalf("no SAML response form: %s", page)
	}
	resp, page := br.submit(page, nil)
	if resp.Request.URL.Path != "/demo/saml/" {
		t.Fatalf("ended at %s: %s", resp.Request.URL, page)
	}
	for _, want := range []string{"urn:mpass.id:uid", "MPASSOID.", "urn:mpass.id:role", "99001;7A;Oppilas;1;", "Revontulten koulu", "urn:mpass.id:classLevel"} {
		if !strings.Contains(page, want) {
			t.Errorf("service page lacks %q", want)
		}
	}
	// Logout from the service ends the broker session: the next login asks
	// for the test user again instead of answering at once.
	resp, page = br.post(base+"/demo/saml/logout", nil)
	for i := 0; i < 5 && (strings.Contains(page, "SAMLRequest") || strings.Contains(page, "SAMLResponse")); i++ {
		resp, page = br.submit(page, nil)
	}
	_, page = br.get(base + "/demo/saml/login")
	if !strings.Contains(page, `name="user"`) {
		t.Errorf("after logout the broker still had a session (status %d): %s", resp.StatusCode, page)
	}
}

// The expiry metric counts an integration whose certificate expires soon.
func TestExpiryMetric(t *testing.T) {
	a, base := startDev(t)
	ctx := context.Background()
	in, err := a.Store().GetIntegration(ctx, 4000001)
	if err != nil {
		t.Fatal(err)
	}
	soon := time.Now().Add(72 * time.Hour)
	in.IdP.SigningCertificateValidUntil = &soon
	if _, err := a.Store().UpdateIntegration(ctx, in, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.broker.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	_, body := newBrowser(t).get(base + "/metrics")
	if !strings.Contains(body, `mpassid_integration_expiries{expired="false",what="signingCertificate"} 1`) {
		t.Errorf("expiry not in metrics:\n%s", grepLines(body, "mpassid_integration_expiries"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// An OIDC logout reaches the session's SAML services through the browser:
// after the OIDC demo client logs out, the SAML demo service no longer has
// its user, and the browser ends at the client's post-logout address.
func TestOIDCLogoutReachesSAMLService(t *testing.T) {
	_, base := startDev(t)
	br := newBrowser(t)
	follow := func(resp *http.Response, page string) (*http.Response, string) {
		for i := 0; i < 8 && (strings.Contains(page, `name="SAMLResponse"`) || strings.Contains(page, `name="SAMLRequest"`)); i++ {
			resp, page = br.submit(page, nil)
		}
		return resp, page
	}
	// SAML first, through the test source; then OIDC from the SSO session.
	_, page := br.get(base + "/demo/saml/login")
	resp, page := follow(br.chooseTestUser(page, "oppilas.revontuli"))
	if !strings.Contains(page, "urn:mpass.id:uid") {
		t.Fatalf("SAML login did not complete (%s): %s", resp.Request.URL, page)
	}
	_, page = br.get(base + "/demo/oidc/login")
	if !strings.Contains(page, "ID token claims") {
		t.Fatalf("OIDC login from the SSO session did not complete: %s", page)
	}
	// Log out at the OIDC client.
	resp, page = follow(br.post(base+"/demo/oidc/logout", nil))
	if resp.Request.URL.Path != "/demo/oidc/" || strings.Contains(page, "ID token claims") {
		t.Fatalf("OIDC logout ended at %s: %s", resp.Request.URL, page)
	}
	// The SAML service's own session ended too.
	_, page = br.get(base + "/demo/saml/")
	if strings.Contains(page, "urn:mpass.id:uid") {
		t.Errorf("the SAML service still has its user after the OIDC logout")
	}
}

// A registry sync by another instance reaches this one through the
// configuration watch; an integration edit does not reload the registry.
func TestRegistryReloadFollowsSyncs(t *testing.T) {
	a, _ := startDev(t)
	ctx := context.Background()
	before := a.Registry().Current()
	orgs, err := a.Store().ListOrganisations(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// An integration edit: the catalog reloads, the registry is kept.
	in, err := a.Store().GetIntegration(ctx, DemoTestSourceID)
	if err != nil {
		t.Fatal(err)
	}
	in.IdP.Discovery.Title = "Muutettu"
	if _, err := a.Store().UpdateIntegration(ctx, in, "test"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "catalog reload", func() bool {
		src, ok := a.broker.Catalog().Source(DemoTestSourceID)
		return ok && src.IdP.Discovery.Title == "Muutettu"
	})
	if a.Registry().Current() != before {
		t.Error("an integration edit reloaded the registry")
	}

	// Another instance's sync: one organisation fewer, recorded as ok.
	if _, err := a.Store().ReplaceOrganisations(ctx, orgs[:len(orgs)-1]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store().RecordSyncRun(ctx, model.SyncRun{StartedAt: time.Now(), Outcome: model.SyncOK, Total: len(orgs) - 1}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "registry reload", func() bool { return a.Registry().Current().Len() == len(orgs)-1 })
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 10 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
