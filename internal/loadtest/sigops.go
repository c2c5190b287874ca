package loadtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mpassid/mpassid/internal/keys"
)

// sigOp is one kind of public-key operation of the broker: a signature it
// makes (sign) or checks (!sign), by the kind of key ("RSA-2048", "P-256").
type sigOp struct {
	key  string
	sign bool
}

func (o sigOp) String() string {
	if o.sign {
		return o.key + " sign"
	}
	return o.key + " check"
}

// sigOps counts the broker's public-key operations as the tool sees them:
// every signature of the broker's that the tool checks (ID tokens,
// assertions, the AuthnRequests sent to the tool's upstream IdP) is one
// the broker made, and every signature the tool makes for the broker (its
// services' AuthnRequests, its upstream IdPs' assertions and ID tokens) is
// one the broker checks. They are the operations no implementation avoids
// (acceptance 3 of the load issue): the report sets the server's CPU per
// login beside their cost. Counted, not assumed from the flow, so that a
// configuration that signs more (a signed Response as well as the
// assertion) or less (SSO sessions with --keep-session) shows as it is.
type sigOps struct {
	mu sync.Mutex
	n  map[sigOp]int64
}

// signed records a signature the broker made with the key whose public
// half is pub.
func (s *sigOps) signed(pub crypto.PublicKey) { s.add(pub, true) }

// checks records a signature the broker will check with pub.
func (s *sigOps) checks(pub crypto.PublicKey) { s.add(pub, false) }

func (s *sigOps) add(pub crypto.PublicKey, sign bool) {
	if s == nil {
		return
	}
	op := sigOp{key: keys.KeyKind(pub), sign: sign}
	s.mu.Lock()
	if s.n == nil {
		s.n = map[sigOp]int64{}
	}
	s.n[op]++
	s.mu.Unlock()
}

// snapshot returns the counts so far.
func (s *sigOps) snapshot() map[sigOp]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.n)
}

// SignatureOp is one kind of the broker's public-key operations in a run:
// how many it made per successful login, and what one costs in this binary
// on an otherwise idle core.
type SignatureOp struct {
	Op       string // "RSA-2048 sign", "P-256 check", ...
	PerLogin float64
	Cost     time.Duration // 0: not measured (no --pid, or a kind of key the tool has no measure for)
	op       sigOp
}

// signatureOps turns the operations counted during a run into the
// report's, per successful login (operations of logins cut off at the end
// or failed count too, as their CPU does in the server's), signing first.
func signatureOps(counts map[sigOp]int64, logins int) []SignatureOp {
	if logins == 0 {
		return nil
	}
	ops := slices.SortedFunc(maps.Keys(counts), func(a, b sigOp) int {
		if a.sign != b.sign {
			if a.sign {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	var out []SignatureOp
	for _, op := range ops {
		if counts[op] > 0 {
			out = append(out, SignatureOp{Op: op.String(), PerLogin: float64(counts[op]) / float64(logins), op: op})
		}
	}
	return out
}

// measureSignatureOps sets the cost of each operation, taking rsa2048Sign
// for the RSA-2048 signature (measured already), and returns their CPU per
// login. An operation the tool cannot measure keeps Cost 0 and is left out
// of the sum.
func measureSignatureOps(ops []SignatureOp, rsa2048Sign time.Duration) time.Duration {
	var total time.Duration
	for i := range ops {
		cost := rsa2048Sign
		if ops[i].op != (sigOp{key: "RSA-2048", sign: true}) || cost <= 0 {
			var err error
			if cost, err = opCost(ops[i].op); err != nil {
				cost = 0
			}
		}
		ops[i].Cost = cost
		total += time.Duration(ops[i].PerLogin * float64(cost))
	}
	return total
}

// signatureOpsInServer is the CPU per login of ops with each signature at
// the cost the server measured for its kind of key during the run, the
// others (the checks, and kinds the server did not measure) at their idle
// cost; 0 if the server measured none of them.
func signatureOpsInServer(ops []SignatureOp, server map[string]ServerSigning) time.Duration {
	var total time.Duration
	measured := false
	for _, op := range ops {
		cost := op.Cost
		if each := server[op.op.key].Each(); op.op.sign && each > 0 {
			cost, measured = each, true
		}
		total += time.Duration(op.PerLogin * float64(cost))
	}
	if !measured {
		return 0
	}
	return total
}

// opCost measures one operation of the kind on a fresh key over SHA-256,
// repeated until it has taken some 50 ms of CPU (at least 20 times).
func opCost(op sigOp) (time.Duration, error) {
	signer, err := keyOfKind(op.key)
	if err != nil {
		return 0, err
	}
	digest := sha256.Sum256([]byte("mpassid loadtest signature operation"))
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	once := func() error {
		if op.sign {
			_, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
			return err
		}
		switch pub := signer.Public().(type) {
		case *rsa.PublicKey:
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, digest[:], sig) {
				return fmt.Errorf("signature does not verify")
			}
		}
		return nil
	}
	start := selfCPU()
	rounds := 0
	for rounds < 20 || selfCPU()-start < 50*time.Millisecond {
		if err := once(); err != nil {
			return 0, fmt.Errorf("%s: %w", op, err)
		}
		rounds++
	}
	return (selfCPU() - start) / time.Duration(rounds), nil
}

// keyOfKind makes a key of the kind keys.KeyKind names.
func keyOfKind(kind string) (crypto.Signer, error) {
	if bits, ok := strings.CutPrefix(kind, "RSA-"); ok {
		n, err := strconv.Atoi(bits)
		if err != nil || n < 1024 || n > 8192 {
			return nil, fmt.Errorf("key %q: not a size to measure", kind)
		}
		return rsa.GenerateKey(rand.Reader, n)
	}
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		if c.Params().Name == kind {
			return ecdsa.GenerateKey(c, rand.Reader)
		}
	}
	return nil, fmt.Errorf("key %q: no measure for it", kind)
}
