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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mpassid/mpassid/internal/store"
)

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestManager(t testing.TB, st store.Keys, opts Options) *Manager {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.CommonName == "" {
		opts.CommonName = "mpass-proxy.test"
	}
	m, err := NewManager(st, testSealer(t, 1), opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ensuredKeySet returns a store with one current key per algorithm and its
// KeySet.
func ensuredKeySet(t testing.TB) (*memKeys, *Manager, *KeySet) {
	t.Helper()
	return ensuredKeySetWith(t, Options{})
}

// ensuredKeySetWith is ensuredKeySet with a Manager of opts.
func ensuredKeySetWith(t testing.TB, opts Options) (*memKeys, *Manager, *KeySet) {
	t.Helper()
	st := newMemKeys()
	m := newTestManager(t, st, opts)
	ctx := context.Background()
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	ks, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st, m, ks
}

func TestNewManagerRejects(t *testing.T) {
	sealer := testSealer(t, 1)
	tests := []struct {
		name   string
		st     store.Keys
		sealer *Sealer
		opts   Options
		want   string
	}{
		{"nil store", nil, sealer, Options{}, "nil store"},
		{"nil sealer", newMemKeys(), nil, Options{}, "nil sealer"},
		{"small RSA", newMemKeys(), sealer, Options{RSABits: 1024}, "too small"},
		{"negative lifetime", newMemKeys(), sealer, Options{CertificateLifetime: -time.Hour}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewManager(tt.st, tt.sealer, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEnsure(t *testing.T) {
	st := newMemKeys()
	m := newTestManager(t, st, Options{CertificateLifetime: 5 * 365 * 24 * time.Hour})
	ctx := context.Background()
	for range 2 { // idempotent
		if err := m.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		for _, alg := range Algorithms() {
			states := st.states(alg)
			if len(states[store.KeyCurrent]) != 1 || len(states) != 1 {
				t.Fatalf("%s states after Ensure = %v, want one current key", alg, states)
			}
		}
	}
	recs, _ := st.ListKeys(ctx)
	if len(recs) != 2 {
		t.Fatalf("%d keys, want 2", len(recs))
	}
	ks, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range Algorithms() {
		k, err := ks.Signer(alg)
		if err != nil {
			t.Fatal(err)
		}
		if k.Algorithm != alg || k.ID != st.states(alg)[store.KeyCurrent][0] {
			t.Errorf("Signer(%s) = %s %s", alg, k.Algorithm, k.ID)
		}
		if strings.Trim(k.ID, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" || len(k.ID) < 20 {
			t.Errorf("key id %q is not a long URL-safe string", k.ID)
		}
		c := k.Certificate
		if c.Subject.CommonName != "mpass-proxy.test" {
			t.Errorf("certificate CN = %q", c.Subject.CommonName)
		}
		if !c.NotAfter.Equal(testNow.Add(5*365*24*time.Hour)) || c.NotBefore.After(testNow) {
			t.Errorf("certificate validity %s..%s", c.NotBefore, c.NotAfter)
		}
	}
	rsaKey, _ := ks.Signer(RS256)
	if rsaKey.Signer.(*rsa.PrivateKey).N.BitLen() != 2048 {
		t.Errorf("RSA key size %d", rsaKey.Signer.(*rsa.PrivateKey).N.BitLen())
	}
}

func TestEnsureConcurrent(t *testing.T) {
	for _, withLocker := range []bool{true, false} {
		name := "without locker"
		if withLocker {
			name = "with locker"
		}
		t.Run(name, func(t *testing.T) {
			st := newMemKeys()
			opts := Options{Now: time.Now}
			if withLocker {
				opts.Locker = st
			}
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				m := newTestManager(t, st, opts)
				wg.Go(func() { errs[i] = m.Ensure(context.Background()) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, alg := range Algorithms() {
				states := st.states(alg)
				if len(states[store.KeyCurrent]) != 1 {
					t.Errorf("%s: %v, want exactly one current key", alg, states)
				}
				if withLocker && len(states) != 1 {
					t.Errorf("%s: %v, want only the current key with a locker", alg, states)
				}
			}
			// Load and Ensure agree on which key is current.
			ks, err := newTestManager(t, st, opts).Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, alg := range Algorithms() {
				k, err := ks.Signer(alg)
				if err != nil {
					t.Fatal(err)
				}
				if want := st.states(alg)[store.KeyCurrent][0]; k.ID != want {
					t.Errorf("%s signer %s, want %s", alg, k.ID, want)
				}
			}
		})
	}
}

func jwksIDs(t *testing.T, ks *KeySet, alg string) []string {
	t.Helper()
	var ids []string
	for _, k := range ks.JWKS().Keys {
		if k.Algorithm == alg {
			ids = append(ids, k.KeyID)
		}
	}
	slices.Sort(ids)
	return ids
}

func certIDs(ks *KeySet, alg string) []string {
	var ids []string
	for _, c := range ks.PublishedCertificates(alg) {
		for _, k := range ks.byID {
			if k.Certificate.Equal(c) {
				ids = append(ids, k.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

func TestRotation(t *testing.T) {
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			ctx := context.Background()
			st := newMemKeys()
			m := newTestManager(t, st, Options{Locker: st})
			if err := m.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			k1 := st.states(alg)[store.KeyCurrent][0]
			idOf := func(state store.KeyState) string {
				ids := st.states(alg)[state]
				if len(ids) != 1 {
					t.Fatalf("%s keys in state %s: %v, want one", alg, state, ids)
				}
				return ids[0]
			}

			type want struct {
				current   string
				published []string
				retired   []string
			}
			var k2, k3, k4 string
			steps := []struct {
				name  string
				after func() want
			}{
				{"first rotation publishes next, current still signs", func() want {
					k2 = idOf(store.KeyNext)
					if idOf(store.KeyCurrent) != k1 {
						t.Fatal("current changed on the first rotation")
					}
					return want{current: k1, published: sorted(k1, k2)}
				}},
				{"second rotation: next signs, old current is previous", func() want {
					if idOf(store.KeyCurrent) != k2 || idOf(store.KeyPrevious) != k1 {
						t.Fatalf("states %v", st.states(alg))
					}
					k3 = idOf(store.KeyNext)
					return want{current: k2, published: sorted(k1, k2, k3)}
				}},
				{"third rotation retires the old previous", func() want {
					if idOf(store.KeyCurrent) != k3 || idOf(store.KeyPrevious) != k2 || idOf(store.KeyRetired) != k1 {
						t.Fatalf("states %v", st.states(alg))
					}
					k4 = idOf(store.KeyNext)
					return want{current: k3, published: sorted(k2, k3, k4), retired: []string{k1}}
				}},
			}
			for _, step := range steps {
				if err := m.Rotate(ctx, alg); err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				w := step.after()
				if n := len(st.states(alg)[store.KeyCurrent]); n != 1 {
					t.Fatalf("%s: %d current keys", step.name, n)
				}
				ks, err := m.Load(ctx)
				if err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				signer, err := ks.Signer(alg)
				if err != nil || signer.ID != w.current {
					t.Errorf("%s: signer = %v, %v; want %s", step.name, signer, err, w.current)
				}
				if got := jwksIDs(t, ks, alg); !slices.Equal(got, w.published) {
					t.Errorf("%s: JWKS kids %v, want %v", step.name, got, w.published)
				}
				if got := certIDs(ks, alg); !slices.Equal(got, w.published) {
					t.Errorf("%s: published certificates %v, want %v", step.name, got, w.published)
				}
				if first := ks.PublishedCertificates(alg)[0]; !first.Equal(signer.Certificate) {
					t.Errorf("%s: first published certificate is not the current one", step.name)
				}
				for _, id := range w.published {
					if _, err := ks.Verifier(id); err != nil {
						t.Errorf("%s: Verifier(%s): %v", step.name, id, err)
					}
				}
				for _, id := range w.retired {
					if _, err := ks.Verifier(id); !errors.Is(err, ErrNoKey) {
						t.Errorf("%s: Verifier(retired %s) error = %v, want ErrNoKey", step.name, id, err)
					}
				}
				// The other algorithm is untouched.
				other := ES256
				if alg == ES256 {
					other = RS256
				}
				if got := st.states(other); len(got) != 1 || len(got[store.KeyCurrent]) != 1 {
					t.Errorf("%s: %s states %v", step.name, other, got)
				}
			}
		})
	}
}

func TestRotateErrors(t *testing.T) {
	ctx := context.Background()
	st := newMemKeys()
	m := newTestManager(t, st, Options{Locker: st})
	if err := m.Rotate(ctx, "HS256"); err == nil || !strings.Contains(err.Error(), "unsupported algorithm") {
		t.Errorf("Rotate(HS256) error = %v", err)
	}
	release, err := st.TryLock(ctx, LockName)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Rotate(ctx, ES256); !errors.Is(err, store.ErrLocked) {
		t.Errorf("Rotate while locked: error = %v, want ErrLocked", err)
	}
	release()
	// Rotate on an empty store creates a current key.
	if err := m.Rotate(ctx, ES256); err != nil {
		t.Fatal(err)
	}
	if states := st.states(ES256); len(states[store.KeyCurrent]) != 1 || len(states) != 1 {
		t.Errorf("states after Rotate on an empty store: %v", states)
	}
}

func TestEmptyKeySet(t *testing.T) {
	m := newTestManager(t, newMemKeys(), Options{})
	ks, err := m.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.SAMLSigningKey(); !errors.Is(err, ErrNoKey) {
		t.Errorf("SAMLSigningKey error = %v, want ErrNoKey", err)
	}
	if _, err := ks.Signer("none"); err == nil {
		t.Error("Signer(none) succeeded")
	}
	if _, err := ks.Verifier("x"); !errors.Is(err, ErrNoKey) {
		t.Errorf("Verifier error = %v", err)
	}
	js, _ := ks.JWKSJSON()
	if string(js) != `{"keys":null}` && string(js) != `{"keys":[]}` {
		t.Errorf("empty JWKS = %s", js)
	}
}

func TestJWKSHasNoPrivateParts(t *testing.T) {
	st, m, _ := ensuredKeySet(t)
	ctx := context.Background()
	for _, alg := range Algorithms() {
		if err := m.Rotate(ctx, alg); err != nil { // add next keys too
			t.Fatal(err)
		}
	}
	ks, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := ks.JWKSJSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	recs, _ := st.ListKeys(ctx)
	if len(doc.Keys) != len(recs) {
		t.Fatalf("JWKS has %d keys, want %d", len(doc.Keys), len(recs))
	}
	for _, k := range doc.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key %v has private member %q", k["kid"], private)
			}
		}
		if k["use"] != "sig" || k["kid"] == "" || (k["alg"] != RS256 && k["alg"] != ES256) {
			t.Errorf("JWKS key %v lacks kid, alg or use", k)
		}
	}
	for _, k := range ks.JWKS().Keys {
		if !k.IsPublic() {
			t.Errorf("JWKS key %s is not public", k.KeyID)
		}
	}
	again, _ := ks.JWKSJSON()
	data[0] = 'X' // callers cannot change the snapshot
	if again[0] != '{' {
		t.Error("JWKSJSON returned shared bytes")
	}
}

func TestSignedJWTVerifiesWithJWKS(t *testing.T) {
	_, _, ks := ensuredKeySet(t)
	var jwks jose.JSONWebKeySet
	data, _ := ks.JWKSJSON()
	if err := json.Unmarshal(data, &jwks); err != nil {
		t.Fatal(err)
	}
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			k, err := ks.Signer(alg)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := jose.NewSigner(joseKey(k), (&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				t.Fatal(err)
			}
			claims := jwt.Claims{Issuer: "https://mpass-proxy.test", Subject: "user-1", Expiry: jwt.NewNumericDate(testNow.Add(time.Hour))}
			token, err := jwt.Signed(signer).Claims(claims).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			h := parsed.Headers[0]
			if h.KeyID != k.ID || h.Algorithm != alg {
				t.Fatalf("header kid %q alg %q, want %q %q", h.KeyID, h.Algorithm, k.ID, alg)
			}
			found := jwks.Key(h.KeyID)
			if len(found) != 1 {
				t.Fatalf("JWKS has %d keys with kid %s", len(found), h.KeyID)
			}
			var got jwt.Claims
			if err := parsed.Claims(found[0].Key, &got); err != nil {
				t.Fatalf("verify with JWKS key: %v", err)
			}
			if got.Subject != "user-1" {
				t.Errorf("subject %q", got.Subject)
			}
			v, err := ks.Verifier(h.KeyID)
			if err != nil {
				t.Fatal(err)
			}
			if err := parsed.Claims(v.Key, &got); err != nil {
				t.Errorf("verify with Verifier key: %v", err)
			}
			// A key of the other algorithm does not verify.
			for _, other := range jwks.Keys {
				if other.KeyID != h.KeyID {
					if err := parsed.Claims(other.Key, &got); err == nil {
						t.Errorf("token verified with key %s", other.KeyID)
					}
				}
			}
		})
	}
}

func TestCertificateMatchesKey(t *testing.T) {
	_, _, ks := ensuredKeySet(t)
	saml, err := ks.SAMLSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := saml.Signer.(*rsa.PrivateKey); !ok || saml.Algorithm != RS256 {
		t.Errorf("SAML key is %T %s, want RSA", saml.Signer, saml.Algorithm)
	}
	for _, alg := range Algorithms() {
		k, _ := ks.Signer(alg)
		pub, ok := k.Certificate.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(k.Signer.Public()) {
			t.Errorf("%s certificate public key does not match the private key", alg)
		}
		c := k.Certificate
		if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
			t.Errorf("%s certificate is not self-signed: %v", alg, err)
		}
		if alg == ES256 {
			if _, ok := k.Signer.(*ecdsa.PrivateKey); !ok {
				t.Errorf("ES256 signer is %T", k.Signer)
			}
		}
	}
}

func TestSealedPrivateKeys(t *testing.T) {
	st, _, _ := ensuredKeySet(t)
	ctx := context.Background()
	recs, _ := st.ListKeys(ctx)
	sealer := testSealer(t, 1)
	for _, rec := range recs {
		if _, err := x509.ParsePKCS8PrivateKey(rec.SealedPrivateKey); err == nil {
			t.Errorf("%s: stored private key parses as plaintext PKCS#8", rec.ID)
		}
		pkcs8, err := sealer.Open(rec.SealedPrivateKey, []byte(rec.ID))
		if err != nil {
			t.Fatalf("%s: open with the right key: %v", rec.ID, err)
		}
		if _, err := x509.ParsePKCS8PrivateKey(pkcs8); err != nil {
			t.Errorf("%s: unsealed key does not parse: %v", rec.ID, err)
		}
		if _, err := testSealer(t, 2).Open(rec.SealedPrivateKey, []byte(rec.ID)); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: opened with another master key: %v", rec.ID, err)
		}
	}

	// A manager with another master key cannot load the keys.
	other, err := NewManager(st, testSealer(t, 2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Load(ctx); !errors.Is(err, ErrOpen) || !strings.Contains(err.Error(), "another master key") {
		t.Errorf("Load with another master key: error = %v", err)
	}
}

// tamper loads a store whose records were changed by edit and returns the
// Load error.
func tamperLoad(t *testing.T, edit func(a, b *store.KeyRecord)) error {
	t.Helper()
	st, m, _ := ensuredKeySet(t)
	ctx := context.Background()
	if err := m.Rotate(ctx, ES256); err != nil {
		t.Fatal(err)
	}
	ids := st.states(ES256)
	a, b := st.keys[ids[store.KeyCurrent][0]], st.keys[ids[store.KeyNext][0]]
	edit(&a, &b)
	st.keys[a.ID], st.keys[b.ID] = a, b
	_, err := m.Load(ctx)
	return err
}

func TestLoadRejectsTamperedRecords(t *testing.T) {
	tests := []struct {
		name string
		edit func(a, b *store.KeyRecord)
		want string
	}{
		{"sealed key moved to another record", func(a, b *store.KeyRecord) {
			a.SealedPrivateKey, b.SealedPrivateKey = b.SealedPrivateKey, a.SealedPrivateKey
		}, "authentication failed"},
		{"certificate of another key", func(a, b *store.KeyRecord) {
			a.CertificateDER = b.CertificateDER
		}, "certificate does not match"},
		{"wrong algorithm", func(a, b *store.KeyRecord) {
			a.Algorithm = RS256
		}, "stored as RS256"},
		{"bad certificate", func(a, b *store.KeyRecord) {
			a.CertificateDER = []byte("junk")
		}, "parse certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tamperLoad(t, tt.edit)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSnapshotIsImmutable(t *testing.T) {
	_, _, ks := ensuredKeySet(t)
	k, _ := ks.Signer(ES256)
	k.ID = "changed"
	again, _ := ks.Signer(ES256)
	if again.ID == "changed" {
		t.Error("Signer returned shared state")
	}
	set := ks.JWKS()
	set.Keys[0].KeyID = "changed"
	if ks.JWKS().Keys[0].KeyID == "changed" {
		t.Error("JWKS returned shared state")
	}
}

// joseKey is k for go-jose's signer: the reference the direct signature is
// held to.
func joseKey(k *SigningKey) jose.SigningKey {
	return jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.Algorithm),
		Key:       jose.JSONWebKey{Key: k.Signer, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"},
	}
}

// SignJWS refuses a key whose type does not fit its algorithm instead of
// signing with the wrong scheme.
func TestSignJWSRefusesMismatchedKey(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	digest := make([]byte, 32)
	for _, k := range []*SigningKey{
		{ID: "a", Algorithm: ES256, Signer: rsaKey},
		{ID: "b", Algorithm: RS256, Signer: ecKey},
		{ID: "c", Algorithm: ES256, Signer: ecKey}, // P-384 is not ES256
	} {
		if sig, err := k.SignJWS(digest); err == nil {
			t.Errorf("%s with a %T signed: %x", k.Algorithm, k.Signer, sig)
		}
	}
}
