package saml

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/testenv"
)

// InteropVar enables the tests that need outside programs (xmlsec1).
const InteropVar = "MPASSID_TEST_INTEROP"

// TestResponseSignatureXMLSec1 verifies the Response's and the Assertion's
// signatures with xmlsec1 (libxmlsec1, the C implementation Shibboleth SP
// and SimpleSAMLphp's peers rely on), and checks that a tampered document
// fails there too.
// xmlsec1Verifier returns a function that verifies the first signature of
// a document with xmlsec1 against the IdP's signing certificate, or skips
// the test when the interop tests are not enabled.
func xmlsec1Verifier(t *testing.T, env *testEnv) func(name string, doc []byte) error {
	t.Helper()
	if os.Getenv(InteropVar) == "" {
		testenv.Skip(t, "xmlsec1 interop test skipped: set "+InteropVar+"=1 (install with .ci/install-xmlsec1.sh)")
	}
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		t.Fatalf("%s is set but xmlsec1 is not on PATH (run .ci/install-xmlsec1.sh): %v", InteropVar, err)
	}
	dir := t.TempDir()
	cert := filepath.Join(dir, "idp.pem")
	k, _ := env.ks.SAMLSigningKey()
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Certificate.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(name string, doc []byte) error {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--verify", "--pubkey-cert-pem", cert,
			"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
			"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", f)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("xmlsec1 %s: %s", name, out)
		}
		return err
	}
}

// TestResponseSignatureXMLSec1 verifies the Response's and the Assertion's
// signatures with xmlsec1 (libxmlsec1, the C implementation Shibboleth SP
// and SimpleSAMLphp's peers rely on), and checks that a tampered document
// fails there too.
func TestResponseSignatureXMLSec1(t *testing.T) {
	env := newEnv(t)
	verify := xmlsec1Verifier(t, env)
	sp := newHandSP(t, env, func(md *model.SAMLMetadata) { md.WantResponseSigned = true })
	x := env.login(t, sp)

	// The first signature in document order is the Response's.
	if err := verify("response.xml", x); err != nil {
		t.Fatalf("xmlsec1 rejects the Response signature: %v", err)
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(x); err != nil {
		t.Fatal(err)
	}
	a := d.Root().FindElement("./Assertion")
	ab, err := serialize(a.Copy())
	if err != nil {
		t.Fatal(err)
	}
	if err := verify("assertion.xml", ab); err != nil {
		t.Fatalf("xmlsec1 rejects the Assertion signature: %v", err)
	}
	// Own verification of both.
	verifyOwn(t, d.Root(), env.ks)
	verifyOwn(t, a, env.ks)

	tampered := bytes.Replace(ab, []byte("Oppilas1"), []byte("Oppilas2"), 1)
	if bytes.Equal(tampered, ab) {
		t.Fatal("nothing to tamper")
	}
	if err := verify("tampered.xml", tampered); err == nil {
		t.Fatal("xmlsec1 accepts a tampered assertion")
	}
}

// TestResponseDifferentialXMLSec1 verifies with xmlsec1 every Response of
// the differential table (TestResponseDifferential), byte for byte as
// built: the Response when the service wants it signed, and the Assertion
// as cut from the document or decrypted; and the error Responses of
// TestErrorResponseDifferential.
func TestResponseDifferentialXMLSec1(t *testing.T) {
	de := newDiffEnv(t)
	verify := xmlsec1Verifier(t, de.testEnv)
	for _, s := range diffServices() {
		for _, du := range diffUsers() {
			t.Run(s.name+"/"+du.name, func(t *testing.T) {
				out := de.build(t, s, du.u, false)
				if s.wantResponseSigned {
					if err := verify("response.xml", out.xml); err != nil {
						t.Errorf("xmlsec1 rejects the Response signature: %v", err)
					}
				}
				_, _, plain := de.verified(t, s, out.xml)
				if plain == nil {
					plain = rawAssertion(t, out.xml)
				}
				if err := verify("assertion.xml", plain); err != nil {
					t.Errorf("xmlsec1 rejects the Assertion signature: %v", err)
				}
				if du.name == "pupil" {
					tampered := bytes.Replace(plain, []byte(">Oppilas1<"), []byte(">Oppilas2<"), 1)
					if bytes.Equal(tampered, plain) {
						t.Fatal("nothing to tamper")
					}
					if err := verify("tampered.xml", tampered); err == nil {
						t.Error("xmlsec1 accepts a tampered assertion")
					}
				}
			})
		}
		for i, es := range diffStatuses() {
			t.Run(fmt.Sprintf("%s/error %d", s.name, i), func(t *testing.T) {
				if err := verify("error.xml", de.errorResponse(t, s, es.top, es.second, es.message, false)); err != nil {
					t.Errorf("xmlsec1 rejects the error Response signature: %v", err)
				}
			})
		}
	}
}

// rawAssertion cuts the Assertion out of a Response document as it was
// written (it declares its own namespace, so it stands alone).
func rawAssertion(tb testing.TB, x []byte) []byte {
	tb.Helper()
	i := bytes.Index(x, []byte("<saml2:Assertion "))
	j := bytes.Index(x, []byte("</saml2:Assertion>"))
	if i < 0 || j < i {
		tb.Fatalf("no saml2:Assertion in %s", x)
	}
	return x[i : j+len("</saml2:Assertion>")]
}
