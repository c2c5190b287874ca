package loadtest

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

// samlFixture is a runner's SP and the broker's IdP as its metadata tells,
// with an IdP that signs as the broker does (RSA-2048) and one whose
// certificate is not in the metadata.
type samlFixture struct {
	r              *runner
	broker, other  *samlIdP
	req            authnRequest
	uid            []attribute
	brokerMetadata []*x509.Certificate
}

func newSAMLFixture(tb testing.TB) *samlFixture {
	tb.Helper()
	const entityID = "http://127.0.0.1:8080/idp"
	newIdP := func() *samlIdP {
		kp, err := newKeyPair("broker", true)
		if err != nil {
			tb.Fatal(err)
		}
		return &samlIdP{kp: kp, certB64: base64.StdEncoding.EncodeToString(kp.cert.Raw), entityID: entityID}
	}
	f := &samlFixture{broker: newIdP(), other: newIdP()}
	// A second certificate in the metadata, as during a key rollover.
	spare := newIdP()
	f.brokerMetadata = []*x509.Certificate{spare.kp.cert, f.broker.kp.cert}
	f.r = &runner{
		sp:  &samlSP{entityID: "http://127.0.0.1:9/loadtest/x/saml", acs: "http://127.0.0.1:9/loadtest/x/saml/acs"},
		idp: newSAMLIdPInfo(entityID, entityID+"/sso", f.brokerMetadata),
	}
	f.req = authnRequest{id: "_req1", acs: f.r.sp.acs, issuer: f.r.sp.entityID}
	// The attributes of a pupil as the broker releases them.
	f.uid = []attribute{
		{"urn:oid:2.5.4.42", []string{"Aino"}}, {"urn:oid:2.5.4.4", []string{"Aaltonen"}},
		{"urn:mpass.id:uid", []string{"MPASSOID.4038dc937101cfc2f3198c7a12d28364e8bb242c"}},
		{"urn:mpass.id:classLevel", []string{"7"}},
		{"urn:mpass.id:educationProviderInfo", []string{"1.2.246.562.10.99900000001;Esimerkkilän kaupunki"}},
		{"urn:mpass.id:schoolInfo", []string{"99001;Esimerkkilän koulu", "1.2.246.562.10.99900000002;Esimerkkilän koulu"}},
		{"urn:mpass.id:role", []string{"1.2.246.562.10.99900000001;99001;7A;1", "1.2.246.562.10.99900000001;1.2.246.562.10.99900000002;7A;1"}},
	}
	return f
}

func (f *samlFixture) response(tb testing.TB, idp *samlIdP, req authnRequest, attrs []attribute) string {
	tb.Helper()
	out, err := idp.signedResponse(&req, time.Now(), "MPASSOID.4038dc937101cfc2f3198c7a12d28364e8bb242c", attrs)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

func TestVerifySAMLResponse(t *testing.T) {
	f := newSAMLFixture(t)
	valid := f.response(t, f.broker, f.req, f.uid)
	raw, _ := base64.StdEncoding.DecodeString(valid)
	tamper := func(old, repl string) string {
		if !strings.Contains(string(raw), old) {
			t.Fatalf("%q not in the response", old)
		}
		return base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), old, repl, 1)))
	}
	otherRaw, _ := base64.StdEncoding.DecodeString(f.response(t, f.other, f.req, f.uid))
	otherWithBrokerCert := base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(otherRaw), f.other.certB64, f.broker.certB64, 1)))
	withReq := func(edit func(*authnRequest)) string {
		req := f.req
		edit(&req)
		return f.response(t, f.broker, req, f.uid)
	}
	tests := []struct {
		name      string
		b64       string
		requestID string // "" for f.req.id
		now       time.Time
		wantErr   string // "" for none
		// crossCheckErr is wanted instead of wantErr when goxmldsig
		// verifies too: "" for the same.
		crossCheckErr string
	}{
		{"valid", valid, "", time.Now(), "", ""},
		{"another request", valid, "_req2", time.Now(), "InResponseTo", ""},
		{"signed by a key not in the metadata", f.response(t, f.other, f.req, f.uid), "", time.Now(), "signature does not verify", ""},
		{"KeyInfo naming a certificate not in the metadata", tamper(f.broker.certB64, f.other.certB64), "", time.Now(), "signature does not verify", ""},
		{"KeyInfo naming the broker's certificate, another key's signature", otherWithBrokerCert, "", time.Now(), "signature does not verify", ""},
		{"KeyInfo with line breaks", tamper(f.broker.certB64, f.broker.certB64[:64]+"\n"+f.broker.certB64[64:]), "", time.Now(), "", ""},
		// Two certificates and no KeyInfo: the broker's verifier tries each,
		// as for an upstream IdP; goxmldsig refuses to choose.
		{"without KeyInfo", tamper(raw2KeyInfo(t, raw), ""), "", time.Now(), "", "refused by goxmldsig"},
		{"changed attribute", tamper("Aaltonen", "Aaltonem"), "", time.Now(), "signature does not verify", ""},
		{"another destination", withReq(func(r *authnRequest) { r.acs += "x" }), "", time.Now(), "Destination or InResponseTo", ""},
		{"another audience", withReq(func(r *authnRequest) { r.issuer += "x" }), "", time.Now(), "audience", ""},
		{"no uid", f.response(t, f.broker, f.req, f.uid[:2]), "", time.Now(), "uid", ""},
		{"expired", valid, "", time.Now().Add(6 * time.Minute), "expired", ""},
		{"not base64", "%%%", "", time.Now(), "not base64", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requestID := tc.requestID
			if requestID == "" {
				requestID = f.req.id
			}
			for _, crossCheck := range []bool{false, true} {
				err := f.r.verifySAMLResponse(tc.b64, requestID, tc.now, crossCheck)
				wantErr := tc.wantErr
				if crossCheck && tc.crossCheckErr != "" {
					wantErr = tc.crossCheckErr
				}
				switch {
				case wantErr == "" && err != nil:
					t.Fatalf("cross-check %v: unexpected error: %v", crossCheck, err)
				case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
					t.Fatalf("cross-check %v: error %v, want one with %q", crossCheck, err, wantErr)
				}
			}
		})
	}
	// With a single certificate in the metadata, a Signature without
	// KeyInfo is checked against it, as goxmldsig does.
	single := *f
	single.r = &runner{sp: f.r.sp, idp: newSAMLIdPInfo(f.r.idp.entityID, f.r.idp.sso, []*x509.Certificate{f.broker.kp.cert})}
	for _, crossCheck := range []bool{false, true} {
		if err := single.r.verifySAMLResponse(tamper(raw2KeyInfo(t, raw), ""), f.req.id, time.Now(), crossCheck); err != nil {
			t.Errorf("single certificate, no KeyInfo, cross-check %v: %v", crossCheck, err)
		}
	}
}

// raw2KeyInfo returns the KeyInfo element of a response.
func raw2KeyInfo(t *testing.T, raw []byte) string {
	t.Helper()
	s := string(raw)
	i, j := strings.Index(s, "<ds:KeyInfo>"), strings.Index(s, "</ds:KeyInfo>")
	if i < 0 || j < i {
		t.Fatal("no KeyInfo")
	}
	return s[i : j+len("</ds:KeyInfo>")]
}

// BenchmarkVerifySAMLResponse measures the tool's check of a Response with
// the broker's verifier alone and with goxmldsig's cross-check as well.
func BenchmarkVerifySAMLResponse(b *testing.B) {
	f := newSAMLFixture(b)
	resp := f.response(b, f.broker, f.req, f.uid)
	for _, crossCheck := range []bool{false, true} {
		b.Run(fmt.Sprintf("crossCheck=%v", crossCheck), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := f.r.verifySAMLResponse(resp, f.req.id, time.Now(), crossCheck); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
