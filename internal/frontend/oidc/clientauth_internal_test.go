package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func jwksJSON(t *testing.T, kid string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: kid, Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A client's registered jwks is parsed once, and again when its
// registration changes (a key rotation); a jwks that does not parse is an
// error, and the next good one is taken.
func TestInlineJWKSCache(t *testing.T) {
	c := &inlineJWKSCache{byClient: map[string]inlineJWKS{}}
	first := jwksJSON(t, "k1")
	a, err := c.get("client", first)
	if err != nil || len(a.Keys) != 1 || a.Keys[0].KeyID != "k1" {
		t.Fatalf("first get = %v, %v", a, err)
	}
	if again, _ := c.get("client", first); again != a {
		t.Error("the same registration parsed again")
	}
	rotated := jwksJSON(t, "k2")
	b, err := c.get("client", rotated)
	if err != nil || b == a || b.Keys[0].KeyID != "k2" {
		t.Fatalf("after the registration changed: %v, %v", b, err)
	}
	if other, _ := c.get("other", first); other == a || other.Keys[0].KeyID != "k1" {
		t.Error("another client shares the first client's entry")
	}
	if _, err := c.get("client", `{"keys":[`); err == nil {
		t.Error("a jwks that does not parse was accepted")
	}
	if got, err := c.get("client", rotated); err != nil || got.Keys[0].KeyID != "k2" {
		t.Errorf("after a bad registration: %v, %v", got, err)
	}
}
