package oidc

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/mpassid/mpassid/internal/binenc"
)

// Versions of the binenc records this provider seals. Records of earlier
// versions, JSON, still open: an authState's JSON starts with '{', and a
// code's or access token's with the varint length of its JSON part, which
// is never 1 (the JSON is at least "{}"). Codes and access tokens live
// minutes, so those fallbacks can go a release after this one.
const (
	grantVersion     = 1
	authStateVersion = 1
)

// encodeGrant is the plaintext of a code or access token: the grant's
// fields, then its claims' JSON as it is, which ends the record.
func encodeGrant(c *sealedCode) []byte {
	g := c.Grant
	if g == nil {
		g = &grantData{}
	}
	w := binenc.NewWriter(grantVersion, 160+len(g.Claims)+len(g.RedirectURI)+len(g.Nonce))
	w.String(c.GrantID)
	w.String(g.ClientID)
	w.Int(g.ServiceID)
	w.String(g.RedirectURI)
	w.String(g.CodeChallenge)
	w.String(g.Nonce)
	w.Strings(g.Scopes)
	w.String(g.Sub)
	w.String(g.ACR)
	w.Int(g.AuthTime)
	w.String(g.SID)
	w.Int(g.Expires)
	return append(w.Bytes(), g.Claims...)
}

// decodeGrant reads what encodeGrant wrote, or the earlier JSON form.
func decodeGrant(data []byte) (*sealedCode, error) {
	if len(data) > 0 && data[0] != grantVersion {
		return decodeGrantJSON(data)
	}
	r := binenc.NewReader(data, grantVersion)
	c := sealedCode{GrantID: r.String(), Grant: &grantData{}}
	g := c.Grant
	g.ClientID = r.String()
	g.ServiceID = r.Int()
	g.RedirectURI = r.String()
	g.CodeChallenge = r.String()
	g.Nonce = r.String()
	g.Scopes = r.Strings()
	g.Sub = r.String()
	g.ACR = r.String()
	g.AuthTime = r.Int()
	g.SID = r.String()
	g.Expires = r.Int()
	if claims := r.Rest(); len(claims) > 0 {
		g.Claims = json.RawMessage(claims)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode code: %w", err)
	}
	if c.GrantID == "" {
		return nil, fmt.Errorf("decode code: no grant id")
	}
	return &c, nil
}

// decodeGrantJSON reads the form of earlier versions: the varint length
// of the grant's JSON without claims, that JSON, then the claims' JSON.
func decodeGrantJSON(data []byte) (*sealedCode, error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)-k) {
		return nil, fmt.Errorf("decode code: bad framing")
	}
	meta, claims := data[k:k+int(n)], data[k+int(n):]
	var c sealedCode
	if err := json.Unmarshal(meta, &c); err != nil || c.Grant == nil || c.GrantID == "" {
		return nil, fmt.Errorf("decode code: %v", err)
	}
	if len(claims) > 0 {
		c.Grant.Claims = claims
	}
	return &c, nil
}

// encodeAuthState is the frontend's state in the broker transaction.
func encodeAuthState(st *authState) []byte {
	w := binenc.NewWriter(authStateVersion, 64+len(st.RedirectURI)+len(st.State)+len(st.Nonce))
	w.String(st.ClientID)
	w.String(st.RedirectURI)
	w.String(st.State)
	w.String(st.Nonce)
	w.String(st.CodeChallenge)
	w.Strings(st.Scopes)
	return w.Bytes()
}

// decodeAuthState reads what encodeAuthState wrote, or the earlier JSON.
func decodeAuthState(data []byte) (*authState, error) {
	var st authState
	if binenc.WrittenAsJSON(data) {
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, fmt.Errorf("decode login state: %w", err)
		}
		return &st, nil
	}
	r := binenc.NewReader(data, authStateVersion)
	st.ClientID = r.String()
	st.RedirectURI = r.String()
	st.State = r.String()
	st.Nonce = r.String()
	st.CodeChallenge = r.String()
	st.Scopes = r.Strings()
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode login state: %w", err)
	}
	return &st, nil
}
