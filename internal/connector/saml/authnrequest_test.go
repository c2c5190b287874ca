package saml

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	kflate "github.com/klauspost/compress/flate"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/mpassid/mpassid/internal/connector"
)

// redirectParts splits the query of an HTTP-Redirect URL into its raw
// key=value pairs, in order.
func redirectParts(t *testing.T, rawURL string) (*url.URL, []string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u, strings.Split(u.RawQuery, "&")
}

// inflateRequest decodes the SAMLRequest of q into its root element.
func inflateRequest(t *testing.T, q url.Values) *etree.Element {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("SAMLRequest is not raw DEFLATE: %v", err)
	}
	tree, err := parseMessageTree(x)
	if err != nil {
		t.Fatalf("AuthnRequest %s: %v", x, err)
	}
	return tree.Root()
}

// TestRedirectBinding checks the HTTP-Redirect URL Start builds against
// saml-bindings §3.4.4: the SSO URL's own query kept, then SAMLRequest,
// RelayState, SigAlg and Signature in that order, the signature over
// exactly those bytes, and an AuthnRequest whose values, escaped, read
// back as they were.
func TestRedirectBinding(t *testing.T) {
	idp := newTestIdP(t)
	ssoURL := idp.srv.URL + "/sso?tenant=a&x=<1>"
	md := strings.ReplaceAll(string(idp.metadata(metadataOpts{})),
		`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="`+idp.srv.URL+`/sso"`,
		`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="`+strings.ReplaceAll(strings.ReplaceAll(ssoURL, "&", "&amp;"), "<", "&lt;")+`"`)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	src, err := NewMetadataSource(MetadataOptions{Document: []byte(md), AllowLoopbackHTTP: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	entityID := `https://mpass.example.fi/sp?a=1&b="2"`
	c, spKey, _ := offlineConnector(t, idp, alwaysFresh{}, func(cfg *Config) {
		cfg.Metadata, cfg.EntityID, cfg.Preset = src, entityID, PresetGSuite
		yes := true
		cfg.SignAuthnRequests = &yes
	})
	tx := "tx-redirect-é&1"
	s, err := c.Start(context.Background(), connector.LoginRequest{TransactionID: tx, ForceAuthn: true, Passive: true})
	if err != nil {
		t.Fatal(err)
	}
	u, parts := redirectParts(t, s.Redirect.URL)
	if got := u.Scheme + "://" + u.Host + u.Path; got != idp.srv.URL+"/sso" {
		t.Errorf("SSO URL = %s", got)
	}
	var keys []string
	for _, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		keys = append(keys, k)
	}
	if got := strings.Join(keys, ","); got != "tenant,x,SAMLRequest,RelayState,SigAlg,Signature" {
		t.Fatalf("query parameters %s", got)
	}
	if err := verifyRedirectSignature(u.RawQuery, spKey.cert); err != nil {
		t.Errorf("signature: %v", err)
	}
	q := u.Query()
	if q.Get("RelayState") != tx || q.Get("SigAlg") != dsig.RSASHA256SignatureMethod {
		t.Errorf("RelayState %q SigAlg %q", q.Get("RelayState"), q.Get("SigAlg"))
	}
	st, err := decodeState(s.State)
	if err != nil {
		t.Fatal(err)
	}
	ar := inflateRequest(t, q)
	if !isElem(ar, nsProtocol, "AuthnRequest") {
		t.Fatalf("root %s", ar.FullTag())
	}
	for k, want := range map[string]string{
		"ID":                          st.RequestID,
		"Version":                     "2.0",
		"Destination":                 ssoURL,
		"AssertionConsumerServiceURL": fuzzACS,
		"ProtocolBinding":             BindingPOST,
		"ForceAuthn":                  "true",
		"IsPassive":                   "true",
	} {
		if got := attr(ar, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(st.RequestID, "id-") || len(st.RequestID) != 43 {
		t.Errorf("request ID %q", st.RequestID)
	}
	if ii, err := time.Parse(time.RFC3339, attr(ar, "IssueInstant")); err != nil || ii.Sub(st.IssuedAt).Abs() > time.Millisecond {
		t.Errorf("IssueInstant %q, state %v", attr(ar, "IssueInstant"), st.IssuedAt)
	}
	if iss := childElem(ar, nsAssertion, "Issuer"); iss == nil || text(iss) != entityID ||
		attr(iss, "Format") != "urn:oasis:names:tc:SAML:2.0:nameid-format:entity" {
		t.Errorf("Issuer wrong")
	}
	if p := childElem(ar, nsProtocol, "NameIDPolicy"); p == nil || attr(p, "Format") != NameIDFormatEmail || attr(p, "AllowCreate") != "true" {
		t.Errorf("NameIDPolicy wrong")
	}
	if childElem(ar, nsDSig, "Signature") != nil {
		t.Errorf("enveloped signature in the Redirect binding")
	}
}

// TestRedirectBindingECDSA checks the query signature with an ECDSA key:
// ecdsa-sha256 over the same bytes.
func TestRedirectBindingECDSA(t *testing.T) {
	key, cert := ecdsaTestKey(t)
	idp := newTestIdP(t)
	c, _, _ := offlineConnector(t, idp, alwaysFresh{}, func(cfg *Config) { cfg.SigningKey, cfg.SigningCert = key, cert })
	s, err := c.Start(context.Background(), connector.LoginRequest{TransactionID: "tx-1"})
	if err != nil {
		t.Fatal(err)
	}
	u, parts := redirectParts(t, s.Redirect.URL)
	if len(parts) != 4 {
		t.Fatalf("query %s", u.RawQuery)
	}
	q := u.Query()
	if q.Get("SigAlg") != dsig.ECDSASHA256SignatureMethod {
		t.Fatalf("SigAlg %q", q.Get("SigAlg"))
	}
	sig, err := base64.StdEncoding.DecodeString(q.Get("Signature"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(strings.Join(parts[:3], "&")))
	if !ecdsa.VerifyASN1(&key.PublicKey, h[:], sig) {
		t.Error("ECDSA signature does not verify")
	}
}

// TestStartConcurrent runs Start from several goroutines, which share the
// connector; every request must inflate to its own ID (run with -race).
func TestStartConcurrent(t *testing.T) {
	idp := newTestIdP(t)
	idp.unsignedRequestsOK = true
	c, _, _ := offlineConnector(t, idp, alwaysFresh{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				s, err := c.Start(context.Background(), connector.LoginRequest{TransactionID: "tx"})
				if err != nil {
					t.Error(err)
					return
				}
				st, err := decodeState(s.State)
				if err != nil {
					t.Error(err)
					return
				}
				u, _ := url.Parse(s.Redirect.URL)
				if id := attr(inflateRequest(t, u.Query()), "ID"); id != st.RequestID {
					t.Errorf("request ID %q, state %q", id, st.RequestID)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestDeflateReadsBack holds the stateless DEFLATE the connector writes to
// what IdPs read it with, here compress/flate: messages of every size an
// AuthnRequest can have and beyond one DEFLATE block, each read back
// byte for byte.
func TestDeflateReadsBack(t *testing.T) {
	long := strings.Repeat(`<saml:Attribute Name="urn:oid:1.3.6.1.4.1.5923.1.1.1.6" Value="x`, 3000)
	for _, msg := range []string{"", "<a/>", testAuthnRequestXML(t), long, long[:70001]} {
		var b bytes.Buffer
		if err := kflate.StatelessDeflate(&b, []byte(msg), true, nil); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(flate.NewReader(&b))
		if err != nil || string(got) != msg {
			t.Fatalf("%d bytes: read back %d bytes, %v", len(msg), len(got), err)
		}
	}
}

// testAuthnRequestXML is an AuthnRequest as the connector writes it.
func testAuthnRequestXML(tb testing.TB) string {
	tb.Helper()
	c, _, _ := offlineConnector(tb, newTestIdP(tb), alwaysFresh{})
	var x bytes.Buffer
	c.appendXML(&x, &authnRequest{
		id: "id-0123456789abcdef0123456789abcdef", issueInstant: time.Now(),
		destination: "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/saml2",
	})
	return x.String()
}

// BenchmarkDeflateAuthnRequest compares compress/flate's fastest level
// (the writer reused, as it was pooled) with the stateless DEFLATE used.
func BenchmarkDeflateAuthnRequest(b *testing.B) {
	msg := []byte(testAuthnRequestXML(b))
	var out bytes.Buffer
	b.Run("compress-flate-BestSpeed", func(b *testing.B) {
		w, _ := flate.NewWriter(&out, flate.BestSpeed)
		for b.Loop() {
			out.Reset()
			w.Reset(&out)
			_, _ = w.Write(msg)
			_ = w.Close()
		}
		b.ReportMetric(float64(out.Len()), "bytes")
	})
	b.Run("stateless", func(b *testing.B) {
		for b.Loop() {
			out.Reset()
			_ = kflate.StatelessDeflate(&out, msg, true, nil)
		}
		b.ReportMetric(float64(out.Len()), "bytes")
	})
}
