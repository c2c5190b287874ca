// Package keys keeps the broker's secrets: it seals secrets at rest under a
// master key, and it creates, rotates and loads the signing keys that sign
// SAML assertions and metadata (RS256) and OIDC ID tokens (RS256, ES256).
//
// # Sealing
//
// Private signing keys and integration secrets (OIDC client secrets,
// upstream credentials) are stored in the database only sealed with
// AES-256-GCM under a master key that lives outside the database (a file or
// an environment variable). A database dump or backup therefore does not
// leak the keys that let anyone sign as the broker. Every sealed value is
// bound to associated data naming where it belongs (for signing keys, the
// key id), so a sealed value copied into another record does not open. The
// format starts with a version byte and a master-key id byte, so that the
// master key can later be rotated with a key ring, and a value sealed with
// another master key gets a clear error instead of a generic failure.
//
// # Rotation
//
// Relying parties cache keys: OIDC clients cache the JWKS, SAML service
// providers often pin the certificate from metadata. Rotation therefore
// moves every key through four states (store.KeyState):
//
//	next      published in JWKS and metadata, does not sign yet
//	current   signs; exactly one per algorithm
//	previous  no longer signs, still published so that what it signed
//	          still verifies until it expires
//	retired   neither published nor used; kept for audit
//
// A key is published as next for at least one rotation interval before it
// signs, and stays published as previous for one interval after. Each
// Rotate call is one step, and changes the states in one store transaction,
// so there is never a moment without a current key. Brokers read a KeySet
// snapshot with Load and reload it when the configuration version changes;
// because the next key is already published, a broker that signs with the
// new current key before others reload produces tokens everyone verifies.
package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/store"
)

// Signing algorithms (JOSE names).
const (
	// RS256 is RSA PKCS#1 v1.5 with SHA-256; its key also signs SAML.
	RS256 = "RS256"
	// ES256 is ECDSA on P-256 with SHA-256.
	ES256 = "ES256"
)

// Algorithms lists the algorithms Ensure keeps a current key for.
func Algorithms() []string { return []string{RS256, ES256} }

// LockName is the store.Locker lock that Ensure and Rotate take.
const LockName = "keys"

// Defaults of Options.
const (
	DefaultRSABits             = 2048
	DefaultCommonName          = "mpassid"
	DefaultCertificateLifetime = 10 * 365 * 24 * time.Hour
)

// Options configure a Manager. The zero value gives the defaults.
type Options struct {
	// RSABits is the RSA modulus size; 0 means DefaultRSABits. At least
	// 2048.
	RSABits int
	// CommonName is the subject CN of the self-signed certificates, e.g.
	// the issuer's host name; "" means DefaultCommonName.
	CommonName string
	// CertificateLifetime is how long certificates are valid; 0 means
	// DefaultCertificateLifetime. It is long because SAML service providers
	// pin the certificate and some check its validity.
	CertificateLifetime time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Locker, when set, serialises Ensure and Rotate across instances with
	// the lock LockName (usually the store itself). Without one, Ensure
	// tolerates a race by demoting duplicate current keys.
	Locker store.Locker
	// LockWait bounds how long Ensure waits for another instance holding
	// the lock; 0 means 30 seconds.
	LockWait time.Duration
	// Meter, when set, counts the signatures of the keys loaded.
	Meter *SignMeter
}

// Manager creates and rotates signing keys in a store.Keys and loads them
// into KeySets. It is safe for concurrent use.
type Manager struct {
	st       store.Keys
	sealer   *Sealer
	bits     int
	cn       string
	lifetime time.Duration
	now      func() time.Time
	locker   store.Locker
	lockWait time.Duration
	meter    *SignMeter
}

// NewManager returns a Manager storing keys in st sealed by sealer.
func NewManager(st store.Keys, sealer *Sealer, opts Options) (*Manager, error) {
	if st == nil {
		return nil, errors.New("keys: NewManager: nil store")
	}
	if sealer == nil {
		return nil, errors.New("keys: NewManager: nil sealer")
	}
	m := &Manager{
		st:       st,
		sealer:   sealer,
		bits:     opts.RSABits,
		cn:       opts.CommonName,
		lifetime: opts.CertificateLifetime,
		now:      opts.Now,
		locker:   opts.Locker,
		lockWait: opts.LockWait,
		meter:    opts.Meter,
	}
	if m.bits == 0 {
		m.bits = DefaultRSABits
	}
	if m.bits < 2048 {
		return nil, fmt.Errorf("keys: RSA key size %d is too small; at least 2048", m.bits)
	}
	if m.cn == "" {
		m.cn = DefaultCommonName
	}
	if m.lifetime == 0 {
		m.lifetime = DefaultCertificateLifetime
	}
	if m.lifetime < 0 {
		return nil, fmt.Errorf("keys: negative certificate lifetime %s", m.lifetime)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.lockWait == 0 {
		m.lockWait = 30 * time.Second
	}
	return m, nil
}

func checkAlgorithm(alg string) error {
	if alg != RS256 && alg != ES256 {
		return fmt.Errorf("keys: unsupported algorithm %q (want %s or %s)", alg, RS256, ES256)
	}
	return nil
}

// Ensure makes sure every algorithm has a current key, creating one where
// missing. It is meant for start-up and is idempotent. When two instances
// run it at once, the Locker (if any) serialises them; without one, both
// may create a key, and the extra current keys are demoted to previous
// (still published) so that exactly one stays current: the oldest, ties
// broken by the smaller id, the same choice Load makes.
func (m *Manager) Ensure(ctx context.Context) error {
	release, err := m.lock(ctx, true)
	if err != nil {
		return fmt.Errorf("keys: ensure: %w", err)
	}
	defer release()

	recs, err := m.st.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: ensure: list keys: %w", err)
	}
	created := false
	for _, alg := range Algorithms() {
		if len(byState(recs, alg, store.KeyCurrent)) > 0 {
			continue
		}
		rec, err := m.newKey(alg, store.KeyCurrent)
		if err != nil {
			return fmt.Errorf("keys: ensure %s: %w", alg, err)
		}
		if err := m.st.InsertKey(ctx, rec); err != nil {
			return fmt.Errorf("keys: ensure %s: insert key %s: %w", alg, rec.ID, err)
		}
		created = true
	}
	if !created {
		return nil
	}
	// Another instance without a lock may have created a current key at the
	// same time: keep one.
	if recs, err = m.st.ListKeys(ctx); err != nil {
		return fmt.Errorf("keys: ensure: list keys: %w", err)
	}
	demote := map[string]store.KeyState{}
	for _, alg := range Algorithms() {
		cur := byState(recs, alg, store.KeyCurrent)
		for i := 1; i < len(cur); i++ {
			demote[cur[i].ID] = store.KeyPrevious
		}
	}
	if len(demote) > 0 {
		if err := m.st.SetKeyStates(ctx, demote); err != nil {
			return fmt.Errorf("keys: ensure: demote duplicate current keys: %w", err)
		}
	}
	return nil
}

// Rotate takes one rotation step for alg:
//
//   - no current and no next key: create a current key (as Ensure does);
//   - no next key: create one as next, published but not signing;
//   - otherwise, in one store transaction: previous -> retired,
//     current -> previous, next -> current; then create a new next key.
//
// Call it on a schedule no shorter than the longest time relying parties
// cache JWKS and metadata. With a Locker, a concurrent rotation elsewhere
// makes Rotate fail with an error matching store.ErrLocked.
func (m *Manager) Rotate(ctx context.Context, alg string) error {
	if err := checkAlgorithm(alg); err != nil {
		return err
	}
	release, err := m.lock(ctx, false)
	if err != nil {
		return fmt.Errorf("keys: rotate %s: %w", alg, err)
	}
	defer release()

	recs, err := m.st.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: rotate %s: list keys: %w", alg, err)
	}
	cur := byState(recs, alg, store.KeyCurrent)
	next := byState(recs, alg, store.KeyNext)
	if len(next) == 0 {
		state := store.KeyNext
		if len(cur) == 0 {
			state = store.KeyCurrent
		}
		rec, err := m.newKey(alg, state)
		if err != nil {
			return fmt.Errorf("keys: rotate %s: %w", alg, err)
		}
		if err := m.st.InsertKey(ctx, rec); err != nil {
			return fmt.Errorf("keys: rotate %s: insert %s key %s: %w", alg, state, rec.ID, err)
		}
		return nil
	}

	// Generate the new next key before changing anything, so that a failure
	// here leaves the store untouched.
	newNext, err := m.newKey(alg, store.KeyNext)
	if err != nil {
		return fmt.Errorf("keys: rotate %s: %w", alg, err)
	}
	states := map[string]store.KeyState{}
	for _, r := range byState(recs, alg, store.KeyPrevious) {
		states[r.ID] = store.KeyRetired
	}
	for _, r := range cur {
		states[r.ID] = store.KeyPrevious
	}
	// The oldest next key becomes current; any other next keys stay next.
	states[next[0].ID] = store.KeyCurrent
	if err := m.st.SetKeyStates(ctx, states); err != nil {
		return fmt.Errorf("keys: rotate %s: set key states: %w", alg, err)
	}
	if err := m.st.InsertKey(ctx, newNext); err != nil {
		return fmt.Errorf("keys: rotate %s: rotated to key %s, but inserting the new next key %s failed (the next Rotate creates one): %w",
			alg, next[0].ID, newNext.ID, err)
	}
	return nil
}

// lock takes LockName when a Locker is configured. With wait, it retries
// while another holder has it, up to lockWait or the context's end.
func (m *Manager) lock(ctx context.Context, wait bool) (func(), error) {
	if m.locker == nil {
		return func() {}, nil
	}
	deadline := time.Now().Add(m.lockWait)
	delay := 20 * time.Millisecond
	for {
		release, err := m.locker.TryLock(ctx, LockName)
		if err == nil {
			return release, nil
		}
		if !wait || !errors.Is(err, store.ErrLocked) {
			return nil, fmt.Errorf("lock %q: %w", LockName, err)
		}
		if time.Now().Add(delay).After(deadline) {
			return nil, fmt.Errorf("lock %q still held by another instance after %s: %w", LockName, m.lockWait, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("lock %q: %w", LockName, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, time.Second)
	}
}

// byState returns the records of alg in state, oldest first (ties by id).
func byState(recs []store.KeyRecord, alg string, state store.KeyState) []store.KeyRecord {
	var out []store.KeyRecord
	for _, r := range recs {
		if r.Algorithm == alg && r.State == state {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b store.KeyRecord) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// newKeyID returns a random, URL-safe key id (128 bits).
func newKeyID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("key id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newKey generates a key of alg with its self-signed certificate and
// returns the record to store, its private key sealed under its id.
func (m *Manager) newKey(alg string, state store.KeyState) (store.KeyRecord, error) {
	if err := checkAlgorithm(alg); err != nil {
		return store.KeyRecord{}, err
	}
	id, err := newKeyID()
	if err != nil {
		return store.KeyRecord{}, err
	}
	var priv crypto.Signer
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, m.bits)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return store.KeyRecord{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	now := m.now().UTC()
	certDER, err := m.selfSigned(priv, now)
	if err != nil {
		return store.KeyRecord{}, fmt.Errorf("key %s: %w", id, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.KeyRecord{}, fmt.Errorf("key %s: marshal private key: %w", id, err)
	}
	sealed, err := m.sealer.Seal(pkcs8, []byte(id))
	clear(pkcs8)
	if err != nil {
		return store.KeyRecord{}, fmt.Errorf("key %s: seal private key: %w", id, err)
	}
	return store.KeyRecord{
		ID:               id,
		Algorithm:        alg,
		State:            state,
		SealedPrivateKey: sealed,
		CertificateDER:   certDER,
		CreatedAt:        now,
		UpdatedAt:        now,
	}, nil
}

// selfSigned makes the self-signed certificate of priv: SAML metadata
// publishes keys as certificates.
func (m *Manager) selfSigned(priv crypto.Signer, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)), // positive, non-zero
		Subject:      pkix.Name{CommonName: m.cn},
		// A little back-dating tolerates clock skew at relying parties.
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(m.lifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	return der, nil
}
