package testidp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
)

// stdMAC is the same MAC through crypto/hmac.
func stdMAC(key []byte, purpose string, fields ...string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(appendField(nil, purpose))
	for _, f := range fields {
		m.Write(appendField(nil, f))
	}
	return m.Sum(nil)
}

// TestMACKeyIsHMAC compares macKey with crypto/hmac for keys shorter
// than, as long as and longer than a SHA-256 block (which HMAC hashes
// first), and inputs of zero, one and several blocks.
func TestMACKeyIsHMAC(t *testing.T) {
	long := strings.Repeat("x", 200)
	for _, keyLen := range []int{0, 1, 32, 63, 64, 65, 200} {
		key := bytes.Repeat([]byte{0xa5}, keyLen)
		for _, fields := range [][]string{nil, {""}, {"tx"}, {"tx", "https://sp.example.fi/cb", "1767225600"}, {long, long}} {
			got := newMACKey(key).sum("page", fields...)
			if want := stdMAC(key, "page", fields...); !bytes.Equal(got, want) {
				t.Errorf("key of %d bytes, fields %q: %x, crypto/hmac %x", keyLen, fields, got, want)
			}
		}
	}
}

// TestMACFieldsAreFramed: moving a byte between fields, or between the
// purpose and a field, changes the MAC.
func TestMACFieldsAreFramed(t *testing.T) {
	k := newMACKey(bytes.Repeat([]byte{1}, MinKeyLength))
	for _, pair := range [][2][]string{
		{{"ab", "c"}, {"a", "bc"}},
		{{"login", "x"}, {"loginx"}},
		{{"page", "", "x"}, {"page", "x", ""}},
	} {
		a, b := pair[0], pair[1]
		if bytes.Equal(k.sum(a[0], a[1:]...), k.sum(b[0], b[1:]...)) {
			t.Errorf("%q and %q share a MAC", a, b)
		}
	}
}

func FuzzMACKey(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef"), "page", "tx", "https://sp.example.fi/cb")
	f.Add(bytes.Repeat([]byte{7}, 100), "login", "", "")
	f.Fuzz(func(t *testing.T, key []byte, purpose, a, b string) {
		if got, want := newMACKey(key).sum(purpose, a, b), stdMAC(key, purpose, a, b); !bytes.Equal(got, want) {
			t.Fatalf("%x, crypto/hmac %x", got, want)
		}
	})
}

// BenchmarkMAC compares a page link's MAC through crypto/hmac and through
// macKey (run with GOEXPERIMENT=boringcrypto to see the calls into C).
func BenchmarkMAC(b *testing.B) {
	key := bytes.Repeat([]byte{7}, MinKeyLength)
	fields := []string{"AbCdEfGhIjKlMnOpQrStUv", "https://mpassid.example.fi/login/callback/test", "1767225600"}
	b.Run("crypto-hmac", func(b *testing.B) {
		for b.Loop() {
			stdMAC(key, "page", fields...)
		}
	})
	b.Run("macKey", func(b *testing.B) {
		k := newMACKey(key)
		for b.Loop() {
			k.sum("page", fields...)
		}
	})
}
