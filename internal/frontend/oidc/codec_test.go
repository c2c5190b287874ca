package oidc

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"testing"
)

func testGrants() []sealedCode {
	return []sealedCode{
		{GrantID: "g1", Grant: &grantData{}},
		{GrantID: "g2", Grant: &grantData{
			ClientID: "client", ServiceID: 7, RedirectURI: "https://sp.example/cb?x=1", CodeChallenge: "abc",
			Nonce: "n-0", Scopes: []string{"openid", "profile"}, Sub: "sub", ACR: "urn:mpass.id:authnsource:testi",
			AuthTime: 1795000000, SID: "sid", Expires: 1795000600,
			Claims: json.RawMessage(`{"given_name":"Aino","urn:mpass.id:schoolCode":["00001"]}`),
		}},
	}
}

func TestGrantCodec(t *testing.T) {
	for _, want := range testGrants() {
		got, err := decodeGrant(encodeGrant(&want))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("round trip\n got %+v %+v\nwant %+v %+v", got, got.Grant, want, want.Grant)
		}
		// The form of earlier versions: varint length, the grant's JSON
		// without claims, then the claims (which a login always has).
		if want.Grant.Claims == nil {
			continue
		}
		g := *want.Grant
		claims := g.Claims
		g.Claims = nil
		meta, err := json.Marshal(sealedCode{GrantID: want.GrantID, Grant: &g})
		if err != nil {
			t.Fatal(err)
		}
		old := append(binary.AppendUvarint(nil, uint64(len(meta))), meta...)
		got, err = decodeGrant(append(old, claims...))
		if err != nil || !reflect.DeepEqual(got, &want) {
			t.Errorf("earlier form\n got %+v %v\nwant %+v", got, err, want.Grant)
		}
	}
	for _, bad := range [][]byte{nil, {}, {grantVersion}, {grantVersion, 0}, {3, '{', '}'}, {200}} {
		if c, err := decodeGrant(bad); err == nil {
			t.Errorf("%x decoded to %+v", bad, c)
		}
	}
}

func TestAuthStateCodec(t *testing.T) {
	cases := []authState{
		{ClientID: "c"},
		{ClientID: "client", RedirectURI: "https://sp.example/cb", State: "st\x00ä", Nonce: "n", CodeChallenge: "cc", Scopes: []string{"openid"}},
	}
	for _, want := range cases {
		got, err := decodeAuthState(encodeAuthState(&want))
		if err != nil || !reflect.DeepEqual(got, &want) {
			t.Errorf("round trip: got %+v %v, want %+v", got, err, want)
		}
		old, _ := json.Marshal(want)
		got, err = decodeAuthState(old)
		if err != nil || !reflect.DeepEqual(got, &want) {
			t.Errorf("earlier JSON: got %+v %v, want %+v", got, err, want)
		}
	}
	for _, bad := range [][]byte{nil, {}, {authStateVersion}, {2}, []byte(`{"client_id":`)} {
		if st, err := decodeAuthState(bad); err == nil {
			t.Errorf("%x decoded to %+v", bad, st)
		}
	}
}

func FuzzDecodeGrant(f *testing.F) {
	for _, g := range testGrants() {
		f.Add(encodeGrant(&g))
	}
	f.Add([]byte{2, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeGrant(data)
		if err != nil {
			return
		}
		again, err := decodeGrant(encodeGrant(c))
		if err != nil {
			t.Fatalf("%x: decoded %+v, then %v", data, c.Grant, err)
		}
		if again.GrantID != c.GrantID || again.Grant.Sub != c.Grant.Sub || string(again.Grant.Claims) != string(c.Grant.Claims) {
			t.Errorf("%x: decoded %+v, then %+v", data, c.Grant, again.Grant)
		}
	})
}

func FuzzDecodeAuthState(f *testing.F) {
	f.Add(encodeAuthState(&authState{ClientID: "c", Scopes: []string{"openid"}}))
	f.Add([]byte(`{"client_id":"c","scope":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeAuthState(data)
		if err != nil {
			return
		}
		again, err := decodeAuthState(encodeAuthState(st))
		if err != nil || again.ClientID != st.ClientID || again.RedirectURI != st.RedirectURI || len(again.Scopes) != len(st.Scopes) {
			t.Errorf("%x: decoded %+v, then %+v, %v", data, st, again, err)
		}
	})
}
