package admin_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mpassid/mpassid/internal/admin"
)

// fakeIssuer is a minimal OpenID provider: discovery, JWKS, and a token
// endpoint that answers any code with an ID token for the last
// authorization request's nonce.
type fakeIssuer struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	nonce  string
	groups []string
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIssuer{key: key}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": f.srv.URL, "authorization_endpoint": f.srv.URL + "/authorize", "token_endpoint": f.srv.URL + "/token",
			"jwks_uri": f.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.PostForm.Get("code") != "good-code" || r.PostForm.Get("code_verifier") == "" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		now := time.Now()
		tok, _ := jwt.Signed(sig).Claims(map[string]any{
			"iss": f.srv.URL, "aud": "admin-client", "sub": "staff-1", "name": "Sanna", "nonce": f.nonce,
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "groups": f.groups,
		}).Serialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": tok, "expires_in": 60})
	})
	return f
}

func TestOIDCSignIn(t *testing.T) {
	f := newFakeIssuer(t)
	f.groups = []string{"APP_MPASSID_KATSELIJA_" + ownOrg, "unrelated"}
	e := newEnv(t, func(c *admin.Config) {
		c.Issuer, c.ClientID, c.ClientSecret = f.srv.URL, "admin-client", "s"
	})
	r := e.want(e.do("", "GET", base+"/auth/login?return=/hallinta/", nil), 302)
	loc, _ := url.Parse(r.Header.Get("Location"))
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), f.srv.URL+"/authorize") || q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != "https://mpass.example.fi/api/v2/auth/callback" {
		t.Fatalf("redirect %s", loc)
	}
	f.nonce = q.Get("nonce")
	var login string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "mpassid_admin_login" {
			login = c.Name + "=" + c.Value
		}
	}
	if login == "" {
		t.Fatal("no login cookie")
	}
	// Wrong state, missing cookie, bad code.
	e.want(e.do("", "GET", base+"/auth/callback?code=good-code&state=wrong", nil, "Cookie", login), 400)
	e.want(e.do("", "GET", base+"/auth/callback?code=good-code&state="+q.Get("state"), nil), 400)
	e.want(e.do("", "GET", base+"/auth/callback?code=bad&state="+q.Get("state"), nil, "Cookie", login), 401)

	r = e.want(e.do("", "GET", base+"/auth/callback?code=good-code&state="+q.Get("state"), nil, "Cookie", login), 302)
	if r.Header.Get("Location") != "/hallinta/" {
		t.Errorf("return to %q", r.Header.Get("Location"))
	}
	var session string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == admin.SessionCookie && c.Value != "" {
			session = c.Name + "=" + c.Value
		}
	}
	var me struct {
		Principal admin.Principal
		CSRFToken string
	}
	e.want(e.do("", "GET", base+"/auth/me", nil, "Cookie", session), 200).json(t, &me)
	if me.Principal.Subject != "staff-1" || me.Principal.Name != "Sanna" || len(me.Principal.Roles) != 1 || me.Principal.Roles[0].Kind != admin.KindViewer {
		t.Errorf("principal %+v", me.Principal)
	}
}
