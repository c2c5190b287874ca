package saml

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/keys"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// normalize replaces what changes from run to run (IDs, times, signature
// and digest values, certificates, the transient NameID, the SessionIndex)
// with placeholders and indents the document.
func normalize(tb testing.TB, x []byte) string {
	tb.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(x); err != nil {
		tb.Fatal(err)
	}
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for i, a := range el.Attr {
			switch a.Key {
			case "ID", "InResponseTo", "IssueInstant", "NotBefore", "NotOnOrAfter", "AuthnInstant", "validUntil", "URI", "Id":
				el.Attr[i].Value = "{" + a.Key + "}"
			case "SessionIndex":
				el.Attr[i].Value = "{SessionIndex}"
			}
		}
		switch el.Tag {
		case "SignatureValue", "DigestValue", "X509Certificate", "CipherValue":
			el.SetText("{" + el.Tag + "}")
		case "NameID":
			el.SetText("{transient}")
		}
		for _, c := range el.ChildElements() {
			walk(c)
		}
	}
	walk(d.Root())
	d.Indent(2)
	s, err := d.WriteToString()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", name, got)
	}
}

// fixedIdP is an IdP with stable URLs for golden files.
func fixedIdP(t *testing.T, env *testEnv, signMetadata bool) *IdP {
	t.Helper()
	idp, err := New(Config{EntityID: "https://mpassid.example.fi/idp", BaseURL: "https://mpassid.example.fi", SignMetadata: signMetadata},
		Deps{Flow: env.flow, Keys: func() *keys.KeySet { return env.ks }, Runtime: env.st, Sealer: env.sealer})
	if err != nil {
		t.Fatal(err)
	}
	return idp
}

// nationalResponseShape is the element structure of the national
// service's data model 1.4 response (reference fixture
// mpassid-response-datamodel-1.4.xml), by local names. Ours has the same
// elements except SubjectLocality (no client address is sent), plus the
// Signature.
var nationalResponseShape = []string{
	"Response",
	"Response/Issuer",
	"Response/Status",
	"Response/Status/StatusCode",
	"Response/Assertion",
	"Response/Assertion/Issuer",
	"Response/Assertion/Subject",
	"Response/Assertion/Subject/NameID",
	"Response/Assertion/Subject/SubjectConfirmation",
	"Response/Assertion/Subject/SubjectConfirmation/SubjectConfirmationData",
	"Response/Assertion/Conditions",
	"Response/Assertion/Conditions/AudienceRestriction",
	"Response/Assertion/Conditions/AudienceRestriction/Audience",
	"Response/Assertion/AuthnStatement",
	"Response/Assertion/AuthnStatement/AuthnContext",
	"Response/Assertion/AuthnStatement/AuthnContext/AuthnContextClassRef",
	"Response/Assertion/AttributeStatement",
	"Response/Assertion/AttributeStatement/Attribute",
	"Response/Assertion/AttributeStatement/Attribute/AttributeValue",
}

func shape(el *etree.Element, prefix string, out map[string]bool) {
	p := el.Tag
	if prefix != "" {
		p = prefix + "/" + el.Tag
	}
	out[p] = true
	for _, c := range el.ChildElements() {
		shape(c, p, out)
	}
}

func TestGoldenResponse(t *testing.T) {
	env := newEnv(t)
	sp := newHandSP(t, env)
	idp := fixedIdP(t, env, false)
	k, _ := env.ks.SAMLSigningKey()
	svc, _ := env.flow.Catalog().Service(sp.id)
	now := time.Date(2024, 1, 17, 9, 48, 33, 423e6, time.UTC)
	out, err := idp.buildResponse(k, svc, ssoState{EntityID: sp.entityID, RequestID: "_e2c51409", ACS: handACS}, testUser(),
		broker.Session{ID: "s1", AuthnInstant: now.Add(-3 * time.Minute), Source: "ShibLdap"}, now)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "response-datamodel-1.4.xml", normalize(t, out.xml))

	d := etree.NewDocument()
	_ = d.ReadFromBytes(out.xml)
	got := map[string]bool{}
	shape(d.Root(), "", got)
	for _, p := range nationalResponseShape {
		if !got[p] {
			t.Errorf("the national response has %s, ours does not", p)
		}
	}
	for p := range got {
		if !slices.Contains(nationalResponseShape, p) && !strings.Contains(p, "Signature") {
			t.Errorf("ours has %s, the national response does not", p)
		}
	}
}

func TestGoldenMetadata(t *testing.T) {
	env := newEnv(t)
	for _, signed := range []bool{false, true} {
		idp := fixedIdP(t, env, signed)
		x, err := idp.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		name := "idp-metadata.xml"
		if signed {
			name = "idp-metadata-signed.xml"
			d := etree.NewDocument()
			_ = d.ReadFromBytes(x)
			verifyOwn(t, d.Root(), env.ks)
		}
		golden(t, name, normalize(t, x))
	}
}

// TestMetadataRollover: during a rotation every published certificate is
// in the metadata, and the current one signs.
func TestMetadataRollover(t *testing.T) {
	env := newEnv(t)
	if err := env.mgr.Rotate(t.Context(), keys.RS256); err != nil {
		t.Fatal(err)
	}
	ks, err := env.mgr.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	env.ks = ks
	certs := ks.PublishedCertificates(keys.RS256)
	if len(certs) < 2 {
		t.Fatalf("%d published certificates after a rotation", len(certs))
	}
	p := newBrowser(t).get(env.srv.URL + PathShibboleth)
	if p.status != 200 {
		t.Fatal(p.status)
	}
	if n := strings.Count(p.body, `use="signing"`); n != len(certs) {
		t.Errorf("%d signing keys in metadata, %d published", n, len(certs))
	}
	sp := newHandSP(t, env)
	d := etree.NewDocument()
	_ = d.ReadFromBytes(env.login(t, sp))
	verifyOwn(t, d.Root().FindElement("./Assertion"), ks)
}
