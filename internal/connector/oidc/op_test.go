package oidc_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testOP is a small OpenID Provider for the always-run tests: discovery,
// JWKS, an authorization endpoint that logs the user in at once and
// redirects back with a code, a token endpoint checking client
// authentication, redirect_uri and PKCE, and userinfo.
type testOP struct {
	srv          *httptest.Server
	key, badKey  *rsa.PrivateKey
	clientID     string
	clientSecret string
	now          func() time.Time

	mu sync.Mutex
	// claims are the user's ID token claims (besides the protocol ones).
	claims map[string]any
	// userinfo are the userinfo claims.
	userinfo map[string]any
	// mutate, if set, changes the ID token claims before signing.
	mutate func(map[string]any)
	// signWithBadKey signs ID tokens with a key not in the JWKS (same kid).
	signWithBadKey bool
	// refuse, if set, is the error the authorization endpoint answers.
	refuse string
	// noUserinfo leaves the userinfo endpoint out of discovery.
	noUserinfo bool
	codes      map[string]authz
	tokens     map[string]string // access token -> sub
	seen       []url.Values      // authorization requests
}

type authz struct {
	redirectURI, nonce, challenge string
}

var rsaKeys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	a, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	b, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return a, b
})

func newTestOP(tb testing.TB) *testOP {
	tb.Helper()
	op := &testOP{
		clientID: "mpassid-broker", clientSecret: "s3cret/+&", now: time.Now,
		claims: map[string]any{
			"sub": "user-123", "given_name": "Maija", "family_name": "Meikäläinen",
			"groups": []string{"7A", "kuoro"}, "email_verified": true, "age": 13,
			"address": map[string]any{"locality": "Esimerkkilä"},
		},
		userinfo: defaultUserinfo(),
		codes:    map[string]authz{}, tokens: map[string]string{},
	}
	op.key, op.badKey = rsaKeys()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("GET /authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", op.userinfoHandler)
	op.srv = httptest.NewServer(mux)
	tb.Cleanup(op.srv.Close)
	return op
}

func defaultUserinfo() map[string]any {
	return map[string]any{"sub": "user-123", "email": "maija@example.fi", "given_name": "Other"}
}

func (op *testOP) issuer() string { return op.srv.URL }

func (op *testOP) set(f func(op *testOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

func (op *testOP) lastAuthorize() url.Values {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.seen[len(op.seen)-1]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (op *testOP) discovery(w http.ResponseWriter, r *http.Request) {
	iss := op.issuer()
	doc := map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorize",
		"token_endpoint":                        iss + "/token",
		"jwks_uri":                              iss + "/jwks",
		"userinfo_endpoint":                     iss + "/userinfo",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	}
	op.mu.Lock()
	if op.noUserinfo {
		delete(doc, "userinfo_endpoint")
	}
	op.mu.Unlock()
	writeJSON(w, 200, doc)
}

func (op *testOP) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func (op *testOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	op.mu.Lock()
	op.seen = append(op.seen, q)
	refuse := op.refuse
	op.mu.Unlock()
	if q.Get("client_id") != op.clientID || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("redirect_uri") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := back.Query()
	bq.Set("state", q.Get("state"))
	if refuse != "" {
		bq.Set("error", refuse)
	} else {
		code := rand.Text()
		op.mu.Lock()
		op.codes[code] = authz{q.Get("redirect_uri"), q.Get("nonce"), q.Get("code_challenge")}
		op.mu.Unlock()
		bq.Set("code", code)
	}
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (op *testOP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if !ok || id != op.clientID || secret != op.clientSecret {
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	_ = r.ParseForm()
	op.mu.Lock()
	a, found := op.codes[r.PostForm.Get("code")]
	delete(op.codes, r.PostForm.Get("code"))
	op.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code" || !found:
		writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	case r.PostForm.Get("redirect_uri") != a.redirectURI:
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "redirect_uri"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != a.challenge:
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "PKCE"})
		return
	}
	access := rand.Text()
	ah := sha256.Sum256([]byte(access))
	op.mu.Lock()
	claims := maps.Clone(op.claims)
	now := op.now()
	claims["iss"] = op.issuer()
	claims["aud"] = op.clientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(5 * time.Minute).Unix()
	claims["auth_time"] = now.Unix() - 3
	claims["nonce"] = a.nonce
	claims["sid"] = "session-1"
	claims["at_hash"] = base64.RawURLEncoding.EncodeToString(ah[:16])
	if op.mutate != nil {
		op.mutate(claims)
	}
	key := op.key
	if op.signWithBadKey {
		key = op.badKey
	}
	op.tokens[access] = claims["sub"].(string)
	op.mu.Unlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	payload, _ := json.Marshal(claims)
	sig, err := signer.Sign(payload)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	idt, _ := sig.CompactSerialize()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}

func (op *testOP) userinfoHandler(w http.ResponseWriter, r *http.Request) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	op.mu.Lock()
	_, ok := op.tokens[h[min(len(prefix), len(h)):]]
	ui := maps.Clone(op.userinfo)
	op.mu.Unlock()
	if len(h) <= len(prefix) || !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	writeJSON(w, 200, ui)
}
