package oidc

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzAuthorizeRequest feeds arbitrary queries to the authorization
// request parser and endpoint. Whatever the input, an accepted request is
// well-formed, and the endpoint either shows the error page or redirects
// to a URI registered for the named client: never elsewhere.
func FuzzAuthorizeRequest(f *testing.F) {
	_, challenge := pkce()
	for _, q := range []url.Values{
		authReq(clientBasic),
		authReq(clientPublic, "code_challenge", challenge, "code_challenge_method", "S256", "prompt", "none"),
		authReq(clientBasic, "redirect_uri", "https://evil.example/"),
		authReq(clientBasic, "max_age", "10", "ui_locales", "sv-FI", "acr_values", "urn:mpass.id:authnsource:x"),
		authReq(clientBasic, "request", "x", "scope", "profile"),
	} {
		f.Add(q.Encode())
	}
	f.Add("client_id=a&client_id=b")
	f.Add("%zz")
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err == nil {
			if a, perr := parseAuthParams(q); perr == nil {
				if a.ClientID == "" || a.RedirectURI == "" || a.ResponseType != "code" || !slices.Contains(a.Scopes, "openid") ||
					(a.CodeChallenge != "" && !validChallenge(a.CodeChallenge)) || len(a.State) > maxParamLen ||
					(slices.Contains(a.Prompt, "none") && len(a.Prompt) > 1) || a.MaxAge < 0 {
					t.Fatalf("accepted a bad request: %+v", a)
				}
			} else if perr.Trusted && (a == nil || a.ClientID == "" || a.RedirectURI == "") {
				t.Fatalf("trusted error without client and redirect: %+v", perr)
			}
		}
		req := httptest.NewRequest(http.MethodGet, PathAuthorize, nil)
		req.URL.RawQuery = raw
		rec := httptest.NewRecorder()
		e.p.handleAuthorize(rec, req)
		loc := rec.Header().Get("Location")
		if loc == "" {
			if rec.Code != http.StatusBadRequest && rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d without a redirect", rec.Code)
			}
			return
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("bad Location %q", loc)
		}
		base := u.Scheme + "://" + u.Host + u.Path
		if base != redirectURI && base != "http://127.0.0.1:9/cb" {
			t.Fatalf("redirected to %q", loc)
		}
		if q.Get("client_id") == "" || !slices.ContainsFunc(e.clients[q.Get("client_id")].RedirectURIs,
			func(r string) bool { return r == q.Get("redirect_uri") }) {
			t.Fatalf("redirect for an untrusted request %q", raw)
		}
	})
}

// FuzzTokenRequest feeds arbitrary bodies and Authorization headers
// (including client assertions) to the token request parser and endpoint:
// no panic, no 5xx, and nothing unauthenticated gets tokens.
func FuzzTokenRequest(f *testing.F) {
	e := newEnv(f)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(clientBasic+":"+url.QueryEscape(testSecret)))
	f.Add("grant_type=authorization_code&code=abc&redirect_uri="+url.QueryEscape(redirectURI), basic)
	f.Add("grant_type=refresh_token&refresh_token=a.b&scope=openid", basic)
	f.Add("grant_type=authorization_code&code=x&redirect_uri=x&client_id="+clientPKJWT+
		"&client_assertion_type="+url.QueryEscape(assertionTypeJWT)+"&client_assertion="+e.assertion(clientPKJWT, nil, nil), "")
	f.Add("grant_type=authorization_code&code=x&redirect_uri=x&client_assertion_type="+url.QueryEscape(assertionTypeJWT)+
		"&client_assertion=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.x", "")
	f.Add("client_id=public-app&grant_type=authorization_code&code=x&redirect_uri=x&code_verifier=abc", "")
	f.Add("grant_type=x", "Bearer abc")
	f.Fuzz(func(t *testing.T, body, authz string) {
		if form, err := url.ParseQuery(body); err == nil {
			if tr, e := parseTokenRequest(authz, form); e == nil {
				if tr.Client == nil || tr.Client.ClientID == "" || tr.Client.Method == "" ||
					(tr.GrantType != grantAuthorizationCode && tr.GrantType != grantRefreshToken) ||
					((tr.Client.Method == authSecretJWT || tr.Client.Method == authPrivateKeyJWT) && tr.Client.Claims == nil) {
					t.Fatalf("accepted a bad token request: %+v", tr)
				}
			}
		}
		req := httptest.NewRequest(http.MethodPost, PathToken, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		e.p.handleToken(rec, req)
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
