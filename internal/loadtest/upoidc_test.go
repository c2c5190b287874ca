package loadtest

import (
	"encoding/json"
	"maps"
	"strconv"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// attributeClaims are the claims pupilAttributes make: single values as
// strings, roles, schools and groups as arrays.
func attributeClaims(n uint64) map[string]any {
	c := map[string]any{"sub": "loadtest-" + strconv.FormatUint(n, 10)}
	for _, a := range pupilAttributes(n) {
		if len(a.values) == 1 && a.name != "roles" && a.name != "schoolIds" && a.name != "groups" {
			c[a.name] = a.values[0]
		} else {
			c[a.name] = a.values
		}
	}
	return c
}

// The upstream OP's ID tokens verify with go-jose against its JWKS and
// carry the pupil's attributes; its userinfo claims are the same.
func TestOIDCOPIDToken(t *testing.T) {
	op, err := startOIDCOP("test", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer op.close()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(op.jwks, &set); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name  string
		grant opGrant
	}{
		{"with a nonce", opGrant{n: 7, nonce: `n-"1"\<ä>`}},
		{"without a nonce", opGrant{n: 12345678901}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := op.idToken(&tc.grant, now)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			if h := jws.Signatures[0].Header; h.KeyID != op.kid || h.ExtraHeaders["typ"] != "JWT" {
				t.Errorf("header %+v", h)
			}
			payload, err := jws.Verify(set.Keys[0].Key)
			if err != nil {
				t.Fatalf("go-jose: %v", err)
			}
			var got map[string]any
			if err := json.Unmarshal(payload, &got); err != nil {
				t.Fatal(err)
			}
			want := roundTrip(t, attributeClaims(tc.grant.n))
			want["iss"], want["aud"], want["iat"], want["exp"] = op.issuer, op.clientID, float64(now.Unix()), float64(now.Unix()+300)
			if tc.grant.nonce != "" {
				want["nonce"] = tc.grant.nonce
			}
			if !equalJSON(got, want) {
				t.Errorf("claims\n%v\nwant\n%v", got, want)
			}
			if got, want := roundTrip(t, newPupilClaims(tc.grant.n)), roundTrip(t, attributeClaims(tc.grant.n)); !equalJSON(got, want) {
				t.Errorf("userinfo claims\n%v\nwant\n%v", got, want)
			}
		})
	}
}

// roundTrip is v as JSON decodes it.
func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func equalJSON(a, b map[string]any) bool {
	return maps.EqualFunc(a, b, func(x, y any) bool {
		bx, _ := json.Marshal(x)
		by, _ := json.Marshal(y)
		return string(bx) == string(by)
	})
}
