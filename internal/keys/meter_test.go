package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/cputime"
)

// Every way of signing with a loaded key is counted by kind of key, with
// its CPU time where the system has thread clocks; a key set loaded
// without a meter signs all the same.
func TestSignMeter(t *testing.T) {
	meter := NewSignMeter()
	st, _, ks := ensuredKeySetWith(t, Options{Meter: meter})
	if got := meter.Snapshot(); len(got) != 2 || got["RSA-2048"] != (SignStats{}) || got["P-256"] != (SignStats{}) {
		t.Errorf("loaded keys' kinds not declared at zero: %v", got)
	}
	rs, err := ks.Signer(RS256)
	if err != nil {
		t.Fatal(err)
	}
	es, err := ks.Signer(ES256)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("meter"))
	signs := []struct {
		name string
		sign func() error
	}{
		{"RS256 JWS", func() error { _, err := rs.SignJWS(digest[:]); return err }},
		{"RSA Sign", func() error { _, err := rs.Sign(digest[:]); return err }},
		{"RSA crypto.Signer", func() error {
			_, err := rs.CountedSigner().Sign(rand.Reader, digest[:], crypto.SHA256)
			return err
		}},
		{"ES256 JWS", func() error { _, err := es.SignJWS(digest[:]); return err }},
	}
	for _, s := range signs {
		if err := s.sign(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	// A signature that fails is not counted.
	if _, err := rs.CountedSigner().Sign(rand.Reader, digest[:], crypto.SHA512); err == nil {
		t.Fatal("signing a SHA-256 digest as SHA-512 succeeded")
	}

	got := meter.Snapshot()
	want := map[string]int64{"RSA-2048": 3, "P-256": 1}
	if len(got) != len(want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	_, clocks := cputime.Thread()
	for kind, n := range want {
		s := got[kind]
		if s.Count != n {
			t.Errorf("%s: %d signatures, want %d", kind, s.Count, n)
		}
		if clocks && s.CPU <= 0 {
			t.Errorf("%s: no CPU time counted", kind)
		}
	}
	if !clocks && runtime.GOOS == "linux" {
		t.Error("no thread clock on linux")
	}
	if pub := rs.CountedSigner().Public(); !rs.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
		t.Error("the counted signer's public key is not the key's")
	}

	// Without a meter: signed, not counted anywhere.
	plain, err := newTestManager(t, st, Options{}).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	prs, err := plain.Signer(RS256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Sign(digest[:]); err != nil {
		t.Fatal(err)
	}
	if got := meter.Snapshot()["RSA-2048"].Count; got != 3 {
		t.Errorf("a key set without the meter counted in it: %d", got)
	}
}

// The meter times one signature of a kind in timeEvery and counts that
// one's CPU for all of them; a failed signature counts nothing.
func TestSignMeterTimesOneInEvery(t *testing.T) {
	m := NewSignMeter()
	reads := 0
	m.clock = func() (time.Duration, bool) { // each timing reads 1 ms apart
		reads++
		return time.Duration(reads) * time.Millisecond, true
	}
	ok := func() ([]byte, error) { return []byte("signature"), nil }
	for range 2*timeEvery + 1 { // the first, the ninth and the seventeenth are timed
		if _, err := m.measure("RSA-2048", ok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.measure("P-256", func() ([]byte, error) { return nil, errors.New("no") }); err == nil {
		t.Fatal("a failed signature succeeded")
	}
	got := m.Snapshot()
	if want := (SignStats{Count: 2*timeEvery + 1, CPU: 3 * timeEvery * time.Millisecond}); got["RSA-2048"] != want {
		t.Errorf("RSA-2048: %+v, want %+v", got["RSA-2048"], want)
	}
	if got["P-256"] != (SignStats{}) || reads != 3*2+2 {
		t.Errorf("a failed signature counted %+v; %d clock readings, want 8", got["P-256"], reads)
	}
}
