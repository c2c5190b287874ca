package oidc

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mpassid/mpassid/internal/flatjson"
)

// The ID token is verified here rather than by go-oidc, which parses a
// token twice (once to read it, once more in its key set to verify it),
// decodes its claims into a structure of its own that the connector then
// decodes again into the claims it maps, and strips white space rune by
// rune: some 0.1 ms of the broker's CPU a login beside the signature
// check itself. The checks are go-oidc's, made in one pass over the token:
//
//   - a JWS in compact serialization (an encrypted token, five parts, is
//     refused) whose header names an algorithm the OP announced in
//     discovery (id_token_signing_alg_values_supported, among RS*, PS*,
//     ES* and EdDSA; RS256 when it announced none) and no critical
//     extension;
//   - one signature by a key of the OP's JWKS: the key of the header's kid,
//     or any key when the token names none; a key that declares a use other
//     than "sig" or another algorithm is not tried. The JWKS is fetched on
//     first use and again when no cached key verifies a token (a key
//     rotation), once for any number of logins that miss together;
//   - iss is the issuer (Google's tokens may name it without the scheme),
//     aud names the client, azp (when sent) is the client, exp has not
//     passed, nbf (when sent) is at most 5 minutes ahead (go-oidc's leeway
//     for clock skew).
//
// The caller checks the nonce, the subject and at_hash.

// supportedAlgs are the JWS algorithms the connector can verify.
var supportedAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// notBeforeLeeway is how far ahead of the clock a token's nbf may be.
const notBeforeLeeway = 5 * time.Minute

// errTokenExpired is returned when exp has passed.
var errTokenExpired = errors.New("ID token expired")

// maxJWKS bounds the JWKS read from the OP.
const maxJWKS = 1 << 20

// keySet is the OP's JWKS, fetched when needed.
type keySet struct {
	url    string
	client *http.Client

	mu   sync.Mutex
	keys []jose.JSONWebKey
	gen  int // counts fetches, so that logins missing together fetch once
}

// verifySignature returns the key of the set that verifies sig over
// signingInput with alg, fetching the set anew when no cached key does.
func (s *keySet) verifySignature(ctx context.Context, alg, kid string, signingInput, sig []byte) (crypto.PublicKey, error) {
	// The digest once, whichever keys are tried.
	var digest []byte
	if h, ok := hashOf(alg); ok && alg != "EdDSA" {
		hw := newHash(h)
		hw.Write(signingInput)
		digest = hw.Sum(nil)
	}
	s.mu.Lock()
	keys, gen := s.keys, s.gen
	s.mu.Unlock()
	if gen > 0 {
		if key := verifyingKey(keys, alg, kid, signingInput, digest, sig); key != nil {
			return key, nil
		}
	}
	keys, err := s.fetch(ctx, gen)
	if err != nil {
		return nil, err
	}
	if key := verifyingKey(keys, alg, kid, signingInput, digest, sig); key != nil {
		return key, nil
	}
	if kid != "" && !slices.ContainsFunc(keys, func(k jose.JSONWebKey) bool { return k.KeyID == kid }) {
		return nil, fmt.Errorf("no key %q in the provider's JWKS", kid)
	}
	return nil, errors.New("no key of the provider's JWKS verifies the signature")
}

// fetch reads the JWKS and caches its keys, unless another caller fetched
// them since generation gen.
func (s *keySet) fetch(ctx context.Context, gen int) ([]jose.JSONWebKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return s.keys, nil
	}
	body, err := getJSON(ctx, s.client, s.url, "", maxJWKS)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	// Key by key: go-jose refuses a whole set for one key it cannot read
	// (an Ed448 or X25519 key, a kty of the future), and an OP may
	// publish such keys beside those it signs ID tokens with.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body.data, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if json.Unmarshal(raw, &k) == nil && k.Valid() && k.IsPublic() {
			keys = append(keys, k)
		}
	}
	s.keys = keys
	s.gen++
	return s.keys, nil
}

// verifyingKey returns the key of keys, of the kid when there is one,
// that verifies the signature, or nil.
func verifyingKey(keys []jose.JSONWebKey, alg, kid string, signingInput, digest, sig []byte) crypto.PublicKey {
	for _, k := range keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != alg) {
			continue
		}
		if verifies(k.Key, alg, signingInput, digest, sig) {
			return k.Key
		}
	}
	return nil
}

// hashOf returns the hash a JWS algorithm signs with (for EdDSA, the one
// at_hash is computed with).
func hashOf(alg string) (crypto.Hash, bool) {
	switch alg {
	case "RS256", "PS256", "ES256":
		return crypto.SHA256, true
	case "RS384", "PS384", "ES384":
		return crypto.SHA384, true
	case "RS512", "PS512", "ES512", "EdDSA":
		return crypto.SHA512, true
	}
	return 0, false
}

func newHash(h crypto.Hash) hash.Hash {
	switch h {
	case crypto.SHA384:
		return sha512.New384()
	case crypto.SHA512:
		return sha512.New()
	}
	return sha256.New()
}

// verifies checks a JWS signature (RFC 7518 section 3) with one public
// key: EdDSA over the signing input, the others over its digest by the
// algorithm's hash.
func verifies(key any, alg string, signingInput, digest, sig []byte) bool {
	if alg == "EdDSA" {
		pub, ok := key.(ed25519.PublicKey)
		return ok && len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, signingInput, sig)
	}
	h, ok := hashOf(alg)
	if !ok || len(digest) != h.Size() {
		return false
	}
	switch pub := key.(type) {
	case *rsa.PublicKey:
		switch alg[0] {
		case 'R':
			return rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
		case 'P':
			return rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
		}
	case *ecdsa.PublicKey:
		var curve elliptic.Curve
		switch alg {
		case "ES256":
			curve = elliptic.P256()
		case "ES384":
			curve = elliptic.P384()
		case "ES512":
			curve = elliptic.P521()
		}
		if curve == nil || pub.Curve != curve {
			return false
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, digest, r, s)
	}
	return false
}

// IDTokenVerifier checks the ID tokens one issuer signs for one client, as
// this file's comment says. The connector makes one from the provider's
// discovery; the load tool checks the broker's own ID tokens with one, as
// it checks the broker's assertions with the SAML connector's verifier:
// the code that verifies is not the code that signs.
type IDTokenVerifier struct {
	issuer, clientID string
	algs             []string
	keys             *keySet
	now              func() time.Time
}

// NewIDTokenVerifier returns a verifier of issuer's ID tokens for
// clientID, signed with one of algs by a key of the JWKS at jwksURL
// (fetched with client when first needed); now is the clock (nil means
// time.Now).
func NewIDTokenVerifier(issuer, clientID, jwksURL string, algs []string, client *http.Client, now func() time.Time) *IDTokenVerifier {
	if now == nil {
		now = time.Now
	}
	return &IDTokenVerifier{issuer: issuer, clientID: clientID, algs: algs, now: now,
		keys: &keySet{url: jwksURL, client: client}}
}

// IDToken is a verified ID token.
type IDToken struct {
	// Alg is the algorithm it is signed with, Key the key of the JWKS
	// that verified it.
	Alg string
	Key crypto.PublicKey
	// Claims are its claims, numbers as json.Number.
	Claims map[string]any
}

// Claim returns the string claim name, "" when absent or not a string.
func (t *IDToken) Claim(name string) string {
	s, _ := t.Claims[name].(string)
	return s
}

// jwsHeader is what is read of a JWS header.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// readHeader reads a JWS header: in one pass when it is flat, as headers
// are, otherwise with encoding/json.
func readHeader(data []byte) (jwsHeader, error) {
	var h jwsHeader
	names := []string{"alg", "kid", "crit"}
	flat := flatjson.Members(data, func(name, value []byte) bool {
		k, ok := flatjson.Field(name, names)
		switch {
		case !ok:
			return false
		case k == 0:
			h.Alg, ok = flatjson.PlainString(value)
		case k == 1:
			h.Kid, ok = flatjson.PlainString(value)
		case k == 2:
			h.Crit = value // any value, null included, is refused
		}
		return ok
	})
	if flat {
		return h, nil
	}
	h = jwsHeader{} // what the flat read read before it declined
	err := json.Unmarshal(data, &h)
	return h, err
}

// verifySigned checks a compact JWS's form, algorithm and signature and
// returns its algorithm, the key that verified it and its decoded payload.
func verifySigned(ctx context.Context, raw string, algs []string, keys *keySet) (string, crypto.PublicKey, []byte, error) {
	header, rest, ok := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	switch {
	case !ok || !ok2:
		return "", nil, nil, errors.New("not a JWS in compact serialization")
	case strings.Contains(sig, "."):
		return "", nil, nil, errors.New("encrypted tokens are not supported")
	}
	hb, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return "", nil, nil, fmt.Errorf("header: %w", err)
	}
	h, err := readHeader(hb)
	if err != nil {
		return "", nil, nil, fmt.Errorf("header: %w", err)
	}
	if h.Crit != nil {
		return "", nil, nil, errors.New("header: critical extensions are not supported")
	}
	if !slices.Contains(algs, h.Alg) {
		return "", nil, nil, fmt.Errorf("signed with %q; the provider announced %v", h.Alg, algs)
	}
	signature, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return "", nil, nil, fmt.Errorf("signature: %w", err)
	}
	key, err := keys.verifySignature(ctx, h.Alg, h.Kid, []byte(raw[:len(header)+1+len(payload)]), signature)
	if err != nil {
		return "", nil, nil, err
	}
	claims, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", nil, nil, fmt.Errorf("payload: %w", err)
	}
	return h.Alg, key, claims, nil
}

// Verify checks raw as the file's comment says and returns it.
func (v *IDTokenVerifier) Verify(ctx context.Context, raw string) (*IDToken, error) {
	alg, key, payload, err := verifySigned(ctx, raw, v.algs, v.keys)
	if err != nil {
		return nil, err
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	t := &IDToken{Alg: alg, Key: key, Claims: claims}
	if iss := t.Claim("iss"); iss != v.issuer && (v.issuer != GoogleIssuer || iss != strings.TrimPrefix(GoogleIssuer, "https://")) {
		return nil, fmt.Errorf("issued by %q, not %q", iss, v.issuer)
	}
	if !audienceNames(claims["aud"], v.clientID) {
		return nil, fmt.Errorf("the audience %v does not name the client %q", claims["aud"], v.clientID)
	}
	if azp, ok := claims["azp"]; ok && azp != v.clientID {
		return nil, fmt.Errorf("authorized party %v is not the client %q", azp, v.clientID)
	}
	now := v.now()
	exp, err := numericDate(claims["exp"])
	if err != nil {
		return nil, fmt.Errorf("exp: %w", err)
	}
	if exp.Before(now) {
		return nil, fmt.Errorf("%w at %v", errTokenExpired, exp)
	}
	if nbf, ok := claims["nbf"]; ok {
		t, err := numericDate(nbf)
		if err != nil {
			return nil, fmt.Errorf("nbf: %w", err)
		}
		if now.Add(notBeforeLeeway).Before(t) {
			return nil, fmt.Errorf("not valid before %v", t)
		}
	}
	return t, nil
}

// audienceNames tells whether aud, a string or an array of strings, names
// the client.
func audienceNames(aud any, clientID string) bool {
	switch a := aud.(type) {
	case string:
		return a == clientID
	case []any:
		return slices.Contains(a, any(clientID))
	}
	return false
}

// maxNumericDate is the last second of the year 9999: a later date, or
// one before 1970, is refused rather than converted, as one beyond int64
// would wrap into the past.
const maxNumericDate = 253402300799

// numericDate reads a NumericDate (seconds, perhaps fractional).
func numericDate(v any) (time.Time, error) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, errors.New("missing or not a number")
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, fmt.Errorf("not a number: %w", err)
	}
	if f < 0 || f > maxNumericDate {
		return time.Time{}, fmt.Errorf("%s is out of range", n)
	}
	return time.Unix(int64(f), 0), nil
}

// accessTokenHashMatches checks at_hash (OpenID Connect Core 3.1.3.6): the
// left half of the access token's hash by the ID token's algorithm.
func accessTokenHashMatches(alg, atHash, accessToken string) bool {
	h, ok := hashOf(alg)
	if !ok {
		return false
	}
	hw := newHash(h)
	hw.Write([]byte(accessToken))
	sum := hw.Sum(nil)
	want := base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	return subtle.ConstantTimeCompare([]byte(want), []byte(atHash)) == 1
}

// decodeClaims decodes a JSON object of claims, numbers as json.Number: in
// one pass when they are flat, as most are (flatjson).
func decodeClaims(raw []byte) (map[string]any, error) {
	if m, ok := flatjson.Object(raw); ok {
		return m, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, errors.New("the claims are not a JSON object")
	}
	if len(bytes.Trim(raw[d.InputOffset():], " \t\r\n")) != 0 {
		return nil, errors.New("the claims are followed by more text")
	}
	return m, nil
}
