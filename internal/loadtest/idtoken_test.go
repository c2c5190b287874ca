package loadtest

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
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// The tool's ID token check accepts and rejects what go-oidc's verifier,
// which it replaced, accepts and rejects.
func TestIDTokenVerifier(t *testing.T) {
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
	ours := &idTokenVerifier{issuer: issuer, clientID: client, jwksURL: srv.URL, client: srv.Client()}
	ctx := gooidc.ClientContext(context.Background(), srv.Client())
	theirs := gooidc.NewVerifier(issuer, gooidc.NewRemoteKeySet(ctx, srv.URL), &gooidc.Config{ClientID: client, SupportedSigningAlgs: []string{"RS256", "ES256"}})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ours.verify(context.Background(), tc.token, time.Now())
			want, werr := theirs.Verify(ctx, tc.token)
			if (err == nil) != tc.ok || (werr == nil) != tc.ok {
				t.Fatalf("ours: %v; go-oidc: %v; want ok %v", err, werr, tc.ok)
			}
			if tc.ok && (got.Subject != want.Subject || got.Nonce != want.Nonce || got.Issuer != want.Issuer) {
				t.Errorf("claims %+v, go-oidc %+v", got, want)
			}
		})
	}
	// The keys are fetched again only when a token's signature does not
	// verify with those in hand.
	before := fetches.Load()
	for range 3 {
		if _, err := ours.verify(context.Background(), valid, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load() - before; n != 0 {
		t.Errorf("%d JWKS fetches for tokens the cached keys verify", n)
	}
}

var idTokenSegments = []string{
	`{"iss":"http://127.0.0.1:8080","sub":"MPASSOID.abc","aud":"client-1","exp":1800000000,"iat":1799999700,"nonce":"n-1","given_name":"Äijä","urn:mpass.id:schoolInfo":["99001;Koulu"]}`,
	`{"iss":"i","aud":["a","b"],"exp":1.8e9,"nbf":0}`,
	`{"iss":"i","aud":null,"exp":"1800000000"}`,
	`{"iss":null,"exp":null,"nbf":-5}`,
	`{"ISS":"i","iss":"j"}`,
	`{"iss":"a\/b","sub":"ä"}`,
	`{"exp":[1]}`,
	`{"alg":"RS256","kid":"k","typ":"JWT"}`,
	`{"alg":"RS256","crit":["b64"],"b64":false}`,
	`{"alg":"RS256","crit":null}`,
	`{"Alg":"none"}`,
	`{"alg":"RS256"} x`,
	`{"alg":1}`,
}

// The one-pass readers of the header and the claims end where
// encoding/json ends, or leave the segment to it.
func TestDecodeSegment(t *testing.T) {
	for _, seg := range idTokenSegments {
		b64 := base64.RawURLEncoding.EncodeToString([]byte(seg))
		var h, wantH jwsHeader
		err, wantErr := decodeSegment(b64, &h), json.Unmarshal([]byte(seg), &wantH)
		if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(h, wantH) {
			t.Errorf("header %s: %+v, %v; encoding/json %+v, %v", seg, h, err, wantH, wantErr)
		}
		var c, wantC idToken
		err, wantErr = decodeSegment(b64, &c), json.Unmarshal([]byte(seg), &wantC)
		if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(c, wantC) {
			t.Errorf("claims %s: %+v, %v; encoding/json %+v, %v", seg, c, err, wantC, wantErr)
		}
	}
}

func FuzzDecodeSegment(f *testing.F) {
	for _, seg := range idTokenSegments {
		f.Add([]byte(seg))
	}
	f.Fuzz(func(t *testing.T, seg []byte) {
		var h jwsHeader
		if h.readFlat(seg) {
			var want jwsHeader
			if err := json.Unmarshal(seg, &want); err != nil || !reflect.DeepEqual(h, want) {
				t.Fatalf("header %q: %+v; encoding/json %+v, %v", seg, h, want, err)
			}
		}
		var c idToken
		if c.readFlat(seg) {
			var want idToken
			if err := json.Unmarshal(seg, &want); err != nil || !reflect.DeepEqual(c, want) {
				t.Fatalf("claims %q: %+v; encoding/json %+v, %v", seg, c, want, err)
			}
		}
	})
}
