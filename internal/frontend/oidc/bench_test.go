package oidc

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// BenchmarkTokenEndpoint measures one code exchange over HTTP
// (client_secret_basic, PKCE, SQLite store: consume the code, store the
// access token, sign an RS256 ID token). The codes are made beforehand.
func BenchmarkTokenEndpoint(b *testing.B) {
	e := newEnv(b)
	verifier, challenge := pkce()
	codes := make([]string, b.N)
	for i := range codes {
		codes[i] = e.code(authReq(clientBasic, "code_challenge", challenge, "code_challenge_method", "S256"))
	}
	client := &http.Client{Timeout: 10 * time.Second}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}, "redirect_uri": {redirectURI},
			"code_verifier": {verifier}}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+PathToken, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(clientBasic, url.QueryEscape(testSecret))
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkLogin measures a whole OIDC login in-process over HTTP with the
// fake broker (which answers at once from its SSO session): authorize ->
// code -> token -> userinfo, reported as logins/s.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b)
	client := noRedirect()
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		verifier, challenge := pkce()
		q := authReq(clientBasic, "code_challenge", challenge, "code_challenge_method", "S256")
		resp, err := client.Get(e.srv.URL + PathAuthorize + "?" + q.Encode())
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		code := loc.Query().Get("code")
		if code == "" {
			b.Fatalf("no code: %s", loc)
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
			"code_verifier": {verifier}}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+PathToken, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(clientBasic, url.QueryEscape(testSecret))
		resp, err = client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		req, _ = http.NewRequest(http.MethodGet, e.srv.URL+PathUserinfo, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err = client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("userinfo %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}
