package loadtest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/mpassid/mpassid/internal/xmlsafe"
)

// SAML names.
const (
	nsProtocol      = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion     = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig          = "http://www.w3.org/2000/09/xmldsig#"
	statusSuccess   = "urn:oasis:names:tc:SAML:2.0:status:Success"
	bindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	bindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	sigRSASHA256    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	sigECDSASHA256  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	algExcC14N      = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algEnveloped    = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	algSHA256       = "http://www.w3.org/2001/04/xmlenc#sha256"
	authnSource     = "urn:mpass.id:authnsource:"
)

// keyPair is a signing key with a self-signed certificate.
type keyPair struct {
	key  crypto.Signer // *ecdsa.PrivateKey or *rsa.PrivateKey
	cert *x509.Certificate
}

// newKeyPair makes a key and a certificate for it, valid for 127.0.0.1 (so
// that it can serve TLS too). P-256 by default: ECDSA keeps the tool's own
// signatures cheap, as the tool shares the machine with the server it
// measures. With rsaKey, RSA-2048, as real services and school IdPs
// (Entra ID, ADFS) sign: verifying RSA costs the broker a fifth of ECDSA,
// signing it costs the tool a signature.
func newKeyPair(cn string, rsaKey bool) (*keyPair, error) {
	var k crypto.Signer
	var err error
	if rsaKey {
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return &keyPair{key: k, cert: cert}, nil
}

// samlIdP is the minimal upstream SAML IdP: HTTP-Redirect SSO with the
// broker's signature checked, and an ECDSA-signed assertion posted back to
// the broker's ACS. It serves https on 127.0.0.1 (the broker accepts
// https SSO endpoints only); virtual users reach its handler in-process.
type samlIdP struct {
	kp       *keyPair
	ops      *sigOps // counts the broker's signed AuthnRequests and its checks of our assertions
	certB64  string  // the certificate in base64, for KeyInfo and metadata
	base     string
	entityID string
	flowName string
	srv      *http.Server
	// spCerts verify the broker's AuthnRequests; set once the broker's SP
	// metadata for this source is known.
	spCerts atomic.Pointer[[]*x509.Certificate]
	users   atomic.Uint64
	// inflaters are reused flate readers (klauspost's, as inflating the
	// broker's AuthnRequest costs it about half of compress/flate's): a
	// new one allocates some 40 KB of state for each AuthnRequest.
	inflaters sync.Pool
}

func startSAMLIdP(runID string, rsaKey bool, ops *sigOps) (*samlIdP, error) {
	kp, err := newKeyPair("mpassid loadtest upstream SAML IdP", rsaKey)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("upstream SAML IdP: listen: %w", err)
	}
	idp := &samlIdP{kp: kp, ops: ops, certB64: base64.StdEncoding.EncodeToString(kp.cert.Raw), base: "https://" + ln.Addr().String(), flowName: "LoadtestSAML" + runID}
	idp.entityID = idp.base + "/idp"
	cert := tls.Certificate{Certificate: [][]byte{kp.cert.Raw}, PrivateKey: kp.key, Leaf: kp.cert}
	// The broker may try the placeholder metadata URL before the upload and
	// fail on the self-signed certificate: not worth a log line.
	idp.srv = &http.Server{Handler: idp, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() {
		_ = idp.srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	}()
	return idp, nil
}

func (idp *samlIdP) close() { _ = idp.srv.Close() }

// metadata is the IdP's metadata document.
func (idp *samlIdP) metadata() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">`, html.EscapeString(idp.entityID))
	b.WriteString(`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">`)
	fmt.Fprintf(&b, `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="%s"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
		nsDSig, idp.certB64)
	fmt.Fprintf(&b, `<md:SingleSignOnService Binding="%s" Location="%s/sso"/>`, bindingRedirect, html.EscapeString(idp.base))
	b.WriteString(`</md:IDPSSODescriptor></md:EntityDescriptor>`)
	return []byte(b.String())
}

func (idp *samlIdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/metadata":
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(idp.metadata())
	case "/sso":
		idp.sso(w, r)
	default:
		http.NotFound(w, r)
	}
}

// sso answers a signed HTTP-Redirect AuthnRequest with a signed assertion
// for a new test pupil.
func (idp *samlIdP) sso(w http.ResponseWriter, r *http.Request) {
	req, relayState, err := idp.readRequest(r.URL.RawQuery)
	if err != nil {
		http.Error(w, "upstream SAML IdP: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := idp.response(req, time.Now())
	if err != nil {
		http.Error(w, "upstream SAML IdP: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeAutoPost(w, req.acs, url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(resp)}, "RelayState": {relayState}})
}

// authnRequest is what the IdP needs of the broker's request.
type authnRequest struct {
	id, acs, issuer string
}

// readRequest checks the query signature against the broker's SP
// certificate and reads the AuthnRequest.
func (idp *samlIdP) readRequest(rawQuery string) (*authnRequest, string, error) {
	raw := map[string]string{}
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		raw[k] = v
	}
	relayState, err := url.QueryUnescape(raw["RelayState"])
	if err != nil {
		return nil, "", fmt.Errorf("RelayState: %w", err)
	}
	if certs := idp.spCerts.Load(); certs != nil {
		pub, err := verifyQuerySignature(raw, *certs)
		if err != nil {
			return nil, "", err
		}
		idp.ops.signed(pub)
	}
	msg, err := url.QueryUnescape(raw["SAMLRequest"])
	if err != nil {
		return nil, "", fmt.Errorf("SAMLRequest: %w", err)
	}
	deflated, err := base64.StdEncoding.DecodeString(msg)
	if err != nil {
		return nil, "", fmt.Errorf("SAMLRequest: %w", err)
	}
	xml, err := idp.inflate(deflated)
	if err != nil {
		return nil, "", fmt.Errorf("SAMLRequest: inflate: %w", err)
	}
	doc, err := xmlsafe.ParseTree(xml, xmlsafe.Options{})
	if err != nil {
		return nil, "", fmt.Errorf("SAMLRequest: %w", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "AuthnRequest" {
		return nil, "", errors.New("SAMLRequest is not an AuthnRequest")
	}
	req := &authnRequest{id: root.SelectAttrValue("ID", ""), acs: root.SelectAttrValue("AssertionConsumerServiceURL", "")}
	if is := root.SelectElement("Issuer"); is != nil {
		req.issuer = strings.TrimSpace(is.Text())
	}
	if req.id == "" || req.acs == "" || req.issuer == "" {
		return nil, "", errors.New("AuthnRequest lacks ID, AssertionConsumerServiceURL or Issuer")
	}
	return req, relayState, nil
}

// inflate decompresses a DEFLATE-encoded message of at most 64 KB.
func (idp *samlIdP) inflate(deflated []byte) ([]byte, error) {
	src := bytes.NewReader(deflated)
	fr, _ := idp.inflaters.Get().(io.ReadCloser)
	if rs, ok := fr.(flate.Resetter); !ok || rs.Reset(src, nil) != nil {
		fr = flate.NewReader(src)
	}
	defer idp.inflaters.Put(fr)
	return io.ReadAll(io.LimitReader(fr, 64<<10))
}

// verifyQuerySignature checks an HTTP-Redirect signature (rsa-sha256 or
// ecdsa-sha256) over the octets as received, and returns the key that
// verified it.
func verifyQuerySignature(raw map[string]string, certs []*x509.Certificate) (crypto.PublicKey, error) {
	sigAlg, err := url.QueryUnescape(raw["SigAlg"])
	if err != nil || raw["Signature"] == "" {
		return nil, errors.New("AuthnRequest is not signed")
	}
	s, err := url.QueryUnescape(raw["Signature"])
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	signed := "SAMLRequest=" + raw["SAMLRequest"]
	if rs, ok := raw["RelayState"]; ok {
		signed += "&RelayState=" + rs
	}
	signed += "&SigAlg=" + raw["SigAlg"]
	digest := sha256.Sum256([]byte(signed))
	for _, c := range certs {
		switch pub := c.PublicKey.(type) {
		case *rsa.PublicKey:
			if sigAlg == sigRSASHA256 && rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil {
				return pub, nil
			}
		case *ecdsa.PublicKey:
			if sigAlg == sigECDSASHA256 && ecdsa.VerifyASN1(pub, digest[:], sig) {
				return pub, nil
			}
		}
	}
	return nil, fmt.Errorf("AuthnRequest signature (%s) does not verify", sigAlg)
}

func samlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// response builds the signed Response for a new test pupil. The Assertion
// and its SignedInfo are written directly in exclusive-c14n canonical form
// (attributes in canonical order, values escaped as c14n escapes them), so
// that the digest and the signature are over bytes already in hand:
// building an etree tree, canonicalising a copy and serialising it again
// cost the tool 0.4 ms per brokered SAML login, twice the rest of its IdP.
// The tests verify the output with goxmldsig.
func (idp *samlIdP) response(req *authnRequest, now time.Time) ([]byte, error) {
	n := idp.users.Add(1)
	return idp.signedResponse(req, now, "loadtest-"+strconv.FormatUint(n, 10), pupilAttributes(n))
}

// signedResponse builds a Response with an assertion of the subject's
// persistent nameID and attributes, signed as response describes.
func (idp *samlIdP) signedResponse(req *authnRequest, now time.Time, nameID string, attrs []attribute) ([]byte, error) {
	assertionID := randomID()
	issued, expires := samlTime(now), samlTime(now.Add(5*time.Minute))

	// The Assertion, split where the Signature goes: after its Issuer, as
	// the SAML schema wants it. The enveloped-signature transform removes
	// the Signature again, so the digest is over head and tail alone.
	var head, tail bytes.Buffer
	head.Grow(256)
	head.WriteString(`<saml:Assertion xmlns:saml="` + nsAssertion + `" ID="` + assertionID + `" IssueInstant="` + issued + `" Version="2.0"><saml:Issuer>`)
	writeC14NText(&head, idp.entityID)
	head.WriteString(`</saml:Issuer>`)
	tail.Grow(2048)
	tail.WriteString(`<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">`)
	writeC14NText(&tail, nameID)
	tail.WriteString(`</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="`)
	writeC14NAttr(&tail, req.id)
	tail.WriteString(`" NotOnOrAfter="` + expires + `" Recipient="`)
	writeC14NAttr(&tail, req.acs)
	tail.WriteString(`"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="` +
		samlTime(now.Add(-time.Minute)) + `" NotOnOrAfter="` + expires + `"><saml:AudienceRestriction><saml:Audience>`)
	writeC14NText(&tail, req.issuer)
	tail.WriteString(`</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="` + issued +
		`" SessionIndex="` + randomID() + `"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>`)
	for _, at := range attrs {
		tail.WriteString(`<saml:Attribute Name="`)
		writeC14NAttr(&tail, at.name)
		tail.WriteString(`">`)
		for _, v := range at.values {
			tail.WriteString(`<saml:AttributeValue>`)
			writeC14NText(&tail, v)
			tail.WriteString(`</saml:AttributeValue>`)
		}
		tail.WriteString(`</saml:Attribute>`)
	}
	tail.WriteString(`</saml:AttributeStatement></saml:Assertion>`)

	h := sha256.New()
	h.Write(head.Bytes())
	h.Write(tail.Bytes())
	// The SignedInfo as exclusive c14n renders it: its ds prefix, visibly
	// used and declared by the Signature, is declared on it.
	signedInfo := `<ds:CanonicalizationMethod Algorithm="` + algExcC14N + `"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="` +
		idp.kp.xmlSignatureMethod() + `"></ds:SignatureMethod><ds:Reference URI="#` + assertionID + `"><ds:Transforms><ds:Transform Algorithm="` +
		algEnveloped + `"></ds:Transform><ds:Transform Algorithm="` + algExcC14N + `"></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm="` +
		algSHA256 + `"></ds:DigestMethod><ds:DigestValue>` + base64.StdEncoding.EncodeToString(h.Sum(nil)) + `</ds:DigestValue></ds:Reference></ds:SignedInfo>`
	digest := sha256.Sum256([]byte(`<ds:SignedInfo xmlns:ds="` + nsDSig + `">` + signedInfo))
	sig, err := idp.kp.signDigest(digest[:])
	if err != nil {
		return nil, fmt.Errorf("sign the assertion: %w", err)
	}
	idp.ops.checks(idp.kp.key.Public())

	var out bytes.Buffer
	out.Grow(head.Len() + tail.Len() + len(signedInfo) + len(idp.certB64) + 1024)
	out.WriteString(`<samlp:Response xmlns:samlp="` + nsProtocol + `" xmlns:saml="` + nsAssertion + `" ID="` + randomID() +
		`" Version="2.0" IssueInstant="` + issued + `" Destination="`)
	writeC14NAttr(&out, req.acs)
	out.WriteString(`" InResponseTo="`)
	writeC14NAttr(&out, req.id)
	out.WriteString(`"><saml:Issuer>`)
	writeC14NText(&out, idp.entityID)
	out.WriteString(`</saml:Issuer><samlp:Status><samlp:StatusCode Value="` + statusSuccess + `"></samlp:StatusCode></samlp:Status>`)
	out.Write(head.Bytes())
	out.WriteString(`<ds:Signature xmlns:ds="` + nsDSig + `"><ds:SignedInfo>` + signedInfo + `<ds:SignatureValue>` +
		base64.StdEncoding.EncodeToString(sig) + `</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` +
		idp.certB64 + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`)
	out.Write(tail.Bytes())
	out.WriteString(`</samlp:Response>`)
	return out.Bytes(), nil
}

// writeC14NText writes s as canonical XML escapes character data.
func writeC14NText(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteByte(s[i])
		}
	}
}

// writeC14NAttr writes s as canonical XML escapes an attribute value.
func writeC14NAttr(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '"':
			b.WriteString("&quot;")
		case '\t':
			b.WriteString("&#x9;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteByte(s[i])
		}
	}
}

// xmlSignatureMethod is the XML-DSig and SAML SigAlg URI of the key.
func (kp *keyPair) xmlSignatureMethod() string {
	if _, ok := kp.key.(*rsa.PrivateKey); ok {
		return sigRSASHA256
	}
	return sigECDSASHA256
}

// signDigest signs a SHA-256 digest as the SAML HTTP-Redirect binding
// wants it: PKCS #1 v1.5 for RSA, ASN.1 for ECDSA.
func (kp *keyPair) signDigest(digest []byte) ([]byte, error) {
	return kp.key.Sign(rand.Reader, digest, crypto.SHA256)
}

// attribute is one upstream attribute.
type attribute struct {
	name   string
	values []string
}

// pupilAttributes are the attributes of the n-th test pupil, under the
// data model's source names (the default user-attribute mapping): a pupil
// of class 7A at the demo registry's school 99001, with a test learner id.
func pupilAttributes(n uint64) []attribute {
	return []attribute{
		{"username", []string{fmt.Sprintf("loadtest-%d", n)}},
		{"firstName", []string{"Kuormitus"}},
		{"surname", []string{"Testaaja"}},
		{"learnerId", []string{fmt.Sprintf("1.2.246.562.98.%011d", n)}},
		{"roles", []string{"Oppilas"}},
		{"schoolIds", []string{"99001"}},
		{"groups", []string{"7A"}},
		{"groupLevels", []string{"7"}},
	}
}

// writeAutoPost writes an HTTP-POST binding form.
func writeAutoPost(w http.ResponseWriter, action string, fields url.Values) {
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html><body><form method="post" action="%s">`, html.EscapeString(action))
	for k, vs := range fields {
		for _, v := range vs {
			fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(v))
		}
	}
	b.WriteString(`<button type="submit">Continue</button></form></body></html>`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}

// randomID returns an XML ID: "_" and 32 hex digits.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return fmt.Sprintf("_%x", b)
}
