package oidc

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
)

// maxCodeLen bounds the code a token request may carry, and
// maxCodePlain what a code may inflate to.
const (
	maxCodeLen   = 8192
	maxCodePlain = 64 << 10
)

// codeReplayNS is the replay-cache namespace of redeemed codes.
const codeReplayNS = "oidc-code"

// accessTokenAD binds sealed access tokens to their purpose.
const accessTokenAD = "oidc access token"

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
const codeAD = "oidc authorization code"

// sealedCode is what an authorization code carries. The code is the grant
// itself, sealed (AES-256-GCM under the master key): issuing it writes
// nothing, any instance can redeem it, and the replay cache makes it
// single use. It stays short-lived (Config.CodeLifetime).
type sealedCode struct {
	GrantID string     `json:"g"`
	Grant   *grantData `json:"d"`
}

// sealCode deflates the grant before sealing it: its claims repeat OIDs
// and URNs, and the code travels in a URL.
func (p *Provider) sealCode(c sealedCode) (string, error) { return p.seal(c, codeAD) }

func (p *Provider) openCode(code string) (*sealedCode, error) { return p.open(code, codeAD) }

// newDeflater is the pool constructor of Provider.deflaters: a new flate
// writer allocates about a megabyte of state, which was a tenth of a login's
// CPU, so writers are kept and reset.
func newDeflater() any {
	zw, _ := flate.NewWriter(io.Discard, flate.BestSpeed) // BestSpeed is a valid level
	return zw
}

// seal deflates and seals a grant for the purpose ad.
func (p *Provider) seal(c sealedCode, ad string) (string, error) {
	var buf bytes.Buffer
	zw := p.deflaters.Get().(*flate.Writer)
	defer p.deflaters.Put(zw)
	zw.Reset(&buf)
	if err := json.NewEncoder(zw).Encode(c); err != nil {
		return "", fmt.Errorf("encode code: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compress code: %w", err)
	}
	sealed, err := p.sealer.SealString(buf.String(), ad)
	if err != nil {
		return "", fmt.Errorf("seal code: %w", err)
	}
	return sealed, nil
}

// open opens what seal sealed for the purpose ad.
func (p *Provider) open(code, ad string) (*sealedCode, error) {
	if len(code) > maxCodeLen {
		return nil, fmt.Errorf("open code: longer than %d", maxCodeLen)
	}
	compressed, err := p.sealer.OpenString(code, ad)
	if err != nil {
		return nil, fmt.Errorf("open code: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader([]byte(compressed))), maxCodePlain+1))
	if err != nil || len(data) > maxCodePlain {
		return nil, fmt.Errorf("open code: inflate: %v", err)
	}
	var c sealedCode
	if err := json.Unmarshal(data, &c); err != nil || c.Grant == nil || c.GrantID == "" {
		return nil, fmt.Errorf("decode code: %v", err)
	}
	return &c, nil
}
