package saml

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/mpassid/mpassid/internal/connector"
)

// testKey is an RSA key with a self-signed certificate.
type testKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// Keys are expensive to generate; the tests use the fixed test-only keys
// in testdata/test-keys.pem, loaded once.
var (
	testKeysOnce sync.Once
	testKeys     []*rsa.PrivateKey
	testKeysErr  error
)

func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		b, err := os.ReadFile("testdata/test-keys.pem")
		if err != nil {
			testKeysErr = err
			return
		}
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				testKeysErr = err
				return
			}
			testKeys = append(testKeys, k.(*rsa.PrivateKey))
		}
	})
	if testKeysErr != nil || i >= len(testKeys) {
		t.Fatalf("test key %d: %v", i, testKeysErr)
	}
	return testKeys[i]
}

func newTestKey(t testing.TB, i int, cn string, notBefore, notAfter time.Time) *testKey {
	t.Helper()
	k := rsaKey(t, i)
	cert := selfSigned(t, k, &x509.Certificate{
		SerialNumber: big.NewInt(int64(i) + 1000),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	})
	return &testKey{key: k, cert: cert}
}

// selfSigned returns the certificate of tmpl signed by key itself.
func selfSigned(t testing.TB, key crypto.Signer, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func (k *testKey) b64() string { return base64.StdEncoding.EncodeToString(k.cert.Raw) }

// memReplay is a connector.ReplayCache in memory.
type memReplay struct {
	mu   sync.Mutex
	seen map[string]time.Time
	fail error
}

func (m *memReplay) MarkUsed(_ context.Context, ns, value string, exp time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return false, m.fail
	}
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	k := ns + "\x00" + value
	if _, ok := m.seen[k]; ok {
		return false, nil
	}
	m.seen[k] = exp
	return true, nil
}

const (
	testSPEntityID  = "https://mpass.example.fi/sp/azure_t"
	testIdPEntityID = "https://sts.windows.net/3f066e8c-0000-4a1c-adc6-84baed0e079e/"
)

// testIdP is an upstream SAML IdP in Go: it serves metadata, takes
// AuthnRequests (Redirect and POST), verifies their signatures with the SP's
// certificate, and answers with a signed response posted to the ACS.
type testIdP struct {
	t        testing.TB
	entityID string
	key      *testKey
	// extraCerts are further signing certificates in the metadata
	// (rollover); the IdP signs with key.
	extraCerts []*testKey
	srv        *httptest.Server
	spCert     *x509.Certificate // verifies AuthnRequests
	spEncCert  *x509.Certificate // encrypts assertions, if encrypt
	encrypt    bool
	postOnly   bool
	// unsignedRequestsOK drops WantAuthnRequestsSigned="true" from the
	// metadata and accepts unsigned AuthnRequests (signed ones are still
	// verified).
	unsignedRequestsOK bool
	nameID             string
	attrs              []testAttr
	// lastRequest is the last AuthnRequest received.
	mu          sync.Mutex
	lastRequest *etree.Element
	lastBinding string
	lastSigned  bool
}

type testAttr struct {
	name, friendly string
	values         []string
}

func newTestIdP(t testing.TB) *testIdP {
	t.Helper()
	now := time.Now()
	idp := &testIdP{
		t:        t,
		entityID: testIdPEntityID,
		key:      newTestKey(t, 0, "idp", now.Add(-time.Hour), now.Add(365*24*time.Hour)),
		nameID:   "pseudonym-1234",
		attrs: []testAttr{
			{name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", values: []string{"Maija"}},
			{name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", values: []string{"Meikäläinen"}},
			{name: "urn:oid:1.3.6.1.4.1.5923.1.1.1.1", friendly: "eduPersonAffiliation", values: []string{"student", "member"}},
			{name: "opentunti.role", values: []string{"Oppilas"}},
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(idp.metadata(metadataOpts{}))
	})
	mux.HandleFunc("/sso", idp.handleSSO)
	idp.srv = httptest.NewServer(mux)
	t.Cleanup(idp.srv.Close)
	return idp
}

type metadataOpts struct {
	validUntil time.Time
	signWith   *testKey
	omitSSO    bool
}

// metadata is the IdP's metadata in the shape of Entra ID federation
// metadata: default md namespace, an ID, a WS-Fed RoleDescriptor, several
// signing KeyDescriptors, SLO and SSO with Redirect and POST.
func (idp *testIdP) metadata(o metadataOpts) []byte {
	var b strings.Builder
	b.WriteString("\uFEFF<?xml version=\"1.0\" encoding=\"utf-8\"?>")
	fmt.Fprintf(&b, `<EntityDescriptor ID="_md1" entityID="%s" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"`, idp.entityID)
	if !o.validUntil.IsZero() {
		fmt.Fprintf(&b, ` validUntil="%s"`, o.validUntil.UTC().Format(time.RFC3339))
	}
	b.WriteString(">")
	keys := append([]*testKey{idp.key}, idp.extraCerts...)
	kd := func() {
		for _, k := range keys {
			fmt.Fprintf(&b, `<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>%s</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`, k.b64())
		}
	}
	b.WriteString(`<RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">`)
	kd()
	b.WriteString(`<fed:ClaimTypesOffered><auth:ClaimType Uri="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name" xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706"><auth:DisplayName>Name</auth:DisplayName></auth:ClaimType></fed:ClaimTypesOffered>`)
	b.WriteString(`</RoleDescriptor>`)
	if idp.unsignedRequestsOK {
		b.WriteString(`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`)
	} else {
		b.WriteString(`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">`)
	}
	kd()
	sso := idp.srv.URL + "/sso"
	fmt.Fprintf(&b, `<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s" />`, sso)
	if !o.omitSSO {
		if !idp.postOnly {
			fmt.Fprintf(&b, `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s" />`, sso)
		}
		fmt.Fprintf(&b, `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%s" />`, sso)
	}
	b.WriteString(`</IDPSSODescriptor></EntityDescriptor>`)
	doc := []byte(b.String())
	if o.signWith != nil {
		doc = signDocument(idp.t, doc, o.signWith)
	}
	return doc
}

// signDocument adds an enveloped signature to the root of doc, after the
// root's first child position (as Entra does).
func signDocument(t testing.TB, doc []byte, k *testKey) []byte {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(stripBOM(doc)); err != nil {
		t.Fatal(err)
	}
	signed := signElement(t, d.Root(), k, 0)
	d.SetRoot(signed)
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signElement returns el with an enveloped rsa-sha256 signature inserted
// as child number pos (after the Issuer, pos 1, for SAML messages).
func signElement(t testing.TB, el *etree.Element, k *testKey, pos int) *etree.Element {
	t.Helper()
	return signElementWith(t, el, k, pos, dsig.RSASHA256SignatureMethod)
}

// respOpts shape one response of the test IdP. Zero values take correct
// defaults.
type respOpts struct {
	requestID                 string
	acs, audience             string
	destination, recipient    *string
	issuer, assertionIssuer   string
	issueInstant              time.Time
	notBefore, notOnOrAfter   time.Time
	scdNotOnOrAfter           time.Time
	status                    []string
	unsignedAssertion         bool
	signResponse              bool
	signer                    *testKey
	encrypt                   bool
	encBlock                  xmlenc.Encrypter
	encCert                   *x509.Certificate
	assertionID               string
	nameID                    string
	attrs                     []testAttr
	mutateAssertion           func(a *etree.Element)    // before signing
	mutateResponse            func(r, a *etree.Element) // after signing
	mutateSignedAssertionTree func(d *etree.Document)   // after everything
}

func strp(s string) *string { return &s }

var idCounter struct {
	sync.Mutex
	n int
}

func newID(prefix string) string {
	idCounter.Lock()
	defer idCounter.Unlock()
	idCounter.n++
	return fmt.Sprintf("%s%d_%x", prefix, idCounter.n, time.Now().UnixNano())
}

// assertionElement builds the Assertion (unsigned).
func (idp *testIdP) assertionElement(o *respOpts, now time.Time) *etree.Element {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", nsAssertion)
	a.CreateAttr("xmlns:xs", "http://www.w3.org/2001/XMLSchema")
	a.CreateAttr("ID", o.assertionID)
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", ts(o.issueInstant))
	a.CreateElement("saml:Issuer").SetText(o.assertionIssuer)
	subj := a.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", NameIDFormatPersistent)
	nid.SetText(o.nameID)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("InResponseTo", o.requestID)
	scd.CreateAttr("NotOnOrAfter", ts(o.scdNotOnOrAfter))
	scd.CreateAttr("Recipient", *o.recipient)
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", ts(o.notBefore))
	cond.CreateAttr("NotOnOrAfter", ts(o.notOnOrAfter))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(o.audience)
	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", ts(now.Add(-10*time.Second)))
	as.CreateAttr("SessionIndex", "_session42")
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
	if len(o.attrs) > 0 {
		st := a.CreateElement("saml:AttributeStatement")
		for _, at := range o.attrs {
			ae := st.CreateElement("saml:Attribute")
			ae.CreateAttr("Name", at.name)
			if at.friendly != "" {
				ae.CreateAttr("FriendlyName", at.friendly)
			}
			for _, v := range at.values {
				ve := ae.CreateElement("saml:AttributeValue")
				ve.CreateAttr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
				ve.CreateAttr("xsi:type", "xs:string")
				ve.SetText(v)
			}
		}
	}
	return a
}

// response builds a SAML Response as the IdP would send it, shaped by o.
func (idp *testIdP) response(o respOpts) []byte {
	t := idp.t
	t.Helper()
	now := time.Now()
	if o.acs == "" {
		t.Fatal("respOpts.acs is required")
	}
	if o.audience == "" {
		o.audience = testSPEntityID
	}
	if o.destination == nil {
		o.destination = &o.acs
	}
	if o.recipient == nil {
		o.recipient = &o.acs
	}
	if o.issuer == "" {
		o.issuer = idp.entityID
	}
	if o.assertionIssuer == "" {
		o.assertionIssuer = o.issuer
	}
	if o.issueInstant.IsZero() {
		o.issueInstant = now
	}
	if o.notBefore.IsZero() {
		o.notBefore = now.Add(-time.Minute)
	}
	if o.notOnOrAfter.IsZero() {
		o.notOnOrAfter = now.Add(5 * time.Minute)
	}
	if o.scdNotOnOrAfter.IsZero() {
		o.scdNotOnOrAfter = o.notOnOrAfter
	}
	if o.status == nil {
		o.status = []string{statusSuccess}
	}
	if o.signer == nil {
		o.signer = idp.key
	}
	if o.assertionID == "" {
		o.assertionID = newID("_a")
	}
	if o.nameID == "" {
		o.nameID = idp.nameID
	}
	if o.attrs == nil {
		o.attrs = idp.attrs
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

	r := etree.NewElement("samlp:Response")
	r.CreateAttr("xmlns:samlp", nsProtocol)
	r.CreateAttr("xmlns:saml", nsAssertion)
	r.CreateAttr("ID", newID("_r"))
	r.CreateAttr("Version", "2.0")
	r.CreateAttr("IssueInstant", ts(o.issueInstant))
	if *o.destination != "" {
		r.CreateAttr("Destination", *o.destination)
	}
	if o.requestID != "" {
		r.CreateAttr("InResponseTo", o.requestID)
	}
	r.CreateElement("saml:Issuer").SetText(o.issuer)
	st := r.CreateElement("samlp:Status")
	parent := st
	for _, code := range o.status {
		parent = parent.CreateElement("samlp:StatusCode")
		parent.CreateAttr("Value", code)
	}

	var a *etree.Element
	if o.status[0] == statusSuccess {
		a = idp.assertionElement(&o, now)
		if o.mutateAssertion != nil {
			o.mutateAssertion(a)
		}
		if !o.unsignedAssertion {
			a = signElement(t, a, o.signer, 1)
		}
		if o.encrypt {
			enc := o.encBlock
			if enc == nil {
				e := xmlenc.OAEP()
				e.BlockCipher = xmlenc.AES256GCM
				enc = e
			}
			cert := o.encCert
			if cert == nil {
				cert = idp.spEncCert
			}
			d := etree.NewDocument()
			d.SetRoot(a)
			plain, err := d.WriteToBytes()
			if err != nil {
				t.Fatal(err)
			}
			ed, err := enc.Encrypt(cert, plain, nil)
			if err != nil {
				t.Fatal(err)
			}
			ed.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
			ea := etree.NewElement("saml:EncryptedAssertion")
			ea.AddChild(ed)
			r.AddChild(ea)
		} else {
			r.AddChild(a)
		}
	}
	if o.signResponse {
		r = signElement(t, r, o.signer, 1)
	}
	if o.mutateResponse != nil {
		var ra *etree.Element
		for _, c := range r.ChildElements() {
			if c.Tag == "Assertion" {
				ra = c
			}
		}
		o.mutateResponse(r, ra)
	}
	d := etree.NewDocument()
	d.SetRoot(r)
	if o.mutateSignedAssertionTree != nil {
		o.mutateSignedAssertionTree(d)
	}
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// handleSSO takes an AuthnRequest by HTTP-Redirect (GET, query signature)
// or HTTP-POST (enveloped signature), checks its signature with the SP's
// certificate, and answers with an auto-submitting form to the ACS.
func (idp *testIdP) handleSSO(w http.ResponseWriter, r *http.Request) {
	var reqXML []byte
	var relayState, binding string
	var signed bool
	switch r.Method {
	case http.MethodGet:
		binding = BindingRedirect
		q := r.URL.Query()
		relayState = q.Get("RelayState")
		signed = q.Has("Signature") || q.Has("SigAlg")
		if signed || !idp.unsignedRequestsOK {
			if err := verifyRedirectSignature(r.URL.RawQuery, idp.spCert); err != nil {
				http.Error(w, "bad AuthnRequest signature: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		raw, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
		if err != nil {
			http.Error(w, "bad base64", http.StatusBadRequest)
			return
		}
		reqXML, err = io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
		if err != nil {
			http.Error(w, "bad deflate", http.StatusBadRequest)
			return
		}
	case http.MethodPost:
		binding = BindingPOST
		_ = r.ParseForm()
		relayState = r.PostForm.Get("RelayState")
		var err error
		reqXML, err = base64.StdEncoding.DecodeString(r.PostForm.Get("SAMLRequest"))
		if err != nil {
			http.Error(w, "bad base64", http.StatusBadRequest)
			return
		}
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(reqXML); err != nil {
		http.Error(w, "bad xml", http.StatusBadRequest)
		return
	}
	ar := d.Root()
	if binding == BindingPOST {
		signed = childElem(ar, nsDSig, "Signature") != nil
		if signed || !idp.unsignedRequestsOK {
			if _, err := verifyEnveloped(ar, []*x509.Certificate{idp.spCert}, time.Now(), false); err != nil {
				http.Error(w, "bad AuthnRequest signature: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
	} else if childElem(ar, nsDSig, "Signature") != nil {
		http.Error(w, "enveloped signature in Redirect binding", http.StatusBadRequest)
		return
	}
	idp.mu.Lock()
	idp.lastRequest, idp.lastBinding, idp.lastSigned = ar, binding, signed
	idp.mu.Unlock()
	acs := attr(ar, "AssertionConsumerServiceURL")
	o := respOpts{requestID: attr(ar, "ID"), acs: acs, signResponse: true, encrypt: idp.encrypt}
	if attr(ar, "IsPassive") == "true" {
		o.status = []string{"urn:oasis:names:tc:SAML:2.0:status:Responder", "urn:oasis:names:tc:SAML:2.0:status:NoPassive"}
	}
	resp := idp.response(o)
	writePostForm(w, acs, url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(resp)}, "RelayState": {relayState}})
}

func writePostForm(w http.ResponseWriter, action string, v url.Values) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<html><body onload="document.forms[0].submit()"><form method="post" action="%s">`, html.EscapeString(action))
	for k, vs := range v {
		for _, x := range vs {
			fmt.Fprintf(w, `<input type="hidden" name="%s" value="%s" />`, html.EscapeString(k), html.EscapeString(x))
		}
	}
	fmt.Fprint(w, `<noscript><input type="submit" value="Continue" /></noscript></form></body></html>`)
}

// verifyRedirectSignature checks an HTTP-Redirect binding query signature
// (saml-bindings §3.4.4.1): over the raw SAMLRequest, RelayState and SigAlg
// parameters, in that order, rsa-sha256.
func verifyRedirectSignature(rawQuery string, cert *x509.Certificate) error {
	parts := map[string]string{}
	for _, p := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(p, "=")
		parts[k] = v
	}
	alg, err := url.QueryUnescape(parts["SigAlg"])
	if err != nil || alg != dsig.RSASHA256SignatureMethod {
		return fmt.Errorf("SigAlg %q", alg)
	}
	signed := "SAMLRequest=" + parts["SAMLRequest"]
	if rs, ok := parts["RelayState"]; ok {
		signed += "&RelayState=" + rs
	}
	signed += "&SigAlg=" + parts["SigAlg"]
	sigB64, err := url.QueryUnescape(parts["Signature"])
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return err
	}
	h := sha256.Sum256([]byte(signed))
	return rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, h[:], sig)
}

// testBroker is the broker side: an httptest server whose /acs endpoint
// runs TransactionID and Callback on the Connector.
type testBroker struct {
	t      testing.TB
	srv    *httptest.Server
	c      *Connector
	replay *memReplay
	spKey  *testKey
	encKey *testKey
	mu     sync.Mutex
	states map[string][]byte
	last   result
}

type result struct {
	id  *connector.Identity
	err error
}

func (b *testBroker) acsURL() string { return b.srv.URL + "/acs" }

// newTestBroker starts the broker's ACS server and a Connector for idp
// (metadata fetched from idp's /metadata over HTTP); mod adjusts the Config.
func newTestBroker(t testing.TB, idp *testIdP, mod func(*Config)) *testBroker {
	t.Helper()
	b := startTestBroker(t)
	idp.spCert = b.spKey.cert
	idp.spEncCert = b.encKey.cert
	b.connect(idp.srv.URL+"/metadata", idp.entityID, mod)
	return b
}

// startTestBroker starts the broker's ACS server, without a Connector yet.
func startTestBroker(t testing.TB) *testBroker {
	t.Helper()
	now := time.Now()
	b := &testBroker{t: t, replay: &memReplay{}, states: map[string][]byte{}}
	b.spKey = newTestKey(t, 1, "sp-signing", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	b.encKey = newTestKey(t, 2, "sp-encryption", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	mux := http.NewServeMux()
	mux.HandleFunc("/acs", b.handleACS)
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b
}

// connect makes the broker's Connector, with IdP metadata from mdURL.
func (b *testBroker) connect(mdURL, idpEntityID string, mod func(*Config)) {
	t := b.t
	t.Helper()
	src, err := NewMetadataSource(MetadataOptions{URL: mdURL, AllowLoopbackHTTP: true, EntityID: idpEntityID,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Preset:         PresetAzure,
		EntityID:       testSPEntityID,
		ACSURL:         b.acsURL(),
		SigningKey:     b.spKey.key,
		SigningCert:    b.spKey.cert,
		EncryptionKey:  b.encKey.key,
		EncryptionCert: b.encKey.cert,
		IdPEntityID:    idpEntityID,
		Metadata:       src,
		ReplayCache:    b.replay,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.c = c
}

func (b *testBroker) handleACS(w http.ResponseWriter, r *http.Request) {
	res := func() result {
		tx, err := b.c.TransactionID(r)
		if err != nil {
			return result{err: err}
		}
		b.mu.Lock()
		st, ok := b.states[tx]
		b.mu.Unlock()
		if !ok {
			return result{err: errors.New("unknown transaction")}
		}
		id, err := b.c.Callback(r.Context(), r, connector.LoginRequest{TransactionID: tx, CallbackURL: b.acsURL()}, st)
		return result{id, err}
	}()
	b.mu.Lock()
	b.last = res
	b.mu.Unlock()
	if res.err != nil {
		http.Error(w, "login failed", http.StatusBadRequest)
		return
	}
	fmt.Fprint(w, "ok")
}

// start runs Start for a new transaction and returns its id, request ID
// and the Started.
func (b *testBroker) start(req connector.LoginRequest) (string, string, *connector.Started) {
	b.t.Helper()
	if req.TransactionID == "" {
		req.TransactionID = newID("tx")
	}
	req.CallbackURL = b.acsURL()
	s, err := b.c.Start(context.Background(), req)
	if err != nil {
		b.t.Fatal(err)
	}
	st, err := decodeState(s.State)
	if err != nil {
		b.t.Fatal(err)
	}
	b.mu.Lock()
	b.states[req.TransactionID] = s.State
	b.mu.Unlock()
	return req.TransactionID, st.RequestID, s
}

// post POSTs a form to the broker's ACS over HTTP and returns what
// Callback returned.
func (b *testBroker) post(form url.Values) result {
	b.t.Helper()
	resp, err := http.PostForm(b.acsURL(), form)
	if err != nil {
		b.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// postResponse POSTs a SAML response for transaction tx.
func (b *testBroker) postResponse(tx string, resp []byte) result {
	return b.post(url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(resp)}, "RelayState": {tx}})
}

var formRE = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"`)
var inputRE = regexp.MustCompile(`<input[^>]*>`)
var attrRE = regexp.MustCompile(`(\w+)="([^"]*)"`)

// parseForm extracts the action and the named inputs of the first form in
// an HTML page.
func parseHTMLForm(page string) (string, url.Values, error) {
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		return "", nil, errors.New("no form in page")
	}
	v := url.Values{}
	for _, in := range inputRE.FindAllString(page, -1) {
		attrs := map[string]string{}
		for _, a := range attrRE.FindAllStringSubmatch(in, -1) {
			attrs[strings.ToLower(a[1])] = html.UnescapeString(a[2])
		}
		if attrs["name"] != "" {
			v.Add(attrs["name"], attrs["value"])
		}
	}
	return html.UnescapeString(m[1]), v, nil
}
