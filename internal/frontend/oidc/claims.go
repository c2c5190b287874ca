package oidc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
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
	if b, ok := appendClaims(nil, c); ok {
		return b, nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode claims: %w", err)
	}
	return b, nil
}

// appendClaims appends claims whose values are all strings or string
// slices (all that identity.OIDCClaims releases) as encoding/json writes
// the map: keys sorted, strings escaped as it escapes them. It reports
// false, appending nothing, for any other value. encoding/json walked
// the map by reflection on every login (TestAppendClaims and
// FuzzAppendClaims hold the two to the same bytes).
func appendClaims(b []byte, c map[string]any) ([]byte, bool) {
	keys := make([]string, 0, len(c))
	n := 2
	for k, v := range c {
		switch v := v.(type) {
		case string:
			n += len(k) + len(v) + 6
		case []string:
			n += len(k) + 6
			for _, s := range v {
				n += len(s) + 3
			}
		default:
			return b, false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = slices.Grow(b, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		switch v := c[k].(type) {
		case string:
			b = appendJSONString(b, v)
		case []string:
			if v == nil {
				b = append(b, "null"...)
				continue
			}
			b = append(b, '[')
			for j, s := range v {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, s)
			}
			b = append(b, ']')
		}
	}
	return append(b, '}'), true
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
