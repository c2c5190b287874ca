package loadtest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/keys"
)

// Operations are counted by kind of key and direction, reported per
// login with signing first, and measured: the RSA-2048 signature at the
// cost given, the others by timing them, a kind the tool cannot make a key
// of left unmeasured and out of the sum.
func TestSignatureOps(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var s sigOps
	for range 4 {
		s.checks(&p256.PublicKey)
		s.signed(&rsaKey.PublicKey)
	}
	s.signed(&rsaKey.PublicKey)
	s.checks(edPub)
	var none *sigOps
	none.signed(&rsaKey.PublicKey) // a verifier without a counter, as in unit tests

	ops := signatureOps(s.snapshot(), 4)
	var names []string
	for _, op := range ops {
		names = append(names, op.Op)
	}
	if got, want := strings.Join(names, ", "), "RSA-2048 sign, P-256 check, ed25519.PublicKey check"; got != want {
		t.Fatalf("operations %q, want %q", got, want)
	}
	if ops[0].PerLogin != 1.25 || ops[1].PerLogin != 1 || ops[2].PerLogin != 0.25 {
		t.Errorf("per login %v", ops)
	}

	const rsaSign = 700 * time.Microsecond
	total := measureSignatureOps(ops, rsaSign)
	if ops[0].Cost != rsaSign || ops[1].Cost <= 0 || ops[2].Cost != 0 {
		t.Errorf("costs %v", ops)
	}
	if want := time.Duration(1.25*float64(rsaSign)) + ops[1].Cost; total != want {
		t.Errorf("total %v, want %v", total, want)
	}
	if signatureOps(s.snapshot(), 0) != nil {
		t.Error("operations reported per login of a run without logins")
	}
}

func TestKeyOfKind(t *testing.T) {
	for _, kind := range []string{"RSA-2048", "P-256", "P-384"} {
		k, err := keyOfKind(kind)
		if err != nil || keys.KeyKind(k.Public()) != kind {
			t.Errorf("%s: %v", kind, err)
		}
	}
	for _, kind := range []string{"RSA-x", "RSA-512", "RSA-100000", "ed25519.PublicKey", ""} {
		if _, err := keyOfKind(kind); err == nil {
			t.Errorf("%q: no error", kind)
		}
	}
}

// The report lists the operations, their sum and the server's CPU beyond
// them; without measured costs only the counts.
func TestReportSignatureOps(t *testing.T) {
	rep := &Report{
		Flows: []string{"saml"}, Sources: []string{"saml-upstream"}, Concurrency: 1, DBWrites: -1,
		ServerCPU: 2 * time.Second, ServerCPUPerLogin: 2500 * time.Microsecond,
		SignatureOps: []SignatureOp{
			{Op: "RSA-2048 sign", PerLogin: 2, Cost: 700 * time.Microsecond},
			{Op: "P-256 check", PerLogin: 2, Cost: 100 * time.Microsecond},
		},
		SignatureOpsPerLogin: 1600 * time.Microsecond,
	}
	var out strings.Builder
	rep.Format(&out)
	reportHas(t, out.String(),
		"public-key:   per login 2.00 RSA-2048 sign (0.70 ms each), 2.00 P-256 check (0.10 ms each) = 1.60 ms",
		"beyond them:  0.90 ms of server CPU per login, 0.56 times the public-key operations",
	)
	if strings.Contains(out.String(), "in server:") || strings.Contains(out.String(), "server's own cost") {
		t.Errorf("the server's own cost shown though it exported none:\n%s", out.String())
	}

	// The server measured its RSA signatures at 0.75 ms each; the checks
	// stay at their idle cost.
	rep.ServerSignatures = map[string]ServerSigning{"RSA-2048": {Count: 4000, CPU: 3 * time.Second}, "P-256": {}}
	rep.SignatureOps[0].op = sigOp{key: "RSA-2048", sign: true}
	rep.SignatureOps[1].op = sigOp{key: "P-256"}
	rep.SignatureOpsInServer = signatureOpsInServer(rep.SignatureOps, rep.ServerSignatures)
	if want := 1700 * time.Microsecond; rep.SignatureOpsInServer != want {
		t.Errorf("at the server's cost %v, want %v", rep.SignatureOpsInServer, want)
	}
	out.Reset()
	rep.Format(&out)
	reportHas(t, out.String(),
		"in server:    4000 RSA-2048 signatures, 0.75 ms each by the server's own clock; the public-key operations at that cost: 1.70 ms per login\n",
		"beyond them:  0.90 ms of server CPU per login, 0.56 times the public-key operations at their idle cost; 0.80 ms, 0.47 times, at the server's own cost\n",
	)
	if got := signatureOpsInServer(rep.SignatureOps, map[string]ServerSigning{"P-256": {Count: 9, CPU: time.Second}}); got != 0 {
		t.Errorf("checks measured by the server's signatures: %v", got)
	}
	rep.ServerSignatures, rep.SignatureOpsInServer = nil, 0

	rep.SignatureOpsPerLogin = 0 // a run without --pid
	for i := range rep.SignatureOps {
		rep.SignatureOps[i].Cost = 0
	}
	out.Reset()
	rep.Format(&out)
	if !strings.Contains(out.String(), "public-key:   per login 2.00 RSA-2048 sign, 2.00 P-256 check\n") || strings.Contains(out.String(), "beyond them") {
		t.Errorf("unmeasured operations:\n%s", out.String())
	}

	// Without --pid, servers that time their own signatures and export
	// their CPU time still give the comparison, with the signatures alone
	// (the checks have no cost measured on the servers' machine).
	rep.ServerSignatures = map[string]ServerSigning{"RSA-2048": {Count: 4000, CPU: 3 * time.Second}}
	rep.SignatureOpsInServer = signatureOpsInServer(rep.SignatureOps, rep.ServerSignatures)
	if want := 1500 * time.Microsecond; rep.SignatureOpsInServer != want {
		t.Errorf("signatures alone at the server's cost %v, want %v", rep.SignatureOpsInServer, want)
	}
	out.Reset()
	rep.Format(&out)
	reportHas(t, out.String(),
		"in server:    4000 RSA-2048 signatures, 0.75 ms each by the server's own clock; the signatures (the checks, which the server does not time, left out) at that cost: 1.50 ms per login\n",
		"beyond them:  1.00 ms of server CPU per login, 0.67 times the signatures (the checks, which the server does not time, left out) at the server's own cost\n",
	)
	if strings.Contains(out.String(), "idle cost") {
		t.Errorf("an idle cost shown though none was measured:\n%s", out.String())
	}
}
