package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/broker"
)

// errorPageResponse checks that resp is the HTML error page (no redirect).
func errorPageResponse(t *testing.T, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("status %d location %q, want the error page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
}

// redirectError checks that resp redirects to the client with error code,
// the request's state and iss.
func (e *env) redirectError(resp *http.Response, q url.Values, code string) {
	e.t.Helper()
	got := e.redirectParams(resp)
	if got.Get("error") != code {
		e.t.Fatalf("error %q (%s), want %q", got.Get("error"), got.Get("error_description"), code)
	}
	if got.Get("code") != "" {
		e.t.Fatal("a code came with an error")
	}
	if got.Get("state") != q.Get("state") || got.Get("iss") != e.srv.URL {
		e.t.Fatalf("state %q iss %q", got.Get("state"), got.Get("iss"))
	}
}

func tokenErr(t *testing.T, status int, body map[string]any, wantStatus int, wantErr string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantErr {
		t.Fatalf("token: %d %v, want %d %s", status, body, wantStatus, wantErr)
	}
}

func TestAuthorizeUntrustedClientOrRedirect(t *testing.T) {
	e := newEnv(t)
	for name, q := range map[string]url.Values{
		"wrong redirect_uri":       authReq(clientBasic, "redirect_uri", "https://evil.example/cb"),
		"redirect_uri prefix":      authReq(clientBasic, "redirect_uri", redirectURI+"/more"),
		"redirect_uri with query":  authReq(clientBasic, "redirect_uri", redirectURI+"?x=1"),
		"redirect_uri case":        authReq(clientBasic, "redirect_uri", "https://RP.example/cb"),
		"missing redirect_uri":     authReq(clientBasic, "redirect_uri", ""),
		"unknown client":           authReq("nobody"),
		"missing client":           authReq(clientBasic, "client_id", ""),
		"repeated client_id":       func() url.Values { q := authReq(clientBasic); q.Add("client_id", clientPost); return q }(),
		"repeated redirect_uri":    func() url.Values { q := authReq(clientBasic); q.Add("redirect_uri", redirectURI); return q }(),
		"state too long":           authReq(clientBasic, "state", strings.Repeat("s", 3000)),
		"redirect_uri of a client": authReq(clientBasic, "redirect_uri", "http://127.0.0.1:9/cb/"),
	} {
		t.Run(name, func(t *testing.T) {
			errorPageResponse(t, e.authorize(q))
		})
	}
	if e.flow.last().ServiceID != 0 {
		t.Error("an untrusted request reached the broker")
	}
}

func TestAuthorizeErrorsRedirected(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce()
	for name, c := range map[string]struct {
		q    url.Values
		code string
	}{
		"response_type missing": {authReq(clientBasic, "response_type", ""), errInvalidRequest},
		"implicit":              {authReq(clientBasic, "response_type", "id_token"), errUnsupportedResponseType},
		"hybrid":                {authReq(clientBasic, "response_type", "code id_token"), errUnsupportedResponseType},
		"no openid scope":       {authReq(clientBasic, "scope", "profile"), errInvalidScope},
		"PKCE plain":            {authReq(clientPublic, "code_challenge", challenge, "code_challenge_method", "plain"), errInvalidRequest},
		"PKCE method missing":   {authReq(clientPublic, "code_challenge", challenge), errInvalidRequest},
		"PKCE short challenge":  {authReq(clientPublic, "code_challenge", "abc", "code_challenge_method", "S256"), errInvalidRequest},
		"public without PKCE":   {authReq(clientPublic), errInvalidRequest},
		"prompt none+login":     {authReq(clientBasic, "prompt", "none login"), errInvalidRequest},
		"bad max_age":           {authReq(clientBasic, "max_age", "-1"), errInvalidRequest},
		"request object":        {authReq(clientBasic, "request", "eyJhbGciOiJub25lIn0.e30."), errRequestNotSupported},
		"request_uri":           {authReq(clientBasic, "request_uri", "https://rp.example/req"), errRequestURINotSupported},
		"form_post":             {authReq(clientBasic, "response_mode", "form_post"), errInvalidRequest},
		"repeated scope":        {func() url.Values { q := authReq(clientBasic); q.Add("scope", "openid"); return q }(), errInvalidRequest},
	} {
		t.Run(name, func(t *testing.T) {
			e.redirectError(e.authorize(c.q), c.q, c.code)
		})
	}
}

func TestPromptNoneWithoutSession(t *testing.T) {
	e := newEnv(t)
	q := authReq(clientBasic, "prompt", "none")
	e.redirectError(e.authorize(q), q, errLoginRequired)
	if !e.flow.last().Passive {
		t.Error("prompt=none did not make the request passive")
	}
}

func TestLoginErrorsMapped(t *testing.T) {
	e := newEnv(t)
	for code, want := range map[string]string{"cancelled": errAccessDenied, "no_source": errAccessDenied, "failed": errServerError} {
		e.flow.mu.Lock()
		e.flow.errCode = broker.ErrorCode(code)
		e.flow.mu.Unlock()
		q := authReq(clientBasic)
		e.redirectError(e.authorize(q), q, want)
	}
}

func TestWrongRedirectURIAtToken(t *testing.T) {
	e := newEnv(t)
	code := e.code(authReq(clientBasic))
	st, body := e.exchange(clientBasic, code, "redirect_uri", "http://127.0.0.1:9/cb")
	tokenErr(t, st, body, 400, errInvalidGrant)
}

func TestReusedCodeRevokesTokens(t *testing.T) {
	e := newEnv(t)
	code := e.code(authReq(clientRefr))
	st, first := e.exchange(clientRefr, code)
	if st != 200 {
		t.Fatalf("first exchange: %d %v", st, first)
	}
	access := first["access_token"].(string)
	if st, _, _ := e.userinfo(access); st != 200 {
		t.Fatalf("userinfo before reuse: %d", st)
	}
	st, body := e.exchange(clientRefr, code)
	tokenErr(t, st, body, 400, errInvalidGrant)
	if st, _, h := e.userinfo(access); st != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("access token still works after code reuse: %d", st)
	}
	st, body, _ = e.tokenCall(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}}, clientRefr, testSecret)
	tokenErr(t, st, body, 400, errInvalidGrant)
}

func TestPKCEVerifier(t *testing.T) {
	e := newEnv(t)
	verifier, challenge := pkce()
	q := authReq(clientPublic, "code_challenge", challenge, "code_challenge_method", "S256")
	form := func(code, v string) url.Values {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "client_id": {clientPublic}}
		if v != "" {
			f.Set("code_verifier", v)
		}
		return f
	}
	other, _ := pkce()
	st, body, _ := e.tokenCall(form(e.code(q), other), "", "")
	tokenErr(t, st, body, 400, errInvalidGrant)
	st, body, _ = e.tokenCall(form(e.code(q), ""), "", "")
	tokenErr(t, st, body, 400, errInvalidGrant)
	st, body, _ = e.tokenCall(form(e.code(q), "short"), "", "")
	tokenErr(t, st, body, 400, errInvalidGrant)
	st, body, _ = e.tokenCall(form(e.code(q), verifier), "", "")
	if st != 200 {
		t.Fatalf("right verifier: %d %v", st, body)
	}
	// A verifier without a challenge is a downgrade attempt.
	code := e.code(authReq(clientBasic))
	st, body = e.exchange(clientBasic, code, "code_verifier", verifier)
	tokenErr(t, st, body, 400, errInvalidGrant)
}

func TestWrongClientSecretChangesNothing(t *testing.T) {
	e := newEnv(t)
	code := e.code(authReq(clientBasic))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	st, body, h := e.tokenCall(form, clientBasic, "wrong")
	tokenErr(t, st, body, 401, errInvalidClient)
	if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("WWW-Authenticate %q", h.Get("WWW-Authenticate"))
	}
	// The code survives a failed client authentication.
	if st, body := e.exchange(clientBasic, code); st != 200 {
		t.Fatalf("after a wrong secret: %d %v", st, body)
	}
}

func TestClientAuthMethodEnforced(t *testing.T) {
	e := newEnv(t)
	code := e.code(authReq(clientBasic))
	// basic client using client_secret_post
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {clientBasic}, "client_secret": {testSecret}}
	st, body, _ := e.tokenCall(form, "", "")
	tokenErr(t, st, body, 401, errInvalidClient)
	// two methods at once
	st, body, _ = e.tokenCall(form, clientBasic, testSecret)
	tokenErr(t, st, body, 400, errInvalidRequest)
	// confidential client without authentication
	form.Del("client_secret")
	st, body, _ = e.tokenCall(form, "", "")
	tokenErr(t, st, body, 401, errInvalidClient)
	// public client presenting a secret
	pform := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {redirectURI}}
	st, body, _ = e.tokenCall(pform, clientPublic, "anything")
	tokenErr(t, st, body, 401, errInvalidClient)
	// and the code still works
	if st, body := e.exchange(clientBasic, code); st != 200 {
		t.Fatalf("%d %v", st, body)
	}
}

func TestExpiredCode(t *testing.T) {
	e := newEnv(t)
	code := e.code(authReq(clientBasic))
	e.clock.Advance(DefaultCodeLifetime + time.Second)
	st, body := e.exchange(clientBasic, code)
	tokenErr(t, st, body, 400, errInvalidGrant)
}

func TestCodeForAnotherClient(t *testing.T) {
	e := newEnv(t)
	code := e.code(authReq(clientBasic))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {clientPost}, "client_secret": {testSecret}}
	st, body, _ := e.tokenCall(form, "", "")
	tokenErr(t, st, body, 400, errInvalidGrant)
}

func TestUnknownCodeAndGrant(t *testing.T) {
	e := newEnv(t)
	st, body := e.exchange(clientBasic, randomToken())
	tokenErr(t, st, body, 400, errInvalidGrant)
	// A real code with one character changed does not open.
	code := e.code(authReq(clientBasic))
	i := len(code) / 2
	flipped := code[:i] + string("AB"[boolIndex(code[i] == 'A')]) + code[i+1:]
	st, body = e.exchange(clientBasic, flipped)
	tokenErr(t, st, body, 400, errInvalidGrant)
	// A code sealed with another purpose's key context does not either.
	other, err := e.p.sealer.SealString(`{"g":"x","d":{}}`, "something else")
	if err != nil {
		t.Fatal(err)
	}
	st, body = e.exchange(clientBasic, other)
	tokenErr(t, st, body, 400, errInvalidGrant)
	st, body, _ = e.tokenCall(url.Values{"grant_type": {"password"}, "username": {"a"}}, clientBasic, testSecret)
	tokenErr(t, st, body, 400, errUnsupportedGrantType)
	st, body, _ = e.tokenCall(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, clientBasic, testSecret)
	tokenErr(t, st, body, 400, errUnauthorizedClient)
}

func TestBadClientAssertions(t *testing.T) {
	e := newEnv(t)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := e.clock.Now()
	replayed := e.assertion(clientPKURI, nil, nil)
	for name, c := range map[string]struct {
		client    string
		assertion string
	}{
		"wrong audience":   {clientPKJWT, e.assertion(clientPKJWT, nil, func(m map[string]any) { m["aud"] = "https://other.example/token" })},
		"expired":          {clientPKJWT, e.assertion(clientPKJWT, nil, func(m map[string]any) { m["exp"] = now.Add(-time.Minute).Unix() })},
		"no exp":           {clientPKJWT, e.assertion(clientPKJWT, nil, func(m map[string]any) { delete(m, "exp") })},
		"exp far away":     {clientPKJWT, e.assertion(clientPKJWT, nil, func(m map[string]any) { m["exp"] = now.Add(48 * time.Hour).Unix() })},
		"no jti":           {clientPKJWT, e.assertion(clientPKJWT, nil, func(m map[string]any) { delete(m, "jti") })},
		"iss is not sub":   {clientPKJWT, e.assertion(clientPKJWT, nil, func(m map[string]any) { m["iss"] = clientPKURI })},
		"unknown key":      {clientPKJWT, e.assertion(clientPKJWT, otherKey, nil)},
		"HS256 for pk jwt": {clientPKJWT, e.assertion(clientPKJWT, []byte(testSecret), nil)},
		"wrong HS secret":  {clientSJWT, e.assertion(clientSJWT, []byte(strings.Repeat("x", 48)), nil)},
		"ES256 for secret": {clientSJWT, e.assertion(clientSJWT, nil, nil)},
		"not yet valid":    {clientPKJWT, e.assertion(clientPKJWT, nil, func(m map[string]any) { m["nbf"] = now.Add(10 * time.Minute).Unix() })},
		"replayed jti":     {clientPKURI, replayed},
		"garbage":          {clientPKJWT, "a.b.c"},
		"alg none":         {clientPKJWT, "eyJhbGciOiJub25lIn0.eyJpc3MiOiJwcml2YXRlLWtleS1hcHAifQ."},
	} {
		t.Run(name, func(t *testing.T) {
			code := e.code(authReq(c.client))
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
				"client_id": {c.client}, "client_assertion_type": {assertionTypeJWT}, "client_assertion": {c.assertion}}
			if name == "replayed jti" {
				if st, body, _ := e.tokenCall(form, "", ""); st != 200 {
					t.Fatalf("first use: %d %v", st, body)
				}
				form.Set("code", e.code(authReq(c.client)))
			}
			st, body, _ := e.tokenCall(form, "", "")
			tokenErr(t, st, body, 401, errInvalidClient)
		})
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	code := e.code(authReq(clientRefr))
	st, first := e.exchange(clientRefr, code)
	if st != 200 || first["refresh_token"] == nil {
		t.Fatalf("%d %v", st, first)
	}
	refresh := func(rt string, extra ...string) (int, map[string]any) {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		st, b, _ := e.tokenCall(f, clientRefr, testSecret)
		return st, b
	}
	// another client cannot use it, and that does not burn it
	st, body, _ := e.tokenCall(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)},
		"client_id": {clientPost}, "client_secret": {testSecret}}, "", "")
	tokenErr(t, st, body, 400, errUnauthorizedClient)
	// widening the scope is refused, and does not burn it either
	st, body = refresh(first["refresh_token"].(string), "scope", "openid profile email")
	tokenErr(t, st, body, 400, errInvalidScope)
	st, second := refresh(first["refresh_token"].(string))
	if st != 200 || second["refresh_token"] == first["refresh_token"] || second["id_token"] == nil {
		t.Fatalf("refresh: %d %v", st, second)
	}
	if st, _, _ := e.userinfo(second["access_token"].(string)); st != 200 {
		t.Fatal("refreshed access token does not work")
	}
	// the old refresh token comes back: the grant is revoked
	st, body = refresh(first["refresh_token"].(string))
	tokenErr(t, st, body, 400, errInvalidGrant)
	if st, _, _ := e.userinfo(second["access_token"].(string)); st != 401 {
		t.Fatal("access token survived refresh-token reuse")
	}
	st, body = refresh(second["refresh_token"].(string))
	tokenErr(t, st, body, 400, errInvalidGrant)
}

func TestRefreshNarrowsScope(t *testing.T) {
	e := newEnv(t)
	_, first := e.exchange(clientRefr, e.code(authReq(clientRefr)))
	st, body, _ := e.tokenCall(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)},
		"scope": {"openid"}}, clientRefr, testSecret)
	if st != 200 || body["scope"] != "openid" {
		t.Fatalf("%d %v", st, body)
	}
	_, ui, _ := e.userinfo(body["access_token"].(string))
	if len(ui) != 1 {
		t.Errorf("narrowed userinfo %v", ui)
	}
}

func TestTokenEndpointRequestShape(t *testing.T) {
	e := newEnv(t)
	// JSON body
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+PathToken, strings.NewReader(`{"grant_type":"authorization_code"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("JSON body: %d", resp.StatusCode)
	}
	// GET is not allowed
	resp, err = http.Get(e.srv.URL + PathToken)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET token: %d", resp.StatusCode)
	}
	// repeated parameter
	code := e.code(authReq(clientBasic))
	body := "grant_type=authorization_code&code=" + code + "&code=" + code + "&redirect_uri=" + url.QueryEscape(redirectURI)
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+PathToken, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientBasic, url.QueryEscape(testSecret))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), errInvalidRequest) {
		t.Errorf("repeated code: %d %s", resp.StatusCode, b)
	}
}

func TestUserinfoErrors(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + PathUserinfo)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="mpassid"` {
		t.Errorf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	st, _, h := e.userinfo("not-a-token")
	if st != 401 || !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bad token: %d %q", st, h.Get("WWW-Authenticate"))
	}
	// an expired access token
	_, body := e.exchange(clientBasic, e.code(authReq(clientBasic)))
	e.clock.Advance(DefaultAccessTokenLifetime + time.Second)
	if st, _, _ := e.userinfo(body["access_token"].(string)); st != 401 {
		t.Errorf("expired access token: %d", st)
	}
	// a refresh token is not an access token
	e.clock.Set(0)
	_, body = e.exchange(clientRefr, e.code(authReq(clientRefr)))
	if st, _, _ := e.userinfo(body["refresh_token"].(string)); st != 401 {
		t.Errorf("refresh token at userinfo: %d", st)
	}
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}
