package oidc

import (
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/mpassid/mpassid/internal/keys"
)

// The directly signed JWS must be what go-jose makes of the same key and
// payload: byte for byte with RS256 (PKCS #1 v1.5 is deterministic), the
// same header and payload with ES256, whose signature go-jose verifies.
func TestSignPayloadMatchesGoJOSE(t *testing.T) {
	e := newEnv(t)
	payload := []byte(`{"iss":"https://mpass.example","sub":"s","aud":"c","given_name":"Äijä <&>"}`)
	for _, tc := range []struct{ alg, typ string }{
		{keys.RS256, "JWT"}, {keys.ES256, "JWT"}, {keys.RS256, "logout+jwt"}, {keys.ES256, "logout+jwt"},
	} {
		t.Run(tc.alg+" "+tc.typ, func(t *testing.T) {
			got, err := e.p.signPayload(tc.alg, tc.typ, payload)
			if err != nil {
				t.Fatal(err)
			}
			sk, err := e.p.keys().Signer(tc.alg)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := jose.NewSigner(joseKey(sk), (&jose.SignerOptions{}).WithType(jose.ContentType(tc.typ)))
			if err != nil {
				t.Fatal(err)
			}
			jws, err := signer.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			want, err := jws.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			if tc.alg == keys.RS256 && got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
			gotParts, wantParts := strings.Split(got, "."), strings.Split(want, ".")
			if len(gotParts) != 3 || gotParts[0] != wantParts[0] || gotParts[1] != wantParts[1] {
				t.Errorf("header or payload differ:\n got %s\nwant %s", got, want)
			}
			parsed, err := jose.ParseSigned(got, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tc.alg)})
			if err != nil {
				t.Fatal(err)
			}
			out, err := parsed.Verify(sk.Signer.Public())
			if err != nil || string(out) != string(payload) {
				t.Errorf("go-jose does not verify it: %v", err)
			}
		})
	}
}

// joseKey is k for go-jose's signer: the reference the direct signature is
// held to.
func joseKey(k *keys.SigningKey) jose.SigningKey {
	return jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.Algorithm),
		Key:       jose.JSONWebKey{Key: k.Signer, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"},
	}
}
