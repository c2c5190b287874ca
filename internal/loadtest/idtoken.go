package loadtest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mpassid/mpassid/internal/flatjson"
)

// idTokenVerifier checks the broker's ID tokens as go-oidc's verifier did:
// a JWS in compact form with one RS256 or ES256 signature by a key of the
// broker's JWKS, the issuer, the client among the audience, the expiry,
// and not-before with go-oidc's 5 minutes' leeway. It parses the token and
// decodes its header and claims once each: go-oidc and go-jose strip white
// space rune by rune, decode the header into a general structure and the
// claims into one with maps, some 0.1 ms of an OIDC login, a sixth of the
// tool's own CPU. The keys are go-jose's reading of the JWKS, fetched once
// and again only when no cached key verifies a token (a rotation), as
// go-oidc's remote key set does.
type idTokenVerifier struct {
	issuer, clientID, jwksURL string
	client                    *http.Client
	ops                       *sigOps // counts the ID tokens the broker signed

	mu   sync.Mutex
	keys []jose.JSONWebKey
	gen  int // counts fetches, so that concurrent misses fetch once
}

// idTokenLeeway is how far in the future a token's nbf may be, go-oidc's
// allowance for clock skew.
const idTokenLeeway = 5 * time.Minute

// idToken is what the tool reads of an ID token's claims.
type idToken struct {
	Issuer    string          `json:"iss"`
	Subject   string          `json:"sub"`
	Audience  json.RawMessage `json:"aud"` // a string or an array of them
	Expiry    *json.Number    `json:"exp"`
	NotBefore *json.Number    `json:"nbf"`
	Nonce     string          `json:"nonce"`
}

// verify checks raw and returns its claims.
func (v *idTokenVerifier) verify(ctx context.Context, raw string, now time.Time) (*idToken, error) {
	header, rest, ok := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(sig, ".") {
		return nil, errors.New("not a compact JWS")
	}
	var h jwsHeader
	if err := decodeSegment(header, &h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if h.Crit != nil {
		return nil, errors.New("header: critical extensions are not supported")
	}
	if h.Alg != string(jose.RS256) && h.Alg != string(jose.ES256) {
		return nil, fmt.Errorf("signed with %q, not RS256 or ES256", h.Alg)
	}
	signature, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	digest := sha256.Sum256([]byte(raw[:len(header)+1+len(payload)]))
	if err := v.verifySignature(ctx, h.Alg, h.Kid, digest[:], signature); err != nil {
		return nil, err
	}

	var t idToken
	if err := decodeSegment(payload, &t); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	if t.Issuer != v.issuer {
		return nil, fmt.Errorf("issued by %q, not %q", t.Issuer, v.issuer)
	}
	aud, err := audienceOf(t.Audience)
	if err != nil {
		return nil, fmt.Errorf("aud: %w", err)
	}
	if !slices.Contains(aud, v.clientID) {
		return nil, fmt.Errorf("audience %q does not name the client", aud)
	}
	exp, err := unixTime(t.Expiry)
	if err != nil {
		return nil, fmt.Errorf("exp: %w", err)
	}
	if exp.Before(now) {
		return nil, fmt.Errorf("expired at %v", exp)
	}
	if t.NotBefore != nil {
		nbf, err := unixTime(t.NotBefore)
		if err != nil {
			return nil, fmt.Errorf("nbf: %w", err)
		}
		if now.Add(idTokenLeeway).Before(nbf) {
			return nil, fmt.Errorf("not valid before %v", nbf)
		}
	}
	return &t, nil
}

// jwsHeader is what the tool reads of a JWS header.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// flatSegment is a segment readFlat can read in one pass: see
// flatjson.Members.
type flatSegment interface {
	readFlat(data []byte) bool
}

// readFlat reads a flat header: plain strings alg and kid, any crit.
func (h *jwsHeader) readFlat(data []byte) bool {
	names := []string{"alg", "kid", "crit"}
	return flatjson.Members(data, func(name, value []byte) bool {
		k, ok := flatjson.Field(name, names)
		switch {
		case !ok:
			return false
		case k == 0:
			h.Alg, ok = flatjson.PlainString(value)
		case k == 1:
			h.Kid, ok = flatjson.PlainString(value)
		case k == 2:
			h.Crit = value
		}
		return ok
	})
}

// readFlat reads flat claims: iss, sub and nonce plain strings, aud a
// plain string or an array (decoded later), exp and nbf numbers.
func (t *idToken) readFlat(data []byte) bool {
	names := []string{"iss", "sub", "nonce", "aud", "exp", "nbf"}
	return flatjson.Members(data, func(name, value []byte) bool {
		k, ok := flatjson.Field(name, names)
		switch {
		case !ok:
			return false
		case k == 0:
			t.Issuer, ok = flatjson.PlainString(value)
		case k == 1:
			t.Subject, ok = flatjson.PlainString(value)
		case k == 2:
			t.Nonce, ok = flatjson.PlainString(value)
		case k == 3:
			t.Audience = value
		case k == 4 || k == 5:
			// encoding/json also takes a number in a string, and null.
			if !flatjson.IsNumber(value) {
				return false
			}
			n := json.Number(value)
			if k == 4 {
				t.Expiry = &n
			} else {
				t.NotBefore = &n
			}
		}
		return ok
	})
}

// decodeSegment decodes a base64url JSON segment of a JWS, in one pass if
// it is flat.
func decodeSegment[T any, PT interface {
	*T
	flatSegment
}](seg string, v PT) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("base64url: %w", err)
	}
	if v.readFlat(b) {
		return nil
	}
	var zero T
	*v = zero // what readFlat read before it gave up
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("JSON: %w", err)
	}
	return nil
}

// audienceOf reads aud, a string or an array of strings.
func audienceOf(raw json.RawMessage) ([]string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("neither a string nor an array of strings: %w", err)
	}
	return list, nil
}

// unixTime reads a NumericDate, whole seconds as go-oidc reads it.
func unixTime(n *json.Number) (time.Time, error) {
	if n == nil {
		return time.Time{}, errors.New("missing")
	}
	if i, err := n.Int64(); err == nil {
		return time.Unix(i, 0), nil
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, fmt.Errorf("not a number: %w", err)
	}
	return time.Unix(int64(f), 0), nil
}

// verifySignature checks the signature against the cached keys of the kid
// (any key when the token names none), and against the JWKS fetched anew
// when none of them verifies.
func (v *idTokenVerifier) verifySignature(ctx context.Context, alg, kid string, digest, sig []byte) error {
	v.mu.Lock()
	keys, gen := v.keys, v.gen
	v.mu.Unlock()
	if key := verifyingKey(keys, alg, kid, digest, sig); key != nil {
		v.ops.signed(key)
		return nil
	}
	keys, err := v.fetchKeys(ctx, gen)
	if err != nil {
		return err
	}
	if key := verifyingKey(keys, alg, kid, digest, sig); key != nil {
		v.ops.signed(key)
		return nil
	}
	return errors.New("no key of the JWKS verifies the signature")
}

// verifyingKey returns the key of keys that verifies the signature, or nil.
func verifyingKey(keys []jose.JSONWebKey, alg, kid string, digest, sig []byte) any {
	for _, k := range keys {
		if (kid == "" || k.KeyID == kid) && verifiesWith(k.Key, alg, digest, sig) {
			return k.Key
		}
	}
	return nil
}

// verifiesWith checks a JWS signature over a SHA-256 digest: PKCS #1 v1.5
// for RS256, the 64 bytes of r and s for ES256 on P-256.
func verifiesWith(key any, alg string, digest, sig []byte) bool {
	switch pub := key.(type) {
	case *rsa.PublicKey:
		return alg == string(jose.RS256) && rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig) == nil
	case *ecdsa.PublicKey:
		if alg != string(jose.ES256) || pub.Curve != elliptic.P256() || len(sig) != 64 {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub, digest, r, s)
	}
	return false
}

// fetchKeys reads the JWKS and caches its keys, unless they were fetched
// since generation gen was cached.
func (v *idTokenVerifier) fetchKeys(ctx context.Context, gen int) ([]jose.JSONWebKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.gen != gen {
		return v.keys, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS: HTTP %d", resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	v.keys = set.Keys
	v.gen++
	return v.keys, nil
}
