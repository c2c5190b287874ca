package oidc

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func (e *env) endSession(q url.Values) *http.Response {
	e.t.Helper()
	resp, err := noRedirect().Get(e.srv.URL + PathEndSession + "?" + q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestEndSessionWithBackchannel(t *testing.T) {
	e := newEnv(t)
	_, bcl := e.login(authReq(clientBCL))
	body, basic := e.login(authReq(clientBasic))
	if basic["sid"] == bcl["sid"] || basic["sid"] == nil {
		t.Errorf("sid per client: %v %v", basic["sid"], bcl["sid"])
	}
	e.clock.Advance(2 * DefaultIDTokenLifetime) // an expired hint is fine
	resp := e.endSession(url.Values{"id_token_hint": {body["id_token"].(string)}, "post_logout_redirect_uri": {logoutURI}, "state": {"xyz"}})
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != logoutURI+"?state=xyz" {
		t.Fatalf("end session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if ended, live := e.flow.endedSessions(); len(ended) != 1 || live {
		t.Fatalf("session not ended: %v", ended)
	}
	var raw string
	select {
	case raw = <-e.bclGot:
	case <-time.After(5 * time.Second):
		t.Fatal("no back-channel logout")
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := tok.Headers[0].ExtraHeaders["typ"]; typ != "logout+jwt" {
		t.Errorf("typ %v", typ)
	}
	pk, err := e.ks.Verifier(tok.Headers[0].KeyID)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := tok.Claims(pk.Key, &c); err != nil {
		t.Fatal(err)
	}
	ev, _ := c["events"].(map[string]any)
	if c["iss"] != e.srv.URL || c["aud"] != clientBCL || c["sid"] != bcl["sid"] || c["sub"] != bcl["sub"] ||
		c["jti"] == nil || c["iat"] == nil || ev[backchannelEvent] == nil || c["nonce"] != nil {
		t.Errorf("logout token %v", c)
	}
	select {
	case extra := <-e.bclGot:
		t.Errorf("second back-channel call %q", extra)
	default:
	}
}

func TestEndSessionRefusals(t *testing.T) {
	e := newEnv(t)
	body, _ := e.login(authReq(clientBasic))
	hint := body["id_token"].(string)
	for name, q := range map[string]url.Values{
		"unregistered redirect":   {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}},
		"redirect without client": {"post_logout_redirect_uri": {logoutURI}},
		"forged hint":             {"id_token_hint": {hint[:len(hint)-4] + "AAAA"}, "post_logout_redirect_uri": {logoutURI}},
		"hint for another client": {"id_token_hint": {hint}, "client_id": {clientPost}, "post_logout_redirect_uri": {logoutURI}},
		"unknown client":          {"client_id": {"nobody"}},
	} {
		t.Run(name, func(t *testing.T) {
			resp := e.endSession(q)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	if ended, _ := e.flow.endedSessions(); len(ended) != 0 {
		t.Fatal("a refused logout ended the session")
	}
	// With client_id and no hint, the registered URI is honoured.
	resp := e.endSession(url.Values{"client_id": {clientBasic}, "post_logout_redirect_uri": {logoutURI}})
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), logoutURI) {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestEndSessionPlainPage(t *testing.T) {
	e := newEnv(t)
	e.login(authReq(clientBasic))
	resp, err := http.Post(e.srv.URL+PathEndSession, "application/x-www-form-urlencoded", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ended, _ := e.flow.endedSessions(); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || len(ended) != 1 {
		t.Fatalf("%d %v", resp.StatusCode, ended)
	}
}

// A hint from an older session does not end the browser's newer one.
func TestEndSessionOldHintKeepsNewSession(t *testing.T) {
	e := newEnv(t)
	old, _ := e.login(authReq(clientBasic))
	e.login(authReq(clientBasic, "prompt", "login")) // a new session
	resp := e.endSession(url.Values{"id_token_hint": {old["id_token"].(string)}, "post_logout_redirect_uri": {logoutURI}})
	if ended, _ := e.flow.endedSessions(); resp.StatusCode != http.StatusFound || len(ended) != 0 {
		t.Fatalf("%d ended %v", resp.StatusCode, ended)
	}
}
