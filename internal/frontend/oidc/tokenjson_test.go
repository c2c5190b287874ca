package oidc

import (
	"encoding/json"
	"testing"
)

// The hand-written token response must be byte for byte what
// encoding/json writes for the same struct.
func TestTokenResponseJSON(t *testing.T) {
	cases := []tokenResponse{
		{AccessToken: "at.AbC-_09", TokenType: "Bearer", ExpiresIn: 600, IDToken: "eyJ.eyJ.sig", Scope: "openid profile"},
		{AccessToken: "at.x", TokenType: "Bearer", ExpiresIn: 0, RefreshToken: "g1.r-_", IDToken: "a.b.c", Scope: ""},
		{AccessToken: `quote " and \ backslash`, TokenType: "<b>&", ExpiresIn: -1, IDToken: "tab\there\nnewline", Scope: "ä \u2028 \x7f \xff"},
	}
	for _, tc := range cases {
		want, err := json.Marshal(&tc)
		if err != nil {
			t.Fatal(err)
		}
		if got := tc.appendJSON(nil); string(got) != string(want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "abc", `"`, "\\", "<>&", "\u2028", "\xff", "\x00", "\x7f", "ä"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

// appendClaims writes the claims identity.OIDCClaims releases exactly as
// encoding/json writes the map, and leaves any other map to it.
func TestAppendClaims(t *testing.T) {
	for _, c := range []map[string]any{
		{},
		{"given_name": "Maija"},
		{"schools": []string{"00001", "00002"}, "given_name": "Åsa <&>", "b": []string{}, "a": []string(nil)},
		{"\u2028": "x\u2029", "ä": []string{"\xff", `"\`}, "": ""},
	} {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendClaims(nil, c)
		if !ok || string(got) != string(want) {
			t.Errorf("appendClaims(%q) = %s, %v; want %s", c, got, ok, want)
		}
	}
	for _, c := range []map[string]any{
		{"n": 1},
		{"s": "x", "o": map[string]any{"a": "b"}},
		{"b": true},
		{"l": []any{"x"}},
		{"nil": nil},
	} {
		if got, ok := appendClaims([]byte("x"), c); ok || string(got) != "x" {
			t.Errorf("appendClaims(%v) = %q, %v; want it left to encoding/json", c, got, ok)
		}
	}
}

func FuzzAppendClaims(f *testing.F) {
	f.Add("given_name", "Maija", "schools", "00001", "00002", true)
	f.Add("<", "\u2028", "\xff", "", "\"", false)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2a, v2b string, list bool) {
		c := map[string]any{k1: v1}
		if list {
			c[k2] = []string{v2a, v2b}
		} else {
			c[k2] = v2a
		}
		want, _ := json.Marshal(c)
		if got, ok := appendClaims(nil, c); !ok || string(got) != string(want) {
			t.Errorf("appendClaims(%q) = %s, %v; want %s", c, got, ok, want)
		}
	})
}

// BenchmarkReleasedClaims encodes a teacher's claims of five schools
// through encoding/json and through appendClaims.
func BenchmarkReleasedClaims(b *testing.B) {
	c := map[string]any{
		"given_name": "Maija", "family_name": "Meikäläinen", "urn:mpass.id:uid": "MPASSOID.1a2b3c4d5e6f7a8b9c0d",
		"urn:mpass.id:role":                    []string{"1.2.246.562.10.00000000001;00001;Opettaja", "1.2.246.562.10.00000000002;00002;Opettaja"},
		"urn:mpass.id:schoolCode":              []string{"00001", "00002", "00003", "00004", "00005"},
		"urn:mpass.id:educationProviderInfo":   []string{"1.2.246.562.10.00000000001;Esimerkkilän kaupunki"},
		"urn:mpass.id:learningMaterialsCharge": []string{"0;00001", "1;00002"},
	}
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(c)
		}
	})
	b.Run("appendClaims", func(b *testing.B) {
		for b.Loop() {
			_, _ = appendClaims(nil, c)
		}
	})
}

// The ID token's own claims, the JWS header and a logout participant's
// data, written by hand, are byte for byte what encoding/json writes.
func TestIDTokenClaimsJSON(t *testing.T) {
	for _, c := range []idTokenClaims{
		{Iss: "https://mpass.example.fi", Sub: "MPASSOID.abc", Aud: "client-1", Iat: 1767225600, Exp: 1767226200, AuthTime: 1767225590, ACR: "urn:mpass.id:authnContextClass:Testi", Nonce: "n-0S6_WzA2Mj", SID: "sid1", AtHash: "77QmUPtjPfzWtF2AnpK9RQ"},
		{Iss: "i", Sub: "s", Aud: "a", ACR: ""},
		{Iss: "<&>", Sub: "ä\u2028", Aud: `"\`, Iat: -1, Exp: 0, AuthTime: 9223372036854775807, ACR: "\xff", SID: "x"},
	} {
		want, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.appendJSON(nil); string(got) != string(want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzIDTokenClaimsJSON(f *testing.F) {
	f.Add("https://mpass.example.fi", "sub", "aud", int64(1767225600), "acr", "nonce", "", "<\u2028>")
	f.Fuzz(func(t *testing.T, iss, sub, aud string, iat int64, acr, nonce, sid, atHash string) {
		c := idTokenClaims{Iss: iss, Sub: sub, Aud: aud, Iat: iat, Exp: iat + 600, AuthTime: iat - 1, ACR: acr, Nonce: nonce, SID: sid, AtHash: atHash}
		want, _ := json.Marshal(&c)
		if got := c.appendJSON(nil); string(got) != string(want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	})
}

func TestJWSHeaderJSON(t *testing.T) {
	for _, h := range [][3]string{{"RS256", "k-2026-11", "JWT"}, {"ES256", "", "logout+jwt"}, {"<", "\xff", "ä"}} {
		want, err := json.Marshal(struct {
			Alg string `json:"alg"`
			Kid string `json:"kid"`
			Typ string `json:"typ"`
		}{h[0], h[1], h[2]})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJWSHeader(nil, h[0], h[1], h[2]); string(got) != string(want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	}
}

func TestParticipantDataJSON(t *testing.T) {
	for _, d := range []participantData{{ClientID: "c", SID: "s", Sub: "MPASSOID.x"}, {}, {ClientID: "<&>", SID: "\u2029", Sub: "\x00"}} {
		want, err := json.Marshal(&d)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.appendJSON(nil); string(got) != string(want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	}
}
