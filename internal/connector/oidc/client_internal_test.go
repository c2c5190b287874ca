package oidc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mpassid/mpassid/internal/connector"
)

// scriptedOP is a token and userinfo endpoint that answers what a case
// sets, records the last request, and serves the default JWKS.
type scriptedOP struct {
	*httptest.Server
	jwks *jwksServer

	mu          sync.Mutex
	status      int
	contentType string
	body        string
	last        *http.Request
	lastForm    url.Values
}

func newScriptedOP(t *testing.T) *scriptedOP {
	t.Helper()
	op := &scriptedOP{jwks: newJWKSServer(t, defaultJWKS()...)}
	op.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		op.mu.Lock()
		op.last, op.lastForm = r, form
		status, ct, answer := op.status, op.contentType, op.body
		op.mu.Unlock()
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(op.Close)
	return op
}

func (op *scriptedOP) answer(status int, contentType, body string) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.status, op.contentType, op.body = status, contentType, body
}

func (op *scriptedOP) request() (*http.Request, url.Values) {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.last, op.lastForm
}

// connectorFor returns a connector and its discovery for op, as discover
// would make them, with the client authentication auth.
func connectorFor(op *scriptedOP, auth clientAuth) (*Connector, *discovered) {
	c := &Connector{issuer: testIssuer, clientID: testClient, secret: "s3cret/+&", client: op.Client()}
	d := &discovered{
		tokenURL: op.URL + "/token", userInfoURL: op.URL + "/userinfo", auth: auth,
		verifier: newTestVerifier(op.jwks, []string{"RS256"}),
	}
	return c, d
}

const goodTokenAnswer = `{"access_token":"at-1","token_type":"Bearer","expires_in":300,"id_token":"eyJ.eyJ.sig"}`

// The code exchange sends what RFC 6749 section 4.1.3 and PKCE ask, with
// the client authentication discovery chose.
func TestExchangeRequest(t *testing.T) {
	op := newScriptedOP(t)
	op.answer(http.StatusOK, "application/json", goodTokenAnswer)
	for _, tc := range []struct {
		name       string
		auth       clientAuth
		basic      bool
		formClient string
		formSecret string
	}{
		{"client_secret_basic, both form-encoded", authBasic, true, "", ""},
		{"client_secret_post", authPost, false, "client/1", "s3cret/+&"},
		{"public client", authNone, false, "client/1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, d := connectorFor(op, tc.auth)
			c.clientID = "client/1" // a character that form encoding changes
			tok, err := c.exchange(context.Background(), d, "code-1", "https://broker.example/cb", "verifier-1")
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "at-1" || tok.IDToken != "eyJ.eyJ.sig" {
				t.Errorf("read %+v", tok)
			}
			r, form := op.request()
			if r.Method != http.MethodPost || r.URL.Path != "/token" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
				t.Errorf("%s %s, Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			}
			for name, want := range map[string]string{"grant_type": "authorization_code", "code": "code-1",
				"redirect_uri": "https://broker.example/cb", "code_verifier": "verifier-1",
				"client_id": tc.formClient, "client_secret": tc.formSecret} {
				if got := form.Get(name); got != want {
					t.Errorf("form %s = %q, want %q", name, got, want)
				}
			}
			id, secret, basic := r.BasicAuth()
			if basic != tc.basic {
				t.Fatalf("basic authentication %v, want %v", basic, tc.basic)
			}
			if basic && (id != url.QueryEscape("client/1") || secret != url.QueryEscape("s3cret/+&")) {
				t.Errorf("basic %q:%q, want both form-encoded", id, secret)
			}
		})
	}
}

// Each answer of the token endpoint is read as what it is: tokens, a
// refusal with its code, or an error that says which.
func TestExchangeAnswers(t *testing.T) {
	op := newScriptedOP(t)
	cases := []struct {
		name, body string
		status     int
		wantToken  string // the access token read, when the answer is good
		refused    string // the refusal's error code
		invalid    bool   // an answer the broker cannot use: ErrInvalidResponse
		errHas     string
	}{
		{name: "tokens", status: 200, body: goodTokenAnswer, wantToken: "at-1"},
		{name: "tokens with escapes (read by encoding/json)", status: 200,
			body: `{"access_token":"at\/2","token_type":"bearer","id_token":"x.y.z","scope":"openid profile","error_description":"ä"}`, wantToken: "at/2"},
		{name: "no token_type", status: 200, body: `{"access_token":"at-3","id_token":"x.y.z"}`, wantToken: "at-3"},
		{name: "refused", status: 400, body: `{"error":"invalid_grant","error_description":"code used"}`, refused: "invalid_grant"},
		{name: "server error without JSON", status: 500, body: "oops", errHas: "HTTP status 500"},
		{name: "server error with JSON but no code", status: 503, body: `{"message":"down"}`, errHas: "HTTP status 503"},
		{name: "not JSON", status: 200, body: "<html>", invalid: true, errHas: "not a JSON object"},
		{name: "no access token", status: 200, body: `{"token_type":"Bearer","id_token":"x.y.z"}`, invalid: true, errHas: "no access_token"},
		{name: "no ID token", status: 200, body: `{"access_token":"at","token_type":"Bearer"}`, invalid: true, errHas: "no id_token"},
		{name: "not a bearer token", status: 200, body: `{"access_token":"at","token_type":"MAC","id_token":"x.y.z"}`, invalid: true, errHas: "not Bearer"},
		{name: "over 1 MiB", status: 200, body: `{"access_token":"` + strings.Repeat("a", maxAnswer) + `"}`, errHas: "over"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op.answer(tc.status, "application/json", tc.body)
			c, d := connectorFor(op, authBasic)
			tok, err := c.exchange(context.Background(), d, "code", "https://broker.example/cb", "v")
			if tc.wantToken != "" {
				if err != nil || tok.AccessToken != tc.wantToken {
					t.Fatalf("got %+v, %v; want access token %q", tok, err, tc.wantToken)
				}
				return
			}
			if err == nil {
				t.Fatalf("read %+v from %q", tok, tc.body)
			}
			var refused *refusedError
			if got := errors.As(err, &refused); got != (tc.refused != "") || (got && refused.code != tc.refused) {
				t.Errorf("error %v: refusal %v, want %q", err, got, tc.refused)
			}
			if errors.Is(err, connector.ErrInvalidResponse) != tc.invalid {
				t.Errorf("error %v: ErrInvalidResponse %v, want %v", err, !tc.invalid, tc.invalid)
			}
			if !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("error %q does not say %q", err, tc.errHas)
			}
		})
	}
}

// userinfo: a JSON object, or a JWT signed by a key of the OP's JWKS whose
// iss and aud, when sent, are the OP's and the client's; the access token
// goes as a bearer token.
func TestFetchUserInfo(t *testing.T) {
	op := newScriptedOP(t)
	signed := func(changes map[string]any) string {
		return validToken(t, "RS256", changes)
	}
	cases := []struct {
		name, contentType, body string
		status                  int
		wantSub                 string
		invalid                 bool
		errHas                  string
	}{
		{name: "JSON", status: 200, contentType: "application/json; charset=utf-8", body: `{"sub":"user","email":"maija@example.fi"}`, wantSub: "user"},
		{name: "signed", status: 200, contentType: "application/jwt", body: signed(nil), wantSub: "user"},
		{name: "signed, without iss and aud", status: 200, contentType: "application/jwt",
			body: signed(map[string]any{"iss": absent{}, "aud": absent{}}), wantSub: "user"},
		{name: "signed by another issuer", status: 200, contentType: "application/jwt",
			body: signed(map[string]any{"iss": "https://evil.example"}), invalid: true, errHas: "issued by"},
		{name: "signed for another client", status: 200, contentType: "application/jwt",
			body: signed(map[string]any{"aud": "other"}), invalid: true, errHas: "not the client"},
		{name: "signed by a key not in the JWKS", status: 200, contentType: "application/jwt",
			body: signToken(t, header(t, "RS256", "rsa"), claims(t, nil), "RS256", testKeys().rsaOther), invalid: true, errHas: "signature"},
		{name: "not JSON", status: 200, contentType: "application/json", body: "<html>", invalid: true, errHas: "not a JSON object"},
		{name: "refused", status: 401, contentType: "application/json", body: `{"error":"invalid_token"}`, errHas: "HTTP status 401"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op.answer(tc.status, tc.contentType, tc.body)
			c, d := connectorFor(op, authBasic)
			got, err := c.fetchUserInfo(context.Background(), d, "at-1")
			if tc.wantSub != "" {
				if err != nil || got["sub"] != tc.wantSub {
					t.Fatalf("got %v, %v; want sub %q", got, err, tc.wantSub)
				}
				r, _ := op.request()
				if r.Method != http.MethodGet || r.Header.Get("Authorization") != "Bearer at-1" {
					t.Errorf("%s with Authorization %q", r.Method, r.Header.Get("Authorization"))
				}
				return
			}
			if err == nil {
				t.Fatalf("read %v", got)
			}
			if errors.Is(err, connector.ErrInvalidResponse) != tc.invalid {
				t.Errorf("error %v: ErrInvalidResponse %v, want %v", err, !tc.invalid, tc.invalid)
			}
			if !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("error %q does not say %q", err, tc.errHas)
			}
		})
	}
}
