package saml

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// sigShape is one way of writing an enveloped signature.
type sigShape struct {
	name       string
	c14n       string // CanonicalizationMethod
	method     string // SignatureMethod
	hash       crypto.Hash
	transforms []string
	prefixList *string // InclusiveNamespaces on the exc-c14n Transform
	digest     string
	digestHash crypto.Hash
	// mutate changes the Signature before SignedInfo is signed, so that
	// the signature stays valid.
	mutate func(sig *etree.Element)
	// common: parseCommonSignature must take it.
	common bool
}

const (
	excC14N       = string(dsig.CanonicalXML10ExclusiveAlgorithmId)
	enveloped     = string(dsig.EnvelopedSignatureAltorithmId)
	sha256Digest  = "http://www.w3.org/2001/04/xmlenc#sha256"
	sha384Digest  = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	sha512Digest  = "http://www.w3.org/2001/04/xmlenc#sha512"
	sha1Digest    = "http://www.w3.org/2000/09/xmldsig#sha1"
	inclusiveC14N = string(dsig.CanonicalXML10RecAlgorithmId)
)

func canonicalizerFor(t testing.TB, alg, prefixList string) dsig.Canonicalizer {
	t.Helper()
	switch alg {
	case excC14N:
		return dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixList)
	case inclusiveC14N:
		return dsig.MakeC14N10RecCanonicalizer()
	}
	t.Fatalf("no canonicalizer for %s", alg)
	return nil
}

// signShaped returns a copy of el, a detached element with an ID, with
// its Signature children replaced by one of shape sh, made with key, as
// its second child.
func signShaped(t testing.TB, el *etree.Element, key crypto.Signer, sh sigShape) *etree.Element {
	t.Helper()
	el = el.Copy()
	for _, s := range childElems(el, nsDSig, "Signature") {
		el.RemoveChild(s)
	}
	c14n, prefixes := "", ""
	for _, tr := range sh.transforms {
		if tr != enveloped {
			c14n = tr
		}
	}
	if sh.prefixList != nil {
		prefixes = *sh.prefixList
	}
	referenced, err := canonicalizerFor(t, c14n, prefixes).Canonicalize(el.Copy())
	if err != nil {
		t.Fatal(err)
	}
	dh := sh.digestHash.New()
	dh.Write(referenced)

	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", nsDSig)
	si := sig.CreateElement("ds:SignedInfo")
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", sh.c14n)
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", sh.method)
	ref := si.CreateElement("ds:Reference")
	ref.CreateAttr("URI", "#"+attr(el, "ID"))
	trs := ref.CreateElement("ds:Transforms")
	for _, tr := range sh.transforms {
		e := trs.CreateElement("ds:Transform")
		e.CreateAttr("Algorithm", tr)
		if tr == excC14N && sh.prefixList != nil {
			in := e.CreateElement("ec:InclusiveNamespaces")
			in.CreateAttr("xmlns:ec", nsExcC14N)
			in.CreateAttr("PrefixList", *sh.prefixList)
		}
	}
	ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", sh.digest)
	ref.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(dh.Sum(nil)))
	sv := sig.CreateElement("ds:SignatureValue")
	if sh.mutate != nil {
		sh.mutate(sig)
	}
	el.InsertChildAt(1, sig)

	signedInfo, err := canonicalizerFor(t, sh.c14n, "").Canonicalize(detach(si))
	if err != nil {
		t.Fatal(err)
	}
	h := sh.hash.New()
	h.Write(signedInfo)
	value, err := key.Sign(rand.Reader, h.Sum(nil), sh.hash)
	if err != nil {
		t.Fatal(err)
	}
	sv.SetText(base64.StdEncoding.EncodeToString(value))
	return el
}

// ecdsaTestKey is a P-256 key with a self-signed certificate valid now.
func ecdsaTestKey(t testing.TB) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	return key, selfSigned(t, key, &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "idp-ecdsa"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature})
}

// verdicts verifies el's one Signature with cert both ways, each on its
// own detached copy without KeyInfo: the common path (common is false if
// the signature is not of the common shape) and goxmldsig.
type verdicts struct {
	common           bool
	fast, gx         *etree.Element
	fastErr, gxErr   error
	fastBytes, gxOut []byte
}

func verifyBothWays(t testing.TB, el *etree.Element, cert *x509.Certificate, now time.Time) verdicts {
	t.Helper()
	prep := func() (*etree.Element, *etree.Element) {
		cp := detach(el)
		sig := childElem(cp, nsDSig, "Signature")
		for _, ki := range childElems(sig, nsDSig, "KeyInfo") {
			sig.RemoveChild(ki)
		}
		return cp, sig
	}
	var v verdicts
	cp, sig := prep()
	if s, ok := parseCommonSignature(sig); ok {
		v.common = true
		v.fast, v.fastErr = s.verify(cp, sig, []*x509.Certificate{cert}, now)
		if v.fastErr == nil {
			v.fastBytes = serializeCanonical(t, v.fast)
		}
	}
	cp, _ = prep()
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	vc.IdAttribute = "ID"
	vc.Clock = dsig.NewFakeClockAt(now)
	v.gx, v.gxErr = vc.Validate(cp)
	if v.gxErr == nil {
		v.gxOut = serializeCanonical(t, v.gx)
	}
	return v
}

func serializeCanonical(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	d := etree.NewDocument()
	d.SetRoot(el.Copy())
	d.WriteSettings = etree.WriteSettings{CanonicalAttrVal: true, CanonicalEndTags: true, CanonicalText: true}
	b, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testAssertion returns the detached Assertion of a response of idp.
func testAssertion(t testing.TB, idp *testIdP) *etree.Element {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(idp.response(respOpts{requestID: fuzzRequestID, acs: fuzzACS})); err != nil {
		t.Fatal(err)
	}
	a := childElem(d.Root(), nsAssertion, "Assertion")
	if a == nil {
		t.Fatal("no Assertion")
	}
	return detach(a)
}

func sigShapes() []sigShape {
	std := func(name string) sigShape {
		return sigShape{name: name, c14n: excC14N, method: dsig.RSASHA256SignatureMethod, hash: crypto.SHA256,
			transforms: []string{enveloped, excC14N}, digest: sha256Digest, digestHash: crypto.SHA256, common: true}
	}
	list := func(s string) *string { return &s }
	shapes := []sigShape{std("entra-adfs")}
	add := func(name string, f func(*sigShape)) {
		s := std(name)
		f(&s)
		shapes = append(shapes, s)
	}
	add("shibboleth-prefix-list", func(s *sigShape) { s.prefixList = list("xs xsi") })
	add("empty-prefix-list", func(s *sigShape) { s.prefixList = list("") })
	add("rsa-sha512", func(s *sigShape) {
		s.method, s.hash, s.digest, s.digestHash = dsig.RSASHA512SignatureMethod, crypto.SHA512, sha512Digest, crypto.SHA512
	})
	add("sha384-digest", func(s *sigShape) { s.digest, s.digestHash = sha384Digest, crypto.SHA384 })
	// Shapes goxmldsig verifies and the common path leaves to it.
	for _, u := range []struct {
		name string
		f    func(*sigShape)
	}{
		{"inclusive-c14n", func(s *sigShape) { s.c14n = inclusiveC14N; s.transforms = []string{enveloped, inclusiveC14N} }},
		{"transforms-reversed", func(s *sigShape) { s.transforms = []string{excC14N, enveloped} }},
		{"rsa-sha1", func(s *sigShape) {
			s.method, s.hash, s.digest, s.digestHash = dsig.RSASHA1SignatureMethod, crypto.SHA1, sha1Digest, crypto.SHA1
		}},
		{"reference-id", func(s *sigShape) {
			s.mutate = func(sig *etree.Element) { sig.FindElement("./SignedInfo/Reference").CreateAttr("Id", "ref-1") }
		}},
		{"prefixed-attribute", func(s *sigShape) {
			s.mutate = func(sig *etree.Element) {
				m := sig.FindElement("./SignedInfo/SignatureMethod")
				m.CreateAttr("xmlns:x", "urn:x")
				// goxmldsig reads either; the common path wants one.
				m.CreateAttr("x:Algorithm", dsig.RSASHA256SignatureMethod)
			}
		}},
		{"c14n-inclusive-namespaces", func(s *sigShape) {
			s.mutate = func(sig *etree.Element) {
				in := sig.FindElement("./SignedInfo/CanonicalizationMethod").CreateElement("ec:InclusiveNamespaces")
				in.CreateAttr("xmlns:ec", nsExcC14N)
				in.CreateAttr("PrefixList", "xs")
			}
		}},
		{"object", func(s *sigShape) {
			s.mutate = func(sig *etree.Element) { sig.CreateElement("ds:Object").SetText("extra") }
		}},
	} {
		add(u.name, func(s *sigShape) { u.f(s); s.common = false })
	}
	return shapes
}

// TestCommonSignatureMatchesGoxmldsig signs an assertion in each shape and
// checks that the common path takes exactly the common ones, that it and
// goxmldsig agree on them (valid, tampered, wrong key, expired) and return
// the same element, and that goxmldsig still verifies the others.
func TestCommonSignatureMatchesGoxmldsig(t *testing.T) {
	idp := newTestIdP(t)
	a := testAssertion(t, idp)
	ecKey, ecCert := ecdsaTestKey(t)
	other := newTestKey(t, 3, "other", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	now := time.Now()
	shapes := sigShapes()
	ec := shapes[0]
	ec.name, ec.method = "ecdsa-sha256", dsig.ECDSASHA256SignatureMethod
	type signer struct {
		key  crypto.Signer
		cert *x509.Certificate
	}
	cases := []struct {
		shape sigShape
		by    signer
	}{{ec, signer{ecKey, ecCert}}}
	for _, sh := range shapes {
		cases = append(cases, struct {
			shape sigShape
			by    signer
		}{sh, signer{idp.key.key, idp.key.cert}})
	}
	for _, tc := range cases {
		t.Run(tc.shape.name, func(t *testing.T) {
			signed := signShaped(t, a, tc.by.key, tc.shape)
			v := verifyBothWays(t, signed, tc.by.cert, now)
			if v.common != tc.shape.common {
				t.Fatalf("common path takes it: %v, want %v", v.common, tc.shape.common)
			}
			if v.gxErr != nil {
				t.Fatalf("goxmldsig refuses a valid signature: %v", v.gxErr)
			}
			if !v.common {
				return
			}
			if v.fastErr != nil {
				t.Fatalf("common path refuses a valid signature: %v", v.fastErr)
			}
			if !bytes.Equal(v.fastBytes, v.gxOut) {
				t.Fatalf("the two paths return different elements:\n%s\n%s", v.fastBytes, v.gxOut)
			}

			tampered := signed.Copy()
			tampered.FindElement("./Subject/NameID").SetText("admin")
			wrongKey := other.cert
			if tc.by.cert == ecCert {
				wrongKey = idp.key.cert
			}
			for name, check := range map[string]struct {
				el   *etree.Element
				cert *x509.Certificate
				now  time.Time
			}{
				"tampered":  {tampered, tc.by.cert, now},
				"wrong key": {signed, wrongKey, now},
				"expired":   {signed, tc.by.cert, now.Add(400 * 24 * time.Hour)},
			} {
				v := verifyBothWays(t, check.el, check.cert, check.now)
				if !v.common || v.fastErr == nil || v.gxErr == nil {
					t.Errorf("%s: common %v, common path error %v, goxmldsig error %v; want both to refuse",
						name, v.common, v.fastErr, v.gxErr)
				}
			}
		})
	}
}

// TestUncommonSignatureVerifies checks, end to end, that a response whose
// assertion signature is not of the common shape is still verified (by
// goxmldsig) and that a tampered one is still refused.
func TestUncommonSignatureVerifies(t *testing.T) {
	idp := newTestIdP(t)
	c, _, _ := offlineConnector(t, idp, alwaysFresh{})
	m, err := c.metadata()
	if err != nil {
		t.Fatal(err)
	}
	var inclusive sigShape
	for _, sh := range sigShapes() {
		if sh.name == "inclusive-c14n" {
			inclusive = sh
		}
	}
	for _, tamper := range []bool{false, true} {
		d := etree.NewDocument()
		if err := d.ReadFromBytes(idp.response(respOpts{requestID: fuzzRequestID, acs: fuzzACS})); err != nil {
			t.Fatal(err)
		}
		root := d.Root()
		a := childElem(root, nsAssertion, "Assertion")
		signed := signShaped(t, detach(a), idp.key.key, inclusive)
		if tamper {
			signed.FindElement("./Subject/NameID").SetText("admin")
		}
		root.InsertChildAt(a.Index(), signed)
		root.RemoveChild(a)
		doc, err := d.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		id, err := c.verify(context.Background(), base64.StdEncoding.EncodeToString(doc), fuzzRequestID, m)
		switch {
		case tamper && err == nil:
			t.Error("tampered assertion accepted")
		case !tamper && err != nil:
			t.Errorf("inclusive-c14n signature refused: %v", err)
		case !tamper && id.NameID != idp.nameID:
			t.Errorf("NameID %q, want %q", id.NameID, idp.nameID)
		}
	}
}

// FuzzCommonSignatureDifferential holds the common path to goxmldsig: on
// any signed element whose one Signature is of the common shape, both
// accept or both refuse, and if they accept they return the same element.
func FuzzCommonSignatureDifferential(f *testing.F) {
	idp := newTestIdP(f)
	a := testAssertion(f, idp)
	for _, sh := range sigShapes() {
		if !sh.common {
			continue
		}
		d := etree.NewDocument()
		d.SetRoot(signShaped(f, a, idp.key.key, sh))
		b, err := d.WriteToBytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := parseMessageTree(data)
		if err != nil {
			return
		}
		root := tree.Root()
		// As in production (precheckResponse, verifySignature): one
		// Signature in the whole element, a child of it, referencing it.
		if len(root.FindElements("//Signature")) != 1 || len(childElems(root, nsDSig, "Signature")) != 1 ||
			checkReference(root, childElem(root, nsDSig, "Signature")) != nil {
			return
		}
		v := verifyBothWays(t, root, idp.key.cert, now)
		if !v.common {
			return
		}
		if (v.fastErr == nil) != (v.gxErr == nil) {
			t.Fatalf("verdicts differ: common path %v, goxmldsig %v", v.fastErr, v.gxErr)
		}
		if v.fastErr == nil && !bytes.Equal(v.fastBytes, v.gxOut) {
			t.Fatalf("the two paths return different elements:\n%s\n%s", v.fastBytes, v.gxOut)
		}
	})
}

// TestCommonShapeOfRealIdPs checks that the signatures of the IdPs schools
// use take the common path, in the forms they write them (namespace
// prefixes, spacing, the PrefixList): Entra ID's as in its federation
// metadata, ADFS's and Shibboleth's as in their responses. The values are
// placeholders of the right lengths: only the shape is checked here.
func TestCommonShapeOfRealIdPs(t *testing.T) {
	digest := base64.StdEncoding.EncodeToString(make([]byte, 32))
	value := base64.StdEncoding.EncodeToString(make([]byte, 256))
	for name, sig := range map[string]string{
		"entra": `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" /><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" /><Reference URI="#_a"><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature" /><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" /></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256" /><DigestValue>` + digest + `</DigestValue></Reference></SignedInfo><SignatureValue>` + value + `</SignatureValue><KeyInfo><X509Data><X509Certificate>MIIC</X509Certificate></X509Data></KeyInfo></Signature>`,
		"adfs":  `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" /><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" /><ds:Reference URI="#_a"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature" /><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" /></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256" /><ds:DigestValue>` + digest + `</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>` + value + `</ds:SignatureValue><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>MIIC</ds:X509Certificate></ds:X509Data></KeyInfo></ds:Signature>`,
		"shibboleth": `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
<ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<ds:Reference URI="#_a">
<ds:Transforms>
<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="xsd"/></ds:Transform>
</ds:Transforms>
<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
<ds:DigestValue>` + digest + `</ds:DigestValue>
</ds:Reference>
</ds:SignedInfo>
<ds:SignatureValue>
` + value[:76] + "\n" + value[76:] + `
</ds:SignatureValue>
<ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIC</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
</ds:Signature>`,
	} {
		t.Run(name, func(t *testing.T) {
			tree, err := parseMessageTree([]byte(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a">` + sig + `</saml:Assertion>`))
			if err != nil {
				t.Fatal(err)
			}
			cp := detach(tree.Root())
			s := childElem(cp, nsDSig, "Signature")
			for _, ki := range childElems(s, nsDSig, "KeyInfo") {
				s.RemoveChild(ki)
			}
			if _, ok := parseCommonSignature(s); !ok {
				t.Error("not taken for the common path")
			}
		})
	}
}

// VerifyEnveloped, the load tool's check of the broker's Responses, applies
// the connector's rules: one Signature, no SHA-1, the reference profile, a
// valid signature by one of the certificates; it leaves its input alone.
func TestVerifyEnveloped(t *testing.T) {
	idp := newTestIdP(t)
	a := testAssertion(t, idp)
	other := newTestKey(t, 3, "other", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	now := time.Now()
	shapes := sigShapes()
	shape := func(name string) sigShape {
		for _, s := range shapes {
			if s.name == name {
				return s
			}
		}
		t.Fatalf("no shape %q", name)
		return sigShape{}
	}
	signed := signShaped(t, a, idp.key.key, shape("entra-adfs"))
	tampered := signed.Copy()
	tampered.FindElement("./Subject/NameID").SetText("admin")
	twice := signed.Copy()
	twice.AddChild(childElem(signed, nsDSig, "Signature").Copy())
	wrongRef := signed.Copy()
	wrongRef.CreateAttr("ID", "_another")
	unsigned := signed.Copy()
	unsigned.RemoveChild(childElem(unsigned, nsDSig, "Signature"))
	mine := []*x509.Certificate{idp.key.cert}
	cases := []struct {
		name    string
		el      *etree.Element
		certs   []*x509.Certificate
		wantErr bool
	}{
		{"common shape", signed, mine, false},
		{"uncommon shape, by goxmldsig", signShaped(t, a, idp.key.key, shape("inclusive-c14n")), mine, false},
		{"second certificate", signed, []*x509.Certificate{other.cert, idp.key.cert}, false},
		{"tampered", tampered, mine, true},
		{"wrong certificate", signed, []*x509.Certificate{other.cert}, true},
		{"no certificate", signed, nil, true},
		{"unsigned", unsigned, mine, true},
		{"two signatures", twice, mine, true},
		{"SHA-1", signShaped(t, a, idp.key.key, shape("rsa-sha1")), mine, true},
		{"reference to another ID", wrongRef, mine, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := serializeCanonical(t, tc.el)
			got, err := VerifyEnveloped(tc.el, tc.certs, now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if !bytes.Equal(serializeCanonical(t, tc.el), before) {
				t.Error("VerifyEnveloped changed its input")
			}
			if err != nil {
				return
			}
			if childElem(got, nsDSig, "Signature") != nil || attr(got, "ID") != attr(tc.el, "ID") {
				t.Errorf("returned element is not the signed one without its Signature:\n%s", serializeCanonical(t, got))
			}
		})
	}
}
