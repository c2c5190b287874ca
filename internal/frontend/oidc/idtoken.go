package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/keys"
)

// idTokenAlg is the client's ID token algorithm: ES256 when it registered
// it, RS256 otherwise.
func idTokenAlg(svc *broker.Service) string {
	if svc.Integration.SP.OIDC.IDTokenSignedResponseAlg == keys.ES256 {
		return keys.ES256
	}
	return keys.RS256
}

// signJWT signs claims with the current key of alg, with header typ.
func (p *Provider) signJWT(alg, typ string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	return p.signPayload(alg, typ, payload)
}

// signPayload signs a JWT payload that is already JSON, as a JWS in
// compact form whose header names alg, the key's kid and typ.
//
// It signs directly rather than through go-jose, which built a signer and
// marshalled a header map for every token (some 30 µs of a login beside
// the signature itself). The header's bytes are go-jose's (its keys in
// sorted order), and a test holds the tokens to go-jose's: RS256 to the
// byte, ES256 by verification.
func (p *Provider) signPayload(alg, typ string, payload []byte) (string, error) {
	ks := p.keys()
	if ks == nil {
		return "", errors.New("no key set loaded")
	}
	sk, err := ks.Signer(alg)
	if err != nil {
		return "", fmt.Errorf("signing key: %w", err)
	}
	header := appendJWSHeader(make([]byte, 0, 96), alg, sk.ID, typ)
	enc := base64.RawURLEncoding
	hl, pl := enc.EncodedLen(len(header)), enc.EncodedLen(len(payload))
	out := make([]byte, hl+1+pl, hl+1+pl+1+enc.EncodedLen(512))
	enc.Encode(out, header)
	out[hl] = '.'
	enc.Encode(out[hl+1:], payload)
	digest := sha256.Sum256(out)
	sig, err := sk.SignJWS(digest[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	out = append(out, '.')
	out = enc.AppendEncode(out, sig)
	return string(out), nil
}

// idTokenClaims are the claims the provider sets in every ID token; the
// released data-model claims follow them in the same object.
type idTokenClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Iat      int64  `json:"iat"`
	Exp      int64  `json:"exp"`
	AuthTime int64  `json:"auth_time"`
	ACR      string `json:"acr"`
	Nonce    string `json:"nonce,omitempty"`
	SID      string `json:"sid,omitempty"`
	AtHash   string `json:"at_hash,omitempty"`
}

// appendJSON appends c as encoding/json writes it (TestIDTokenClaimsJSON),
// without its reflection on every token.
func (c *idTokenClaims) appendJSON(b []byte) []byte {
	b = append(b, `{"iss":`...)
	b = appendJSONString(b, c.Iss)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, c.Sub)
	b = append(b, `,"aud":`...)
	b = appendJSONString(b, c.Aud)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.Iat, 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.Exp, 10)
	b = append(b, `,"auth_time":`...)
	b = strconv.AppendInt(b, c.AuthTime, 10)
	b = append(b, `,"acr":`...)
	b = appendJSONString(b, c.ACR)
	for _, f := range [...]struct{ key, value string }{{`,"nonce":`, c.Nonce}, {`,"sid":`, c.SID}, {`,"at_hash":`, c.AtHash}} {
		if f.value != "" {
			b = append(b, f.key...)
			b = appendJSONString(b, f.value)
		}
	}
	return append(b, '}')
}

// appendJWSHeader appends the protected header {"alg","kid","typ"} as
// encoding/json writes the struct of those fields (TestJWSHeaderJSON).
func appendJWSHeader(b []byte, alg, kid, typ string) []byte {
	return appendStringObject(b, "alg", alg, "kid", kid, "typ", typ)
}

// signIDToken builds and signs the ID token of grant g.
func (p *Provider) signIDToken(svc *broker.Service, g *grantData, accessToken string, now time.Time) (string, error) {
	std := idTokenClaims{
		Iss: p.cfg.Issuer, Sub: g.Sub, Aud: g.ClientID,
		Iat: now.Unix(), Exp: now.Add(p.cfg.IDTokenLifetime).Unix(),
		AuthTime: g.AuthTime, ACR: g.ACR, Nonce: g.Nonce, SID: g.SID,
	}
	if accessToken != "" {
		std.AtHash = leftHash(accessToken)
	}
	payload, err := withClaims(std.appendJSON(make([]byte, 0, 512)), g.Claims)
	if err != nil {
		return "", err
	}
	return p.signPayload(idTokenAlg(svc), "JWT", payload)
}

// leftHash is the at_hash of RS256 and ES256: base64url of the left half
// of the SHA-256 hash.
func leftHash(v string) string {
	h := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// hintClaims are what the end-session endpoint reads of an id_token_hint.
type hintClaims struct {
	jwt.Claims
	SID string `json:"sid"`
}

// verifyOwnToken checks that token is a JWT this provider signed (with a
// published key) for this issuer, ignoring its expiry, and returns its
// claims.
func (p *Provider) verifyOwnToken(token string) (*hintClaims, error) {
	if len(token) > 16<<10 {
		return nil, errors.New("token too long")
	}
	tok, err := jwt.ParseSigned(token, joseAlgs(supportedIDTokenAlgs))
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("not a single signature")
	}
	ks := p.keys()
	if ks == nil {
		return nil, errors.New("no key set loaded")
	}
	pk, err := ks.Verifier(tok.Headers[0].KeyID)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if pk.Algorithm != tok.Headers[0].Algorithm {
		return nil, errors.New("algorithm does not match the key")
	}
	var c hintClaims
	if err := tok.Claims(pk.Key, &c); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if c.Issuer != p.cfg.Issuer {
		return nil, errors.New("issued by another issuer")
	}
	return &c, nil
}
