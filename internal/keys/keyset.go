package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"

	"github.com/mpassid/mpassid/internal/store"
)

// ErrNoKey is matched (errors.Is) when a KeySet has no current key for an
// algorithm, or no published key with a given id.
var ErrNoKey = errors.New("no such key")

// SigningKey is the current key of an algorithm, able to sign.
type SigningKey struct {
	ID        string // the JOSE kid
	Algorithm string // RS256 or ES256
	// Signer is the private key: *rsa.PrivateKey or *ecdsa.PrivateKey.
	Signer crypto.Signer
	// Certificate is the key's self-signed certificate.
	Certificate *x509.Certificate

	meter *SignMeter // nil: not counted
	kind  string     // KeyKind of Signer's public key
}

// Sign signs a SHA-256 digest as crypto.Signer does: RSASSA-PKCS1-v1_5 for
// an RSA key, ASN.1 DER for ECDSA (the XML and redirect-binding
// signatures of SAML). Key sets loaded by a Manager with a SignMeter count
// it there.
func (k *SigningKey) Sign(digest []byte) ([]byte, error) {
	return k.meter.measure(k.kind, func() ([]byte, error) {
		return k.Signer.Sign(rand.Reader, digest, crypto.SHA256)
	})
}

// SignJWS signs a SHA-256 digest as a JWS signature of the key's
// algorithm: RS256 is RSASSA-PKCS1-v1_5; ES256 the ECDSA P-256 pair (r, s)
// as two 32-byte big-endian numbers (RFC 7518 §3.4), not the ASN.1 that
// crypto.Signer returns. Counted as Sign is.
func (k *SigningKey) SignJWS(digest []byte) ([]byte, error) {
	return k.meter.measure(k.kind, func() ([]byte, error) { return k.signJWS(digest) })
}

func (k *SigningKey) signJWS(digest []byte) ([]byte, error) {
	switch key := k.Signer.(type) {
	case *rsa.PrivateKey:
		if k.Algorithm == RS256 {
			return rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest)
		}
	case *ecdsa.PrivateKey:
		if k.Algorithm == ES256 && key.Curve == elliptic.P256() {
			r, s, err := ecdsa.Sign(rand.Reader, key, digest)
			if err != nil {
				return nil, fmt.Errorf("keys: sign %s: %w", k.Algorithm, err)
			}
			sig := make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
			return sig, nil
		}
	}
	return nil, fmt.Errorf("keys: a %T cannot sign %s", k.Signer, k.Algorithm)
}

// PublicKey is a published key: next, current or previous.
type PublicKey struct {
	ID        string
	Algorithm string
	State     store.KeyState
	// Key is *rsa.PublicKey or *ecdsa.PublicKey.
	Key         crypto.PublicKey
	Certificate *x509.Certificate
}

// KeySet is an immutable snapshot of the signing keys, for the broker's
// in-memory configuration. Reload it (Manager.Load) when the configuration
// version changes. It is safe for concurrent use.
type KeySet struct {
	current   map[string]*SigningKey  // by algorithm
	published map[string][]*PublicKey // by algorithm: current, next, previous
	byID      map[string]*PublicKey
	jwks      []jose.JSONWebKey
	jwksJSON  []byte
}

// Load reads the keys and unseals every published one (next, current,
// previous) into a KeySet, checking that each private key matches its
// algorithm and certificate. Retired keys are not read. Records of
// algorithms this version does not know are skipped. If several keys of an
// algorithm are current (a race without a Locker), the oldest signs, as in
// Ensure; the others are only published.
func (m *Manager) Load(ctx context.Context) (*KeySet, error) {
	recs, err := m.st.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: load: list keys: %w", err)
	}
	ks := &KeySet{
		current:   map[string]*SigningKey{},
		published: map[string][]*PublicKey{},
		byID:      map[string]*PublicKey{},
	}
	for _, alg := range Algorithms() {
		// Published order: current first (SPs that take the first
		// certificate pick the signing one), then next, then previous.
		var ordered []store.KeyRecord
		for _, st := range []store.KeyState{store.KeyCurrent, store.KeyNext, store.KeyPrevious} {
			ordered = append(ordered, byState(recs, alg, st)...)
		}
		for _, rec := range ordered {
			priv, cert, err := m.open(rec)
			if err != nil {
				return nil, fmt.Errorf("keys: load %s key %s (%s): %w", alg, rec.ID, rec.State, err)
			}
			pub := &PublicKey{ID: rec.ID, Algorithm: alg, State: rec.State, Key: priv.Public(), Certificate: cert}
			if _, dup := ks.byID[rec.ID]; dup {
				return nil, fmt.Errorf("keys: load: duplicate key id %s", rec.ID)
			}
			ks.byID[rec.ID] = pub
			ks.published[alg] = append(ks.published[alg], pub)
			if rec.State == store.KeyCurrent && ks.current[alg] == nil {
				ks.current[alg] = &SigningKey{ID: rec.ID, Algorithm: alg, Signer: priv, Certificate: cert, meter: m.meter, kind: KeyKind(priv.Public())}
				m.meter.declare(ks.current[alg].kind)
			}
			ks.jwks = append(ks.jwks, jose.JSONWebKey{Key: pub.Key, KeyID: rec.ID, Algorithm: alg, Use: "sig"})
		}
	}
	ks.jwksJSON, err = json.Marshal(jose.JSONWebKeySet{Keys: ks.jwks})
	if err != nil {
		return nil, fmt.Errorf("keys: load: marshal JWKS: %w", err)
	}
	return ks, nil
}

// open unseals and parses a record's private key and certificate and
// checks that they belong together and to the record's algorithm.
func (m *Manager) open(rec store.KeyRecord) (crypto.Signer, *x509.Certificate, error) {
	cert, err := x509.ParseCertificate(rec.CertificateDER)
	if err != nil {
		return nil, nil, fmt.Errorf("parse certificate: %w", err)
	}
	pkcs8, err := m.sealer.Open(rec.SealedPrivateKey, []byte(rec.ID))
	if err != nil {
		return nil, nil, fmt.Errorf("unseal private key: %w", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(pkcs8)
	clear(pkcs8)
	if err != nil {
		return nil, nil, fmt.Errorf("parse private key: %w", err)
	}
	var priv crypto.Signer
	switch k := parsed.(type) {
	case *rsa.PrivateKey:
		if rec.Algorithm != RS256 {
			return nil, nil, fmt.Errorf("RSA private key stored as %s", rec.Algorithm)
		}
		priv = k
	case *ecdsa.PrivateKey:
		if rec.Algorithm != ES256 || k.Curve != elliptic.P256() {
			return nil, nil, fmt.Errorf("ECDSA %s private key stored as %s", k.Curve.Params().Name, rec.Algorithm)
		}
		priv = k
	default:
		return nil, nil, fmt.Errorf("unsupported private key type %T for %s", parsed, rec.Algorithm)
	}
	certPub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !certPub.Equal(priv.Public()) {
		return nil, nil, errors.New("certificate does not match the private key")
	}
	return priv, cert, nil
}

// Signer returns the current key of alg (RS256 or ES256).
func (ks *KeySet) Signer(alg string) (*SigningKey, error) {
	if err := checkAlgorithm(alg); err != nil {
		return nil, err
	}
	k := ks.current[alg]
	if k == nil {
		return nil, fmt.Errorf("keys: %w: no current %s key (run Ensure)", ErrNoKey, alg)
	}
	c := *k // a copy keeps the snapshot immutable
	return &c, nil
}

// SAMLSigningKey returns the key that signs SAML: the current RS256 key.
func (ks *KeySet) SAMLSigningKey() (*SigningKey, error) { return ks.Signer(RS256) }

// PublishedCertificates returns the certificates of the current, next and
// previous keys of alg, current first, for SAML metadata: publishing next
// and previous too lets service providers follow a rotation.
func (ks *KeySet) PublishedCertificates(alg string) []*x509.Certificate {
	var out []*x509.Certificate
	for _, k := range ks.published[alg] {
		out = append(out, k.Certificate)
	}
	return out
}

// JWKS returns the public keys of the next, current and previous keys of
// every algorithm (kid, alg, use "sig"). It never contains private parts.
func (ks *KeySet) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: slices.Clone(ks.jwks)}
}

// JWKSJSON returns JWKS as JSON, for the jwks_uri endpoint.
func (ks *KeySet) JWKSJSON() ([]byte, error) {
	return slices.Clone(ks.jwksJSON), nil
}

// Verifier returns the published key with id kid, to verify tokens this
// broker signed. Retired and unknown keys give an error matching ErrNoKey.
// Next keys are included: another instance may already sign with them.
func (ks *KeySet) Verifier(kid string) (*PublicKey, error) {
	k := ks.byID[kid]
	if k == nil {
		return nil, fmt.Errorf("keys: %w: no published key with id %q", ErrNoKey, kid)
	}
	c := *k
	return &c, nil
}
