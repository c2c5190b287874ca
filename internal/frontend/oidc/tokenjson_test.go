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
