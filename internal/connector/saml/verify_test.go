package saml

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/mpassid/mpassid/internal/connector"
)

// signElementWith is signElement with another signature method (which
// goxmldsig also uses for the digest).
func signElementWith(t testing.TB, el *etree.Element, k *testKey, pos int, method string) *etree.Element {
	t.Helper()
	ctx, err := dsig.NewSigningContext(k.key, [][]byte{k.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(method); err != nil {
		t.Fatal(err)
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		t.Fatal(err)
	}
	// goxmldsig appends the Signature as the last child token without
	// setting its parent; move it to pos by rebuilding the child list.
	sig := signed.Child[len(signed.Child)-1].(*etree.Element)
	signed.Child = signed.Child[:len(signed.Child)-1]
	out := signed.Copy()
	out.InsertChildAt(pos, sig.Copy())
	return out
}

// encryptedElement returns an element tag (e.g. saml:EncryptedID) holding
// plain encrypted for cert with RSA-OAEP and AES-256-GCM.
func encryptedElement(t testing.TB, tag, plain string, idp *testIdP) *etree.Element {
	t.Helper()
	e := xmlenc.OAEP()
	e.BlockCipher = xmlenc.AES256GCM
	ed, err := e.Encrypt(idp.spEncCert, []byte(plain), nil)
	if err != nil {
		t.Fatal(err)
	}
	ed.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	el := etree.NewElement(tag)
	el.AddChild(ed)
	return el
}

// signedResponse signs the Response r (after its Issuer) and serialises it.
func signedResponse(t testing.TB, r *etree.Element, k *testKey) []byte {
	t.Helper()
	d := etree.NewDocument()
	d.SetRoot(signElement(t, r, k, 1))
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// parseDoc parses a response built by the test IdP.
func parseDoc(t testing.TB, doc []byte) *etree.Element {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	return d.Root()
}

// TestVerifyResponseShapes covers what the verifier reads and refuses
// beyond the attack vectors of TestResponseVerificationFailures: the
// signature arrangements of real IdPs, encrypted identifiers and
// attributes, and the profile's required elements.
func TestVerifyResponseShapes(t *testing.T) {
	now := time.Now()
	rid, acs := fuzzRequestID, fuzzACS
	removeChild := func(tag string) func(a *etree.Element) {
		return func(a *etree.Element) {
			for _, ch := range a.ChildElements() {
				if ch.Tag == tag {
					a.RemoveChild(ch)
				}
			}
		}
	}
	cases := []struct {
		name  string
		setup func(idp *testIdP) // before the connector is made
		mod   func(cfg *Config)  // the connector's Config
		doc   func(idp *testIdP) []byte
		want  error // nil: accepted
		check func(*connector.Identity) error
	}{
		{name: "Response and Assertion signed", doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, signResponse: true})
		}},
		{name: "signed Response over a tampered signed Assertion", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			doc := idp.response(respOpts{requestID: rid, acs: acs, mutateResponse: func(r, a *etree.Element) {
				a.FindElement("./Subject/NameID").SetText("admin")
			}})
			// The Response signature is good; the Assertion's is not.
			return signedResponse(t, parseDoc(t, doc), idp.key)
		}},
		{name: "Assertion namespace declared on the Response only", doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateResponse: func(r, a *etree.Element) {
				// As SimpleSAMLphp writes it: the signature covers the
				// assertion with the declaration it inherits.
				a.RemoveAttr("xmlns:saml")
			}})
		}},
		{name: "no KeyInfo, signed with the second certificate of the metadata",
			setup: func(idp *testIdP) {
				idp.extraCerts = []*testKey{newTestKey(t, 4, "idp-new", now.Add(-time.Hour), now.Add(time.Hour))}
			},
			doc: func(idp *testIdP) []byte {
				return idp.response(respOpts{requestID: rid, acs: acs, signer: idp.extraCerts[0], mutateResponse: func(r, a *etree.Element) {
					sig := a.FindElement("./Signature")
					sig.RemoveChild(sig.FindElement("./KeyInfo"))
				}})
			}},
		{name: "KeyInfo certificate not in the metadata, signed by the IdP", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			other := newTestKey(t, 3, "other", now.Add(-time.Hour), now.Add(time.Hour))
			return idp.response(respOpts{requestID: rid, acs: acs, mutateResponse: func(r, a *etree.Element) {
				a.FindElement("./Signature/KeyInfo/X509Data/X509Certificate").SetText(other.b64())
			}})
		}},
		{name: "two KeyInfos", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateResponse: func(r, a *etree.Element) {
				sig := a.FindElement("./Signature")
				sig.AddChild(sig.FindElement("./KeyInfo").Copy())
			}})
		}},
		{name: "two Signatures", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateResponse: func(r, a *etree.Element) {
				a.InsertChildAt(2, a.FindElement("./Signature").Copy())
			}})
		}},
		{name: "rsa-sha1 refused", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, unsignedAssertion: true, mutateResponse: func(r, a *etree.Element) {
				signed := signElementWith(t, a, idp.key, 1, dsig.RSASHA1SignatureMethod)
				r.InsertChildAt(a.Index(), signed)
				r.RemoveChild(a)
			}})
		}},
		{name: "rsa-sha1 allowed", mod: func(c *Config) { c.AllowSHA1 = true }, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, unsignedAssertion: true, mutateResponse: func(r, a *etree.Element) {
				signed := signElementWith(t, a, idp.key, 1, dsig.RSASHA1SignatureMethod)
				r.InsertChildAt(a.Index(), signed)
				r.RemoveChild(a)
			}})
		}},
		{name: "Reference URI empty", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			// goxmldsig alone takes "" for the whole element.
			return idp.response(respOpts{requestID: rid, acs: acs, mutateResponse: func(r, a *etree.Element) {
				a.FindElement("./Signature/SignedInfo/Reference").CreateAttr("URI", "")
			}})
		}},
		{name: "expired IdP certificate",
			setup: func(idp *testIdP) {
				idp.key = newTestKey(t, 0, "idp-old", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
			},
			want: connector.ErrInvalidResponse,
			doc:  func(idp *testIdP) []byte { return idp.response(respOpts{requestID: rid, acs: acs}) }},
		{name: "expired IdP certificate, IgnoreCertificateExpiry",
			setup: func(idp *testIdP) {
				idp.key = newTestKey(t, 0, "idp-old", now.Add(-48*time.Hour), now.Add(-24*time.Hour))
			},
			mod: func(c *Config) { c.IgnoreCertificateExpiry = true },
			doc: func(idp *testIdP) []byte { return idp.response(respOpts{requestID: rid, acs: acs}) }},
		{name: "EncryptedID and EncryptedAttribute", doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				subj := a.FindElement("./Subject")
				subj.RemoveChild(subj.FindElement("./NameID"))
				subj.InsertChildAt(0, encryptedElement(t, "saml:EncryptedID",
					`<saml:NameID xmlns:saml="`+nsAssertion+`" Format="`+NameIDFormatPersistent+`">secret-id</saml:NameID>`, idp))
				a.FindElement("./AttributeStatement").AddChild(encryptedElement(t, "saml:EncryptedAttribute",
					`<saml:Attribute xmlns:saml="`+nsAssertion+`" Name="urn:oid:0.9.2342.19200300.100.1.1"><saml:AttributeValue>maija</saml:AttributeValue></saml:Attribute>`, idp))
			}})
		}, check: func(id *connector.Identity) error {
			if id.NameID != "secret-id" || strings.Join(id.Attributes["urn:oid:0.9.2342.19200300.100.1.1"], ",") != "maija" {
				return errors.New("encrypted NameID or attribute not read")
			}
			return nil
		}},
		{name: "EncryptedID holding a BaseID", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				subj := a.FindElement("./Subject")
				subj.RemoveChild(subj.FindElement("./NameID"))
				subj.InsertChildAt(0, encryptedElement(t, "saml:EncryptedID", `<saml:BaseID xmlns:saml="`+nsAssertion+`"/>`, idp))
			}})
		}},
		{name: "null and NameID attribute values", doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				at := a.FindElement("./AttributeStatement").CreateElement("saml:Attribute")
				at.CreateAttr("Name", "urn:oid:1.3.6.1.4.1.5923.1.1.1.10")
				at.CreateElement("saml:AttributeValue").CreateElement("saml:NameID").SetText("targeted-1")
				v := at.CreateElement("saml:AttributeValue")
				v.CreateAttr("xmlns:xsi", nsXSI)
				v.CreateAttr("xsi:nil", "true")
			}})
		}, check: func(id *connector.Identity) error {
			if got := id.Attributes["urn:oid:1.3.6.1.4.1.5923.1.1.1.10"]; strings.Join(got, ",") != "targeted-1" {
				return errors.New("NameID value or null value wrong: " + strings.Join(got, ","))
			}
			return nil
		}},
		{name: "no AuthnStatement", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: removeChild("AuthnStatement")})
		}},
		{name: "no Conditions", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: removeChild("Conditions")})
		}},
		{name: "no AudienceRestriction", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				removeChild("AudienceRestriction")(a.FindElement("./Conditions"))
			}})
		}},
		{name: "a second AudienceRestriction for another SP", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				a.FindElement("./Conditions").CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText("https://other.example/sp")
			}})
		}},
		{name: "no Subject", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: removeChild("Subject")})
		}},
		{name: "two NameIDs", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				subj := a.FindElement("./Subject")
				subj.InsertChildAt(0, subj.FindElement("./NameID").Copy())
			}})
		}},
		{name: "no bearer confirmation", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				a.FindElement("./Subject/SubjectConfirmation").CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")
			}})
		}},
		{name: "a good bearer confirmation after a bad one", doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				sc := a.FindElement("./Subject/SubjectConfirmation")
				bad := sc.Copy()
				bad.FindElement("./SubjectConfirmationData").CreateAttr("Recipient", "https://other.example/acs")
				sc.Parent().InsertChildAt(sc.Index(), bad)
			}})
		}},
		{name: "assertion InResponseTo of another request", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				a.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData").CreateAttr("InResponseTo", "id-other")
			}})
		}},
		{name: "no SubjectConfirmationData NotOnOrAfter", want: connector.ErrExpired, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				a.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData").RemoveAttr("NotOnOrAfter")
			}})
		}},
		{name: "assertion IssueInstant in the future", want: connector.ErrExpired, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				a.CreateAttr("IssueInstant", now.Add(time.Hour).UTC().Format(time.RFC3339))
			}})
		}},
		{name: "bad time", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) {
				a.FindElement("./Conditions").CreateAttr("NotBefore", "yesterday")
			}})
		}},
		{name: "Response Version 1.1", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateResponse: func(r, a *etree.Element) { r.CreateAttr("Version", "1.1") }})
		}},
		{name: "Assertion Version 1.1", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, mutateAssertion: func(a *etree.Element) { a.CreateAttr("Version", "1.1") }})
		}},
		{name: "signed Response without Destination", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, signResponse: true, destination: strp("")})
		}},
		{name: "unsigned Response without Destination", doc: func(idp *testIdP) []byte {
			return idp.response(respOpts{requestID: rid, acs: acs, destination: strp("")})
		}},
		{name: "no Assertion in a success", want: connector.ErrInvalidResponse, doc: func(idp *testIdP) []byte {
			doc := idp.response(respOpts{requestID: rid, acs: acs, mutateResponse: func(r, a *etree.Element) {
				r.RemoveChild(a)
			}})
			return signedResponse(t, parseDoc(t, doc), idp.key)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idp := newTestIdP(t)
			if tc.setup != nil {
				tc.setup(idp)
			}
			var mods []func(*Config)
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			c, _, _ := offlineConnector(t, idp, &memReplay{}, mods...)
			m, err := c.metadata()
			if err != nil {
				t.Fatal(err)
			}
			doc := tc.doc(idp)
			id, err := c.verify(context.Background(), base64.StdEncoding.EncodeToString(doc), rid, m)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != nil && err == nil:
				t.Fatalf("accepted, want %v", tc.want)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("error %v, want %v", err, tc.want)
			case tc.want != nil:
				t.Logf("refused: %v", err)
				return
			}
			if tc.check != nil {
				if err := tc.check(id); err != nil {
					t.Errorf("%v; identity %+v", err, id)
				}
			} else if id.NameID != idp.nameID {
				t.Errorf("NameID = %q", id.NameID)
			}
		})
	}
}

// TestVerifyWrappedBase64: some IdPs wrap the SAMLResponse base64 in
// lines.
func TestVerifyWrappedBase64(t *testing.T) {
	idp := newTestIdP(t)
	c, _, _ := offlineConnector(t, idp, &memReplay{})
	m, err := c.metadata()
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.StdEncoding.EncodeToString(idp.response(respOpts{requestID: fuzzRequestID, acs: fuzzACS}))
	var wrapped strings.Builder
	for len(enc) > 76 {
		wrapped.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	wrapped.WriteString(enc + "\n")
	if _, err := c.verify(context.Background(), wrapped.String(), fuzzRequestID, m); err != nil {
		t.Fatal(err)
	}
}
