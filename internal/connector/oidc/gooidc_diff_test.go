package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/mpassid/mpassid/internal/connector/oidc"
)

// The ID token verifier accepts and rejects what go-oidc's, which it
// replaced, accepts and rejects, token for token (a differential test; the
// attack tests are in idtoken_internal_test.go).
func TestIDTokenVerifierAgreesWithGoOIDC(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: rsaKey.Public(), KeyID: "rsa", Algorithm: "RS256", Use: "sig"},
		{Key: ecKey.Public(), KeyID: "ec", Algorithm: "ES256", Use: "sig"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_, _ = w.Write(jwks)
	}))
	defer srv.Close()

	const issuer, client = "http://127.0.0.1:8080", "client-1"
	now := time.Now()
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": issuer, "sub": "MPASSOID.abc", "aud": client, "exp": now.Add(time.Minute).Unix(),
			"iat": now.Unix(), "nonce": "n-1", "given_name": "Äijä \"quoted\""}
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(alg jose.SignatureAlgorithm, key any, kid string, c map[string]any) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		payload, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		jws, err := s.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		out, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	valid := sign(jose.RS256, rsaKey, "rsa", claims(nil))
	seg := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"RS256", valid, true},
		{"ES256", sign(jose.ES256, ecKey, "ec", claims(nil)), true},
		{"no kid", sign(jose.RS256, rsaKey, "", claims(nil)), true},
		{"audience array", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { c["aud"] = []string{"x", client} })), true},
		{"fractional exp", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { c["exp"] = float64(now.Unix()) + 60.5 })), true},
		{"nbf within the leeway", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { c["nbf"] = now.Add(4 * time.Minute).Unix() })), true},
		{"nbf too far ahead", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { c["nbf"] = now.Add(6 * time.Minute).Unix() })), false},
		{"expired", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), false},
		{"no exp", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { delete(c, "exp") })), false},
		{"exp not a number", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { c["exp"] = "soon" })), false},
		{"another issuer", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { c["iss"] = issuer + "/" })), false},
		{"another audience", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { c["aud"] = "client-2" })), false},
		{"audience array without the client", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { c["aud"] = []string{"x"} })), false},
		{"no audience", sign(jose.RS256, rsaKey, "rsa", claims(func(c map[string]any) { delete(c, "aud") })), false},
		{"key not in the JWKS", sign(jose.RS256, otherKey, "rsa", claims(nil)), false},
		{"unknown kid", sign(jose.RS256, otherKey, "other", claims(nil)), false},
		{"ES256 by the RSA key's kid", sign(jose.ES256, ecKey, "rsa", claims(nil)), false},
		{"PS256", sign(jose.PS256, rsaKey, "rsa", claims(nil)), false},
		{"alg none", b64([]byte(`{"alg":"none"}`)) + "." + seg[1] + ".", false},
		{"HS256 with the public key", b64([]byte(`{"alg":"HS256","kid":"rsa"}`)) + "." + seg[1] + "." + seg[2], false},
		{"changed claims", seg[0] + "." + b64([]byte(`{"iss":"`+issuer+`","aud":"`+client+`","exp":9999999999}`)) + "." + seg[2], false},
		{"critical header", b64([]byte(`{"alg":"RS256","kid":"rsa","crit":["x"],"x":1}`)) + "." + seg[1] + "." + seg[2], false},
		{"truncated signature", valid[:len(valid)-4], false},
		{"two segments", seg[0] + "." + seg[1], false},
		{"four segments", valid + ".x", false},
		{"not base64", seg[0] + ".!!." + seg[2], false},
		{"empty", "", false},
	}
	ours := oidc.NewIDTokenVerifier(issuer, client, srv.URL, []string{"RS256", "ES256"}, srv.Client(), nil)
	ctx := gooidc.ClientContext(context.Background(), srv.Client())
	theirs := gooidc.NewVerifier(issuer, gooidc.NewRemoteKeySet(ctx, srv.URL), &gooidc.Config{ClientID: client, SupportedSigningAlgs: []string{"RS256", "ES256"}})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ours.Verify(context.Background(), tc.token)
			want, werr := theirs.Verify(ctx, tc.token)
			if (err == nil) != tc.ok || (werr == nil) != tc.ok {
				t.Fatalf("ours: %v; go-oidc: %v; want ok %v", err, werr, tc.ok)
			}
			if tc.ok && (got.Claim("sub") != want.Subject || got.Claim("nonce") != want.Nonce || got.Claim("iss") != want.Issuer) {
				t.Errorf("claims %+v, go-oidc %+v", got.Claims, want)
			}
		})
	}
	// The keys are fetched again only when a token's signature does not
	// verify with those in hand.
	before := fetches.Load()
	for range 3 {
		if _, err := ours.Verify(context.Background(), valid); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load() - before; n != 0 {
		t.Errorf("%d JWKS fetches for tokens the cached keys verify", n)
	}
}
