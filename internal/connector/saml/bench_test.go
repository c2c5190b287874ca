package saml

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/mpassid/mpassid/internal/connector"
)

// BenchmarkVerifySignedResponse measures verifying an upstream response
// (~4.7 KB, four attributes) signed with RSA-2048 / rsa-sha256 (all checks,
// base64 to Identity): the assertion signed (Entra ID, ADFS), the Response
// signed, both (SimpleSAMLphp's default); "encrypted" adds RSA-OAEP +
// AES-256-GCM decryption of a signed assertion (ADFS).
func BenchmarkVerifySignedResponse(b *testing.B) {
	idp := newTestIdP(b)
	c, _, _ := offlineConnector(b, idp, alwaysFresh{})
	m, err := c.metadata()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		o    respOpts
	}{
		{"assertion-signed", respOpts{requestID: fuzzRequestID, acs: fuzzACS}},
		{"response-signed", respOpts{requestID: fuzzRequestID, acs: fuzzACS, signResponse: true, unsignedAssertion: true}},
		{"both-signed", respOpts{requestID: fuzzRequestID, acs: fuzzACS, signResponse: true}},
		{"encrypted", respOpts{requestID: fuzzRequestID, acs: fuzzACS, encrypt: true}},
	} {
		enc := base64.StdEncoding.EncodeToString(idp.response(bc.o))
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.verify(ctx, enc, fuzzRequestID, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStart measures Start: building an AuthnRequest for the
// HTTP-Redirect binding, signed (RSA-2048; the IdP's metadata wants signed
// requests) or unsigned (the azure preset's default).
func BenchmarkStart(b *testing.B) {
	for _, bc := range []struct {
		name   string
		signed bool
	}{{"signed", true}, {"unsigned", false}} {
		b.Run(bc.name, func(b *testing.B) {
			idp := newTestIdP(b)
			idp.unsignedRequestsOK = !bc.signed
			c, _, _ := offlineConnector(b, idp, alwaysFresh{})
			ctx := context.Background()
			req := connector.LoginRequest{TransactionID: "tx-benchmark-0123456789", ForceAuthn: true}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Start(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
