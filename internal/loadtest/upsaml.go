package loadtest

import (
	"bytes"
	"compress/flate"
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
	"strings"
	"sync/atomic"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
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
	base     string
	entityID string
	flowName string
	srv      *http.Server
	// spCerts verify the broker's AuthnRequests; set once the broker's SP
	// metadata for this source is known.
	spCerts atomic.Pointer[[]*x509.Certificate]
	users   atomic.Uint64
}

func startSAMLIdP(runID string, rsaKey bool) (*samlIdP, error) {
	kp, err := newKeyPair("mpassid loadtest upstream SAML IdP", rsaKey)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("upstream SAML IdP: listen: %w", err)
	}
	idp := &samlIdP{kp: kp, base: "https://" + ln.Addr().String(), flowName: "LoadtestSAML" + runID}
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
		nsDSig, base64.StdEncoding.EncodeToString(idp.kp.cert.Raw))
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
		if err := verifyQuerySignature(raw, *certs); err != nil {
			return nil, "", err
		}
	}
	msg, err := url.QueryUnescape(raw["SAMLRequest"])
	if err != nil {
		return nil, "", fmt.Errorf("SAMLRequest: %w", err)
	}
	deflated, err := base64.StdEncoding.DecodeString(msg)
	if err != nil {
		return nil, "", fmt.Errorf("SAMLRequest: %w", err)
	}
	xml, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(deflated)), 64<<10))
	if err != nil {
		return nil, "", fmt.Errorf("SAMLRequest: inflate: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xml); err != nil {
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

// verifyQuerySignature checks an HTTP-Redirect signature (rsa-sha256 or
// ecdsa-sha256) over the octets as received.
func verifyQuerySignature(raw map[string]string, certs []*x509.Certificate) error {
	sigAlg, err := url.QueryUnescape(raw["SigAlg"])
	if err != nil || raw["Signature"] == "" {
		return errors.New("AuthnRequest is not signed")
	}
	s, err := url.QueryUnescape(raw["Signature"])
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
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
				return nil
			}
		case *ecdsa.PublicKey:
			if sigAlg == sigECDSASHA256 && ecdsa.VerifyASN1(pub, digest[:], sig) {
				return nil
			}
		}
	}
	return fmt.Errorf("AuthnRequest signature (%s) does not verify", sigAlg)
}

func samlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// response builds the signed Response for a new test pupil.
func (idp *samlIdP) response(req *authnRequest, now time.Time) ([]byte, error) {
	n := idp.users.Add(1)
	r := etree.NewElement("samlp:Response")
	r.CreateAttr("xmlns:samlp", nsProtocol)
	r.CreateAttr("xmlns:saml", nsAssertion)
	r.CreateAttr("ID", randomID())
	r.CreateAttr("Version", "2.0")
	r.CreateAttr("IssueInstant", samlTime(now))
	r.CreateAttr("Destination", req.acs)
	r.CreateAttr("InResponseTo", req.id)
	r.CreateElement("saml:Issuer").SetText(idp.entityID)
	r.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", statusSuccess)

	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsAssertion)
	a.CreateAttr("ID", randomID())
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", samlTime(now))
	a.CreateElement("saml:Issuer").SetText(idp.entityID)
	subj := a.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
	nid.SetText(fmt.Sprintf("loadtest-%d", n))
	scd := subj.CreateElement("saml:SubjectConfirmation")
	scd.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	d := scd.CreateElement("saml:SubjectConfirmationData")
	d.CreateAttr("InResponseTo", req.id)
	d.CreateAttr("NotOnOrAfter", samlTime(now.Add(5*time.Minute)))
	d.CreateAttr("Recipient", req.acs)
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", samlTime(now.Add(-time.Minute)))
	cond.CreateAttr("NotOnOrAfter", samlTime(now.Add(5*time.Minute)))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(req.issuer)
	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", samlTime(now))
	as.CreateAttr("SessionIndex", randomID())
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
	st := a.CreateElement("saml:AttributeStatement")
	for _, at := range pupilAttributes(n) {
		ae := st.CreateElement("saml:Attribute")
		ae.CreateAttr("Name", at.name)
		for _, v := range at.values {
			ae.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	signed, err := signEnveloped(a, idp.kp)
	if err != nil {
		return nil, err
	}
	r.AddChild(signed)
	doc := etree.NewDocument()
	doc.SetRoot(r)
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("serialise response: %w", err)
	}
	return out, nil
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

// signEnveloped signs el (ecdsa-sha256 or rsa-sha256 by the key, exclusive
// c14n) and puts the Signature after its Issuer, where the SAML schema
// wants it.
func signEnveloped(el *etree.Element, kp *keyPair) (*etree.Element, error) {
	ctx, err := dsig.NewSigningContext(kp.key, [][]byte{kp.cert.Raw})
	if err != nil {
		return nil, fmt.Errorf("signing context: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(kp.xmlSignatureMethod()); err != nil {
		return nil, fmt.Errorf("signature method: %w", err)
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sig, ok := signed.Child[len(signed.Child)-1].(*etree.Element)
	if !ok {
		return nil, errors.New("sign: no Signature element")
	}
	signed.Child = signed.Child[:len(signed.Child)-1]
	out := signed.Copy()
	out.InsertChildAt(1, sig.Copy())
	return out, nil
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
