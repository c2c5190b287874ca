package oidc

import (
	"encoding/base64"
	"fmt"
)

// maxCodeLen bounds the code (or sealed access token) a request may carry.
const maxCodeLen = 16384

// codeReplayNS is the replay-cache namespace of redeemed codes.
const codeReplayNS = "oidc-code"

// accessTokenAD binds sealed access tokens to their purpose.
const accessTokenAD = "oidc access token v3"

// revokedGrantNS is the replay-cache namespace used as the denylist of
// revoked grants: a reused code puts its grant there, and userinfo refuses
// the grant's access tokens.
const revokedGrantNS = "oidc-revoked-grant"

// accessTokenPrefix tells a sealed access token from an opaque one.
const accessTokenPrefix = "at."

// sealedAccess is what an access token carries: the grant as issued, sealed
// like a code, so that issuing a token writes nothing.
type sealedAccess = sealedCode

// sealAccessToken seals the grant of an access token.
func (p *Provider) sealAccessToken(a sealedAccess) (string, error) {
	s, err := p.seal(a, accessTokenAD)
	if err != nil {
		return "", err
	}
	return accessTokenPrefix + s, nil
}

// openAccessToken opens an access token sealed by sealAccessToken.
func (p *Provider) openAccessToken(tok string) (*sealedAccess, error) {
	if len(tok) <= len(accessTokenPrefix) || tok[:len(accessTokenPrefix)] != accessTokenPrefix {
		return nil, fmt.Errorf("not an access token")
	}
	return p.open(tok[len(accessTokenPrefix):], accessTokenAD)
}

// codeAD binds sealed codes to their purpose: nothing else sealed under the
// master key opens as a code.
const codeAD = "oidc authorization code v3"

// sealedCode is what an authorization code carries. The code is the grant
// itself, sealed (AES-256-GCM under the master key): issuing it writes
// nothing, any instance can redeem it, and the replay cache makes it
// single use. It stays short-lived (Config.CodeLifetime).
type sealedCode struct {
	GrantID string     `json:"g"`
	Grant   *grantData `json:"d"`
}

// sealCode seals a grant as an authorization code. The grant is sealed
// uncompressed: deflating it saved a third of its length but cost a tenth of
// a login's CPU (compressing, then inflating at the token endpoint), and a
// code of two or three kilobytes is well within what browsers and servers
// carry in a URL.
func (p *Provider) sealCode(c sealedCode) (string, error) { return p.seal(c, codeAD) }

func (p *Provider) openCode(code string) (*sealedCode, error) { return p.open(code, codeAD) }

// seal seals a grant for the purpose ad, in the form of encodeGrant: the
// claims, most of the bytes, are carried as the JSON they are sent as,
// not decoded and re-encoded at every step (the seal authenticates them).
func (p *Provider) seal(c sealedCode, ad string) (string, error) {
	sealed, err := p.sealer.Seal(encodeGrant(&c), []byte(ad))
	if err != nil {
		return "", fmt.Errorf("seal code: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// open opens what seal sealed for the purpose ad.
func (p *Provider) open(code, ad string) (*sealedCode, error) {
	if len(code) > maxCodeLen {
		return nil, fmt.Errorf("open code: longer than %d", maxCodeLen)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(code)
	if err != nil {
		return nil, fmt.Errorf("open code: %w", err)
	}
	data, err := p.sealer.Open(sealed, []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("open code: %w", err)
	}
	return decodeGrant(data)
}
