package oidc

import (
	"fmt"
	"reflect"
	"testing"
)

// A code travels in a URL; since grants are sealed without compression, a
// teacher in many schools is the case to keep within what browsers and
// proxies carry (8 KB request lines are the common floor).
func TestSealedCodeSizeAndRoundTrip(t *testing.T) {
	e := newEnv(t)
	var schools, roles []string
	for i := range 8 {
		schools = append(schools, fmt.Sprintf("1.2.246.562.10.%011d;Mansikkalan testikoulu numero %d", 40000+i, i))
		roles = append(roles, fmt.Sprintf("1.2.246.562.10.00000000001;%05d;;Opettaja;2;1.2.246.562.10.%011d;", 30000+i, 40000+i))
	}
	grant := &grantData{
		ClientID: "service-with-a-long-client-id-0123456789", ServiceID: 42,
		RedirectURI:   "https://palvelu.example.fi/oauth2/callback?tenant=mansikkala",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Nonce:         "n-0S6_WzA2Mj-a-nonce-of-reasonable-length",
		Scopes:        []string{"openid", "profile"},
		Sub:           "0f2c7c2a5b1d4e3f8a9b0c1d2e3f4a5b6c7d8e9f",
		Claims: mustClaims(t, map[string]any{
			"given_name": "Maija-Liisa Annikki", "family_name": "Virtanen-Korhonen",
			"urn:mpass.id:uid":                   "MPASSOID.ea5fc8aa1f8c7e2ab2c4f9b5d4e3a2b1c0d9e8f7",
			"urn:mpass.id:schoolInfo":            schools,
			"urn:mpass.id:role":                  roles,
			"urn:mpass.id:educationProviderInfo": []string{"1.2.246.562.10.00000000001;Mansikkalan kaupunki"},
			"urn:mpass.id:originalIssuer":        "1.2.246.562.10.00000000001",
		}),
		ACR: "urn:mpass.id:authnContext:test", AuthTime: 1790000000, SID: "b1946ac92492d2347c6235b4d2611184", Expires: 1790000600,
	}
	code, err := e.p.sealCode(sealedCode{GrantID: "grant-id-0123456789abcdef", Grant: grant})
	if err != nil {
		t.Fatal(err)
	}
	if len(code) > 4096 {
		t.Errorf("code for a teacher in 8 schools is %d characters; keep it under 4096 for URLs", len(code))
	}
	got, err := e.p.openCode(code)
	if err != nil {
		t.Fatal(err)
	}
	if got.GrantID != "grant-id-0123456789abcdef" || got.Grant.Sub != grant.Sub || !reflect.DeepEqual(got.Grant.Scopes, grant.Scopes) ||
		string(got.Grant.Claims) != string(grant.Claims) || got.Grant.SID != grant.SID {
		t.Errorf("round trip changed the grant: %+v", got.Grant)
	}
	if _, err := e.p.open(code, accessTokenAD); err == nil {
		t.Error("a code opened as an access token")
	}
	t.Logf("code length %d", len(code))
}

func mustClaims(t *testing.T, c map[string]any) []byte {
	t.Helper()
	b, err := releasedClaims(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWithClaims(t *testing.T) {
	tests := []struct {
		name, std, released, want string
		err                       bool
	}{
		{"members appended", `{"sub":"a"}`, `{"x":1,"y":"z"}`, `{"sub":"a","x":1,"y":"z"}`, false},
		{"no released claims", `{"sub":"a"}`, `{}`, `{"sub":"a"}`, false},
		{"empty released", `{"sub":"a"}`, ``, `{"sub":"a"}`, false},
		{"empty standard", `{}`, `{"x":1}`, `{"x":1}`, false},
		{"released not an object", `{"sub":"a"}`, `[1]`, "", true},
		{"standard not an object", `"a"`, `{"x":1}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withClaims([]byte(tt.std), []byte(tt.released))
			if (err != nil) != tt.err {
				t.Fatalf("err %v", err)
			}
			if !tt.err && string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// A release can never overwrite or duplicate a claim the provider sets.
func TestReleasedClaimsDropRegisteredNames(t *testing.T) {
	b, err := releasedClaims(map[string]any{"iss": "evil", "sub": "x", "given_name": "Maija"})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"given_name":"Maija"}` {
		t.Errorf("got %s", b)
	}
}
