package keys

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

func BenchmarkSeal(b *testing.B) {
	s := testSealer(b, 1)
	secret := make([]byte, 64)
	ad := []byte("integration:1:client_secret")
	b.SetBytes(int64(len(secret)))
	for b.Loop() {
		if _, err := s.Seal(secret, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s := testSealer(b, 1)
	ad := []byte("integration:1:client_secret")
	sealed, err := s.Seal(make([]byte, 64), ad)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(64)
	for b.Loop() {
		if _, err := s.Open(sealed, ad); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkSign(b *testing.B, alg string) {
	_, _, ks := ensuredKeySet(b)
	k, err := ks.Signer(alg)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	for b.Loop() {
		if _, err := k.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignRS256(b *testing.B) { benchmarkSign(b, RS256) }
func BenchmarkSignES256(b *testing.B) { benchmarkSign(b, ES256) }

// BenchmarkSignMetered is BenchmarkSignES256 through a SignMeter: the
// cheapest signature, so the meter's own cost (two readings of the
// thread's clock, the thread lock, a mutex) shows against it.
func BenchmarkSignMetered(b *testing.B) {
	for _, metered := range []bool{false, true} {
		b.Run(map[bool]string{false: "without", true: "with"}[metered], func(b *testing.B) {
			opts := Options{}
			if metered {
				opts.Meter = NewSignMeter()
			}
			_, _, ks := ensuredKeySetWith(b, opts)
			k, err := ks.Signer(ES256)
			if err != nil {
				b.Fatal(err)
			}
			digest := sha256.Sum256([]byte("header.payload"))
			for b.Loop() {
				if _, err := k.Sign(digest[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
