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
func (p *Provider) sealCode(c sealedCode) (string, error) {
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		return "", fmt.Errorf("compress code: %w", err)
	}
	if err := json.NewEncoder(zw).Encode(c); err != nil {
		return "", fmt.Errorf("encode code: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compress code: %w", err)
	}
	sealed, err := p.sealer.SealString(buf.String(), codeAD)
	if err != nil {
		return "", fmt.Errorf("seal code: %w", err)
	}
	return sealed, nil
}

func (p *Provider) openCode(code string) (*sealedCode, error) {
	if len(code) > maxCodeLen {
		return nil, fmt.Errorf("open code: longer than %d", maxCodeLen)
	}
	compressed, err := p.sealer.OpenString(code, codeAD)
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
