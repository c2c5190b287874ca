package oidc

// Go versions of the checks of the OpenID Foundation's conformance suite
// (Basic OP and Config OP test plans) that apply to a code-flow provider.
// Each test names the suite module it follows; CONFORMANCE.md lists them.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// idToken verifies raw with the provider's published keys and returns its
// header and claims.
func (e *env) idToken(raw string) (jose.Header, map[string]any) {
	e.t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		e.t.Fatalf("ID token: %v", err)
	}
	h := tok.Headers[0]
	pk, err := e.ks.Verifier(h.KeyID)
	if err != nil {
		e.t.Fatalf("ID token kid %q: %v", h.KeyID, err)
	}
	var claims map[string]any
	if err := tok.Claims(pk.Key, &claims); err != nil {
		e.t.Fatalf("ID token signature: %v", err)
	}
	return h, claims
}

// login runs authorize + exchange for clientBasic with q and returns the
// token response and the ID token claims.
func (e *env) login(q url.Values) (map[string]any, map[string]any) {
	e.t.Helper()
	st, body := e.exchange(q.Get("client_id"), e.code(q))
	if st != 200 {
		e.t.Fatalf("exchange: %d %v", st, body)
	}
	_, claims := e.idToken(body["id_token"].(string))
	return body, claims
}

func getJSON(t *testing.T, u string) (map[string]any, http.Header) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m, resp.Header
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// oidcc-discovery-endpoint-verification (Config OP).
func TestConformanceDiscovery(t *testing.T) {
	e := newEnv(t)
	d, _ := getJSON(t, e.srv.URL+PathDiscovery)
	if d["issuer"] != e.srv.URL {
		t.Errorf("issuer %v", d["issuer"])
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"} {
		u, _ := d[k].(string)
		if !strings.HasPrefix(u, e.srv.URL+"/") {
			t.Errorf("%s = %q", k, u)
		}
	}
	must := map[string]string{
		"scopes_supported": "openid", "response_types_supported": "code", "subject_types_supported": "public",
		"id_token_signing_alg_values_supported": "RS256", "grant_types_supported": "authorization_code",
		"token_endpoint_auth_methods_supported": "client_secret_basic", "code_challenge_methods_supported": "S256",
		"claims_supported": "sub",
	}
	for k, v := range must {
		if !slices.Contains(strs(d[k]), v) {
			t.Errorf("%s lacks %s", k, v)
		}
	}
	if slices.Contains(strs(d["id_token_signing_alg_values_supported"]), "none") {
		t.Error("alg none offered")
	}
	if d["authorization_response_iss_parameter_supported"] != true || d["request_uri_parameter_supported"] != false {
		t.Error("iss / request_uri flags")
	}
}

// oidcc-server-rotate-keys (published keys), oidcc-idtoken-rs256,
// oidcc-idtoken-signature, oidcc-idtoken-unsigned (never alg none).
func TestConformanceJWKSAndIDTokenSignature(t *testing.T) {
	e := newEnv(t)
	jwks, h := getJSON(t, e.srv.URL+PathJWKS)
	if h.Get("Cache-Control") == "" {
		t.Error("JWKS without Cache-Control")
	}
	var set jose.JSONWebKeySet
	b, _ := json.Marshal(jwks)
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		if !k.IsPublic() || k.KeyID == "" || k.Use != "sig" {
			t.Errorf("published key %q public=%v use=%q", k.KeyID, k.IsPublic(), k.Use)
		}
		kids[k.KeyID] = true
	}
	_, body := e.exchange(clientBasic, e.code(authReq(clientBasic)))
	hdr, _ := e.idToken(body["id_token"].(string))
	if hdr.Algorithm != "RS256" || !kids[hdr.KeyID] || hdr.ExtraHeaders["typ"] != "JWT" {
		t.Errorf("ID token header %+v", hdr)
	}
	_, body = e.exchange(clientES256, e.code(authReq(clientES256)))
	if hdr, _ := e.idToken(body["id_token"].(string)); hdr.Algorithm != "ES256" || !kids[hdr.KeyID] {
		t.Errorf("ES256 client's header %+v", hdr)
	}
}

// oidcc-server (the basic code flow): iss, aud, sub, exp, iat, auth_time,
// nonce, at_hash; token response shape and no-store.
func TestConformanceIDTokenClaims(t *testing.T) {
	e := newEnv(t)
	q := authReq(clientBasic)
	code := e.code(q)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	st, body, h := e.tokenCall(form, clientBasic, testSecret)
	if st != 200 {
		t.Fatalf("%d %v", st, body)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" {
		t.Errorf("token response caching %q %q", h.Get("Cache-Control"), h.Get("Pragma"))
	}
	if body["token_type"] != "Bearer" || body["expires_in"] == nil || body["scope"] != "openid profile" {
		t.Errorf("token response %v", body)
	}
	_, c := e.idToken(body["id_token"].(string))
	now := float64(time.Now().Unix())
	if c["iss"] != e.srv.URL || c["aud"] != clientBasic || c["sub"] != testUser().UID || c["nonce"] != q.Get("nonce") {
		t.Errorf("claims %v", c)
	}
	if iat := c["iat"].(float64); iat < now-5 || iat > now+5 {
		t.Errorf("iat %v", iat)
	}
	if exp := c["exp"].(float64); exp <= now {
		t.Errorf("exp %v", exp)
	}
	if at := c["auth_time"].(float64); at > now || at < now-3600 {
		t.Errorf("auth_time %v", at)
	}
	if c["at_hash"] != leftHash(body["access_token"].(string)) {
		t.Error("at_hash")
	}
	if c["acr"] != "urn:mpass.id:authnsource:testsource" {
		t.Errorf("acr %v", c["acr"])
	}
}

// oidcc-ensure-request-without-nonce-succeeds-for-code-flow.
func TestConformanceNoNonce(t *testing.T) {
	e := newEnv(t)
	_, c := e.login(authReq(clientBasic, "nonce", ""))
	if _, ok := c["nonce"]; ok {
		t.Error("nonce in ID token without one in the request")
	}
}

// oidcc-scope-profile, oidcc-scope-email/-address/-phone/-all (unsupported
// scopes are ignored), oidcc-ensure-other-scope-order-succeeds.
func TestConformanceScopes(t *testing.T) {
	e := newEnv(t)
	for _, scope := range []string{"openid profile", "profile openid", "openid email", "openid profile email address phone", "openid"} {
		body, c := e.login(authReq(clientBasic, "scope", scope))
		wantProfile := strings.Contains(scope, "profile")
		if (c["given_name"] != nil) != wantProfile {
			t.Errorf("scope %q: given_name %v", scope, c["given_name"])
		}
		want := "openid"
		if wantProfile {
			want = "openid profile"
		}
		if body["scope"] != want {
			t.Errorf("scope %q: granted %v", scope, body["scope"])
		}
	}
}

// oidcc-userinfo-get, oidcc-userinfo-post-header, oidcc-userinfo-post-body.
func TestConformanceUserinfo(t *testing.T) {
	e := newEnv(t)
	_, body := e.exchange(clientBasic, e.code(authReq(clientBasic)))
	at := body["access_token"].(string)
	_, idc := e.idToken(body["id_token"].(string))
	check := func(name string, req *http.Request) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ui map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&ui)
		if resp.StatusCode != 200 || ui["sub"] != idc["sub"] || ui["given_name"] != "Testi" ||
			ui["urn:mpass.id:uid"] != testUser().UID {
			t.Errorf("%s: %d %v", name, resp.StatusCode, ui)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+PathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+at)
	check("GET header", req)
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+PathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+at)
	check("POST header", req)
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+PathUserinfo, strings.NewReader("access_token="+at))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	check("POST body", req)
}

// oidcc-prompt-login: a second login with prompt=login authenticates again
// (a later auth_time).
func TestConformancePromptLogin(t *testing.T) {
	e := newEnv(t)
	_, first := e.login(authReq(clientBasic))
	_, second := e.login(authReq(clientBasic, "prompt", "login"))
	if !e.flow.last().ForceAuthn {
		t.Error("prompt=login did not force authentication")
	}
	if second["auth_time"].(float64) <= first["auth_time"].(float64) {
		t.Errorf("auth_time %v then %v", first["auth_time"], second["auth_time"])
	}
	e.login(authReq(clientBasic, "prompt", "select_account"))
	if !e.flow.last().ForceAuthn {
		t.Error("prompt=select_account did not force authentication")
	}
	e.login(authReq(clientBasic, "prompt", "consent"))
	if e.flow.last().ForceAuthn || e.flow.last().Passive {
		t.Error("prompt=consent changed the login")
	}
}

// oidcc-prompt-none-logged-in and oidcc-prompt-none-not-logged-in (see
// TestPromptNoneWithoutSession); oidcc-id-token-hint (an id_token_hint with
// prompt=none is accepted).
func TestConformancePromptNoneLoggedIn(t *testing.T) {
	e := newEnv(t)
	body, first := e.login(authReq(clientBasic))
	_, second := e.login(authReq(clientBasic, "prompt", "none", "id_token_hint", body["id_token"].(string)))
	if !e.flow.last().Passive || first["sub"] != second["sub"] || first["auth_time"] != second["auth_time"] {
		t.Errorf("passive login: %v / %v", first, second)
	}
}

// oidcc-max-age-1, oidcc-max-age-10000: max_age reaches the broker and
// auth_time is present.
func TestConformanceMaxAge(t *testing.T) {
	e := newEnv(t)
	for v, want := range map[string]time.Duration{"1": time.Second, "10000": 10000 * time.Second, "0": 0} {
		_, c := e.login(authReq(clientBasic, "max_age", v))
		if !e.flow.last().HasMaxAge || e.flow.last().MaxAge != want || c["auth_time"] == nil {
			t.Errorf("max_age %s: request %+v auth_time %v", v, e.flow.last().MaxAge, c["auth_time"])
		}
	}
}

// oidcc-ensure-request-with-unknown-parameter-succeeds, oidcc-display-page,
// oidcc-display-popup, oidcc-login-hint, oidcc-ui-locales,
// oidcc-claims-locales, oidcc-claims-essential (the claims parameter is
// ignored), oidcc-ensure-request-with-acr-values-succeeds.
func TestConformanceOptionalParameters(t *testing.T) {
	e := newEnv(t)
	e.login(authReq(clientBasic, "unknown_param", "x", "display", "page"))
	e.login(authReq(clientBasic, "display", "popup"))
	e.login(authReq(clientBasic, "login_hint", "pupil@school.example", "ui_locales", "se-SE sv-FI en", "claims_locales", "sv"))
	if r := e.flow.last(); r.LoginHint != "pupil@school.example" || r.Language != "sv" {
		t.Errorf("login_hint %q language %q", r.LoginHint, r.Language)
	}
	e.login(authReq(clientBasic, "claims", `{"id_token":{"acr":{"essential":true}}}`))
	e.login(authReq(clientBasic, "acr_values", "urn:mpass.id:authnsource:testsource urn:other 1"))
	if r := e.flow.last(); len(r.Sources) != 1 || r.Sources[0] != "testsource" {
		t.Errorf("sources %v", r.Sources)
	}
}

// oidcc-ensure-post-request-succeeds: the authorization request by POST.
func TestConformanceAuthorizePOST(t *testing.T) {
	e := newEnv(t)
	q := authReq(clientBasic)
	resp, err := noRedirect().PostForm(e.srv.URL+PathAuthorize, q)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := e.redirectParams(resp)
	if got.Get("code") == "" || got.Get("state") != q.Get("state") || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%d %v", resp.StatusCode, got)
	}
}

// oidcc-codereuse, oidcc-codereuse-30seconds: see TestReusedCodeRevokesTokens.
// oidcc-ensure-registered-redirect-uri, oidcc-redirect-uri-query-mismatch,
// oidcc-redirect-uri-query-added: see TestAuthorizeUntrustedClientOrRedirect.

// oidcc-redirect-uri-query-OK: a registered redirect_uri with a query keeps
// it.
func TestConformanceRedirectURIQuery(t *testing.T) {
	e := newEnv(t)
	q := authReq(clientBasic, "redirect_uri", redirectURI+"?foo=bar")
	resp := e.authorize(q)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("foo") != "bar" || loc.Query().Get("code") == "" {
		t.Fatalf("location %s", loc)
	}
	errorPageResponse(t, e.authorize(authReq(clientBasic, "redirect_uri", redirectURI+"?foo=baz")))
	errorPageResponse(t, e.authorize(authReq(clientBasic, "redirect_uri", redirectURI+"?foo=bar&x=1")))
	st, body := e.exchange(clientBasic, loc.Query().Get("code"), "redirect_uri", redirectURI+"?foo=bar")
	if st != 200 {
		t.Fatalf("%d %v", st, body)
	}
}

// oidcc-refresh-token: the refreshed ID token keeps iss, sub, aud,
// auth_time; a new access token works.
func TestConformanceRefreshToken(t *testing.T) {
	e := newEnv(t)
	body, first := e.login(authReq(clientRefr))
	st, r, _ := e.tokenCall(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}, clientRefr, testSecret)
	if st != 200 {
		t.Fatalf("%d %v", st, r)
	}
	_, second := e.idToken(r["id_token"].(string))
	for _, k := range []string{"iss", "sub", "aud", "auth_time", "acr", "sid"} {
		if first[k] != second[k] {
			t.Errorf("%s: %v then %v", k, first[k], second[k])
		}
	}
	if _, ok := second["nonce"]; ok {
		t.Error("nonce in a refreshed ID token")
	}
	if st, _, _ := e.userinfo(r["access_token"].(string)); st != 200 {
		t.Error("refreshed access token")
	}
}

// The CORS and method handling of the public endpoints.
func TestConformancePublicEndpoints(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+PathToken, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "GET, POST" {
		t.Errorf("preflight %d %v", resp.StatusCode, resp.Header)
	}
	// An answer itself names only the origin that may read it.
	resp, err = http.Get(e.srv.URL + PathUserinfo)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("userinfo answer's CORS headers: %v", resp.Header)
	}
	resp, err = http.Get(e.srv.URL + PathDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !json.Valid(b) {
		t.Error("discovery is not JSON")
	}
}
