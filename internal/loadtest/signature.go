package loadtest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// signatureKey is the RSA-2048 key the tool measures signatures with, and
// the digest it signs.
type signatureKey struct {
	key    *rsa.PrivateKey
	digest [sha256.Size]byte
}

func newSignatureKey() (*signatureKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("signature baseline: %w", err)
	}
	return &signatureKey{key: key, digest: sha256.Sum256([]byte("mpassid loadtest signature baseline"))}, nil
}

func (k *signatureKey) sign() error {
	if _, err := rsa.SignPKCS1v15(nil, k.key, crypto.SHA256, k.digest[:]); err != nil {
		return fmt.Errorf("signature baseline: %w", err)
	}
	return nil
}

// signatureCost measures what one RSA-2048 PKCS#1 v1.5 signature over
// SHA-256 (RS256, and the SAML signatures) costs in this binary on this
// machine now, signed rounds times in a row. The broker's CPU per login is
// only comparable across machines, builds (Go's crypto or BoringCrypto)
// and neighbours' load as a multiple of it: the signatures are the part no
// implementation avoids.
func (k *signatureKey) signatureCost(rounds int) (time.Duration, error) {
	if err := k.sign(); err != nil { // warm up
		return 0, err
	}
	start := selfCPU()
	for range rounds {
		if err := k.sign(); err != nil {
			return 0, err
		}
	}
	return (selfCPU() - start) / time.Duration(rounds), nil
}

// signatureSampler measures the same signature while the logins run: one
// every interval, on an OS thread of its own, timed by that thread's CPU
// clock, so that time it waits for a core does not count. Signed in a row
// on an idle machine, a signature has the core and its caches to itself;
// in the server under load it shares them with everything else, and costs
// more, as everything else does. The server's CPU per login is measured
// under load, so its part beyond the signatures is compared with both
// costs (acceptance 3 of the load issue; docs/performance.md).
type signatureSampler struct {
	stop  context.CancelFunc
	done  chan struct{}
	total time.Duration
	n     atomic.Int64 // read while it runs by tests
	err   error
}

// sampleSignatures starts taking a signature every interval until stopped.
func (k *signatureKey) sampleSignatures(ctx context.Context, every time.Duration) *signatureSampler {
	ctx, stop := context.WithCancel(ctx)
	s := &signatureSampler{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = s.run(ctx, k, every)
	}()
	return s
}

func (s *signatureSampler) run(ctx context.Context, k *signatureKey, every time.Duration) error {
	// The thread's clock is only the goroutine's while the goroutine
	// keeps to it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		t0, ok := threadCPU()
		if !ok {
			return nil // not on this system: not reported
		}
		if err := k.sign(); err != nil {
			return err
		}
		t1, _ := threadCPU()
		s.total += t1 - t0
		s.n.Add(1)
	}
}

// result stops the sampler and returns the mean cost and how many
// signatures it took (0 when none: a run shorter than one interval, or a
// system without thread CPU clocks).
func (s *signatureSampler) result() (time.Duration, int, error) {
	s.stop()
	<-s.done
	n := s.n.Load()
	if s.err != nil || n == 0 {
		return 0, 0, s.err
	}
	return s.total / time.Duration(n), int(n), nil
}
