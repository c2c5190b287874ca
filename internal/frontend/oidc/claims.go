package oidc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
)

// registeredClaims are the names the provider itself sets in ID tokens and
// userinfo answers. Released data-model claims never use them; a release
// that did would be dropped rather than duplicate a key.
var registeredClaims = []string{"iss", "sub", "aud", "iat", "exp", "nbf", "auth_time", "acr", "nonce", "sid", "at_hash", "azp", "jti"}

// noClaims is the released claims of a grant without the profile scope.
var noClaims = json.RawMessage(`{}`)

// releasedClaims encodes the released claims once, as the JSON object the
// ID token and userinfo carry (keys sorted, as encoding/json writes maps).
func releasedClaims(c map[string]any) (json.RawMessage, error) {
	if len(c) == 0 {
		return noClaims, nil
	}
	for _, k := range registeredClaims {
		if _, ok := c[k]; ok {
			c = maps.Clone(c)
			for _, k := range registeredClaims {
				delete(c, k)
			}
			break
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode claims: %w", err)
	}
	return b, nil
}

// withClaims returns the JSON object std (the provider's own claims) with
// the members of the released claims object appended.
func withClaims(std []byte, released json.RawMessage) ([]byte, error) {
	std = bytes.TrimSpace(std)
	released = bytes.TrimSpace(released)
	if len(std) < 2 || std[0] != '{' || std[len(std)-1] != '}' {
		return nil, fmt.Errorf("claims: not a JSON object")
	}
	if len(released) == 0 || bytes.Equal(released, noClaims) {
		return std, nil
	}
	if len(released) < 2 || released[0] != '{' || released[len(released)-1] != '}' {
		return nil, fmt.Errorf("released claims: not a JSON object")
	}
	out := make([]byte, 0, len(std)+len(released))
	out = append(out, std[:len(std)-1]...)
	if len(std) > 2 {
		out = append(out, ',')
	}
	return append(out, released[1:]...), nil
}
