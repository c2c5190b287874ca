package loadtest

import (
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// The upstream IdP writes its Response in canonical form by hand: goxmldsig,
// an independent implementation, must find the assertion's signature valid
// for either key type and read back every value, escaped ones included.
func TestSAMLIdPResponseVerifies(t *testing.T) {
	tests := []struct {
		name   string
		rsaKey bool
		req    authnRequest
	}{
		{"ecdsa", false, authnRequest{id: "_abc123", acs: "https://broker.example/login/callback/4", issuer: "https://broker.example/login/saml/4"}},
		{"rsa", true, authnRequest{id: "_abc123", acs: "https://broker.example/login/callback/4", issuer: "https://broker.example/login/saml/4"}},
		{"values to escape", false, authnRequest{id: "_id&<\"'>", acs: "https://b.example/acs?a=1&b=\"2\"\t<x>", issuer: "urn:x:<&>\"q\"\r\nend"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kp, err := newKeyPair("test IdP", tt.rsaKey)
			if err != nil {
				t.Fatal(err)
			}
			idp := &samlIdP{kp: kp, certB64: base64.StdEncoding.EncodeToString(kp.cert.Raw), entityID: "https://127.0.0.1:1/idp?x=&y=<z>"}
			now := time.Now()
			out, err := idp.response(&tt.req, now)
			if err != nil {
				t.Fatal(err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(out); err != nil {
				t.Fatalf("not XML: %v\n%s", err, out)
			}
			root := doc.Root()
			if root.SelectAttrValue("Destination", "") != tt.req.acs || root.SelectAttrValue("InResponseTo", "") != tt.req.id {
				t.Errorf("Destination %q InResponseTo %q", root.SelectAttrValue("Destination", ""), root.SelectAttrValue("InResponseTo", ""))
			}
			if sc := root.FindElement("./Status/StatusCode"); sc == nil || sc.SelectAttrValue("Value", "") != statusSuccess {
				t.Error("no success status")
			}
			a := root.SelectElement("Assertion")
			if a == nil {
				t.Fatalf("no assertion:\n%s", out)
			}
			if el := a.ChildElements(); len(el) < 2 || el[0].Tag != "Issuer" || el[1].Tag != "Signature" {
				t.Error("the Signature does not follow the assertion's Issuer")
			}
			vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{kp.cert}})
			vc.IdAttribute = "ID"
			signed, err := vc.Validate(a)
			if err != nil {
				t.Fatalf("goxmldsig: %v\n%s", err, out)
			}
			if is := signed.SelectElement("Issuer"); is == nil || is.Text() != idp.entityID {
				t.Error("issuer")
			}
			scd := signed.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData")
			if scd == nil || scd.SelectAttrValue("InResponseTo", "") != tt.req.id || scd.SelectAttrValue("Recipient", "") != tt.req.acs {
				t.Error("subject confirmation")
			}
			if aud := signed.FindElement("./Conditions/AudienceRestriction/Audience"); aud == nil || aud.Text() != tt.req.issuer {
				t.Error("audience")
			}
			if got := len(signed.FindElements("./AttributeStatement/Attribute")); got != len(pupilAttributes(1)) {
				t.Errorf("%d attributes", got)
			}

			// A changed byte in the signed part no longer verifies.
			tampered := strings.Replace(string(out), "Kuormitus", "Kuormitut", 1)
			doc = etree.NewDocument()
			if err := doc.ReadFromString(tampered); err != nil {
				t.Fatal(err)
			}
			if _, err := vc.Validate(doc.Root().SelectElement("Assertion")); err == nil {
				t.Error("a tampered assertion verifies")
			}
		})
	}
}

func BenchmarkSAMLIdPResponse(b *testing.B) {
	kp, err := newKeyPair("test IdP", false)
	if err != nil {
		b.Fatal(err)
	}
	idp := &samlIdP{kp: kp, certB64: base64.StdEncoding.EncodeToString(kp.cert.Raw), entityID: "https://127.0.0.1:1/idp"}
	req := &authnRequest{id: "_abc123", acs: "https://broker.example/login/callback/4", issuer: "https://broker.example/login/saml/4"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := idp.response(req, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
