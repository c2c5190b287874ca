package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"io"
	"maps"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/mpassid/mpassid/internal/cputime"
)

// SignMeter counts the signatures made with the broker's keys, by kind of
// key, and the CPU time they took on the threads that made them. A
// signature is most of the CPU of a login (an RS256 ID token, a signed
// assertion), so an operator sizing instances, or choosing ES256 keys,
// wants to see its share; and the load tool sets the CPU of a login beyond
// its signatures against what the signatures cost in the server under the
// same load, rather than on an idle core.
//
// It times one signature in timeEvery of each kind and counts that one's
// CPU timeEvery times, an unbiased estimate of the whole. Timing needs the
// goroutine locked to its thread from before the signature to after, and
// a locked goroutine that comes back from BoringSSL's cgo call to find its
// processor taken waits for that very thread to be woken: timing every
// signature cost a loaded broker 1.1-1.6 % of its logins a second and
// 2-4 ms of a login's p99 (alternating runs of 12 s, OIDC, 64 users).
type SignMeter struct {
	mu     sync.Mutex
	byKind map[string]SignStats
	// made counts the signatures started by kind, to choose which to time.
	made map[string]int64
	// clock reads the calling thread's CPU clock (cputime.Thread; a test
	// may count with its own).
	clock func() (time.Duration, bool)
}

// timeEvery is how many signatures of a kind share one timing. At a
// thousand signatures a second that is still over a hundred timed ones.
const timeEvery = 8

// SignStats are the signatures of one kind of key so far.
type SignStats struct {
	Count int64
	// CPU is their CPU time, estimated from one signature in timeEvery;
	// 0 on a system without thread clocks.
	CPU time.Duration
}

// NewSignMeter returns a meter with nothing counted.
func NewSignMeter() *SignMeter {
	return &SignMeter{byKind: map[string]SignStats{}, made: map[string]int64{}, clock: cputime.Thread}
}

// Snapshot returns the counts so far by kind of key ("RSA-2048", "P-256").
func (m *SignMeter) Snapshot() map[string]SignStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.byKind)
}

// declare makes kind known with nothing counted, so that its series are
// exported (at zero) from the start, as counters should be.
func (m *SignMeter) declare(kind string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	if _, ok := m.byKind[kind]; !ok {
		m.byKind[kind] = SignStats{}
	}
	m.mu.Unlock()
}

// measure runs sign and, if it succeeds, counts it under kind. A nil
// meter only signs.
func (m *SignMeter) measure(kind string, sign func() ([]byte, error)) ([]byte, error) {
	if m == nil {
		return sign()
	}
	m.mu.Lock()
	n := m.made[kind]
	m.made[kind] = n + 1
	m.mu.Unlock()
	var cpu time.Duration
	var sig []byte
	var err error
	if n%timeEvery == 0 {
		// The goroutine keeps to its thread, so that both readings are of
		// the clock of the thread that signed.
		runtime.LockOSThread()
		t0, ok := m.clock()
		sig, err = sign()
		t1, _ := m.clock()
		runtime.UnlockOSThread()
		if ok {
			cpu = (t1 - t0) * timeEvery
		}
	} else {
		sig, err = sign()
	}
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	s := m.byKind[kind]
	s.Count++
	s.CPU += cpu
	m.byKind[kind] = s
	m.mu.Unlock()
	return sig, nil
}

// KeyKind names a public key's algorithm and size as the meter counts
// them: "RSA-2048", "P-256".
func KeyKind(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA-" + strconv.Itoa(k.N.BitLen())
	case *ecdsa.PublicKey:
		return k.Curve.Params().Name
	}
	return fmt.Sprintf("%T", pub)
}

// CountedSigner returns the key as a crypto.Signer whose signatures the
// key set's meter counts, for code that takes a crypto.Signer (goxmldsig,
// the SAML connector). Code that needs the private key's type uses Signer.
func (k *SigningKey) CountedSigner() crypto.Signer { return countedSigner{k} }

type countedSigner struct{ k *SigningKey }

func (c countedSigner) Public() crypto.PublicKey { return c.k.Signer.Public() }

func (c countedSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return c.k.meter.measure(c.k.kind, func() ([]byte, error) { return c.k.Signer.Sign(rand, digest, opts) })
}
