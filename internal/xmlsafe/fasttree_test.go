package xmlsafe

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// fastTreeOptions are the option sets the callers use (the SAML
// connector's limits for responses, the defaults for the IdP's requests),
// and small limits, so that the fuzzer reaches them.
var fastTreeOptions = []Options{
	{MaxDepth: maxXMLDepth, MaxElements: maxXMLElements},
	{},
	{AllowComments: true},
	{MaxDepth: 3, MaxElements: 5},
}

// samlResponse is an Entra-style signed Response with an Assertion of
// about 5 KB: namespaces declared at several levels, a default namespace,
// typed attribute values, references and non-ASCII text.
func samlResponse() string {
	b64 := strings.Repeat("MIIC8DCCAdigAwIBAgIQd3l0ZXN0K2Jhc2U2NC9jZXJ0aWZpY2F0ZQ==", 20)
	var cert strings.Builder
	for i := 0; i < len(b64); i += 64 {
		cert.WriteString("\n" + b64[i:min(i+64, len(b64))])
	}
	attr := func(name, value string) string {
		return `<Attribute Name="` + name + `"><AttributeValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="xs:string">` + value + `</AttributeValue></Attribute>`
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response ID="_8e8dc5f69a98cc4c1ff3427e5ce34606fd672f91e6" Version="2.0" IssueInstant="2024-01-17T09:48:33.423Z" Destination="https://mpass.example.fi/saml/acs" InResponseTo="_e2c51409-b57a-4a35-b68a-dfe19754ba43" xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">
  <Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">https://sts.windows.net/0d3e2b9c-1a2b-4c5d-8e9f-0a1b2c3d4e5f/</Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <Assertion ID="_d71a3a8e9fcc45c9e9d248ef7049393fc8f04e5f75" IssueInstant="2024-01-17T09:48:33.423Z" Version="2.0" xmlns="urn:oasis:names:tc:SAML:2.0:assertion">
    <Issuer>https://sts.windows.net/0d3e2b9c-1a2b-4c5d-8e9f-0a1b2c3d4e5f/</Issuer>
    <Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI="#_d71a3a8e9fcc45c9e9d248ef7049393fc8f04e5f75"><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue>n8Yb0Zr3Jx2f5X8m1H4p0Qk7u9Wc6Vt3Ss2Rr1Qq0Pc=</DigestValue></Reference></SignedInfo><SignatureValue>` + b64[:344] + `</SignatureValue><KeyInfo><X509Data><X509Certificate>` + cert.String() + `
</X509Certificate></X509Data></KeyInfo></Signature>
    <Subject>
      <NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">Zm9vYmFyYmF6cXV4</NameID>
      <SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><SubjectConfirmationData InResponseTo="_e2c51409-b57a-4a35-b68a-dfe19754ba43" NotOnOrAfter="2024-01-17T09:53:33.423Z" Recipient="https://mpass.example.fi/saml/acs"/></SubjectConfirmation>
    </Subject>
    <Conditions NotBefore="2024-01-17T09:43:33.423Z" NotOnOrAfter="2024-01-17T10:48:33.423Z">
      <AudienceRestriction><Audience>https://mpass.example.fi/</Audience></AudienceRestriction>
    </Conditions>
    <AttributeStatement>
      ` + attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "Matti") + `
      ` + attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "Meikäläinen") + `
      ` + attr("http://schemas.microsoft.com/identity/claims/displayname", "Matti &amp; Maija Meik&#228;l&#xE4;inen") + `
      ` + attr("http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", "&lt;oppilas&gt; &quot;7A&quot; &apos;x&apos;") + `
      ` + attr("urn:oid:1.3.6.1.4.1.16161.1.1.27", "1.2.246.562.10.00000000001;42;7A;Perusopetus") + `
    </AttributeStatement>
    <AuthnStatement AuthnInstant="2024-01-17T09:48:30.100Z" SessionIndex="_d71a3a8e9fcc45c9e9d248ef7049393fc8f04e5f75">
      <AuthnContext><AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</AuthnContextClassRef></AuthnContext>
    </AuthnStatement>
  </Assertion>
</samlp:Response>
`
}

// authnRequest is a service's AuthnRequest, prefixed, without declaration.
const authnRequest = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id-4f1c" Version="2.0" IssueInstant="2024-01-17T09:48:30Z" AssertionConsumerServiceURL="https://sp.example.fi/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>https://sp.example.fi</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" AllowCreate="true"/></samlp:AuthnRequest>`

func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ` a%d="%d"`, i, i)
	}
	return b.String()
}

func nested(n int) string { return strings.Repeat("<a>", n) + strings.Repeat("</a>", n) }

// fastTreeCases say for each document whether the fast path takes it
// (under the callers' option sets; only under the defaults if
// defaultsOnly).
var fastTreeCases = []struct {
	name         string
	doc          string
	fast         bool
	defaultsOnly bool
}{
	{"saml response", samlResponse(), true, false},
	{"authn request", authnRequest, true, false},
	{"plain", `<r xmlns="urn:x"><a b="c">t</a></r>`, true, false},
	{"declaration single quotes", "<?xml version='1.0'?>\n<r/>\n", true, false},
	{"declaration standalone", `<?xml version="1.0" encoding="utf-8" standalone="no" ?>` + "\n\t <r/>", true, false},
	{"whitespace around root", " \n<r/>\n ", true, false},
	{"prefix redeclared", `<p:a xmlns:p="urn:1"><p:b xmlns:p="urn:2"><p:c/></p:b></p:a>`, true, false},
	{"empty default namespace", `<a xmlns="urn:a"><b xmlns=""/></a>`, true, false},
	{"xmlns-like attributes", `<a xmlns:foo="u" foo:xmlns="v" xml:lang="fi"/>`, true, false},
	{"dots and dashes", `<a.b-c d.e-f="1" _g="2"><x_y.z/></a.b-c>`, true, false},
	{"spaces in tags", "<a  b = \"1\"\n c='2' ></a\n>", true, false},
	{"references", `<r a="&#60;&#x3e;]]>">&amp;&#128512;]]&gt;&#xe9;</r>`, true, false},
	{"whitespace references in value", `<r a="&#13;&#10;&#9;" b="&#32;"/>`, true, false},
	{"whitespace references", `<r>&#13;&#9;&#10;<a> &#32;</a></r>`, true, false},
	{"non-ASCII", "<r a=\"Meikäläinen\">ＡＢＣ 😀</r>", true, false},
	{"mixed content", "<r>a<b/>c<d>e</d>\n</r>", true, false},
	{"depth at limit", nested(32), true, false},

	{"bom", "\ufeff<r/>", false, false},
	{"doctype", `<!DOCTYPE r><r/>`, false, false},
	{"comment", `<r><!-- c --></r>`, false, false},
	{"comment outside", `<!-- c --><r/>`, false, false},
	{"cdata", `<r><![CDATA[x]]></r>`, false, false},
	{"processing instruction", `<r><?pi x?></r>`, false, false},
	{"pi outside", `<?pi x?><r/>`, false, false},
	{"declaration not first", ` <?xml version="1.0"?><r/>`, false, false},
	{"declaration version 1.1", `<?xml version="1.1"?><r/>`, false, false},
	{"declaration latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><r/>`, false, false},
	{"declaration spaced", `<?xml version = "1.0"?><r/>`, false, false},
	{"carriage return", "<r>\r\n</r>", false, false},
	{"carriage return in tag", "<r\r/>", false, false},
	{"non-ASCII name", `<rä/>`, false, false},
	{"non-ASCII attribute name", `<r ä="1"/>`, false, false},
	{"two colons", `<a:b:c/>`, false, false},
	{"empty prefix", `<:a/>`, false, false},
	{"digit local name", `<a:1/>`, false, false},
	{"control character", "<r>\x01</r>", false, false},
	{"delete character", "<r>\x7f</r>", false, false},
	{"C1 control", "<r>\u0085</r>", false, false},
	{"invalid UTF-8", "<r>\xff</r>", false, false},
	{"U+FFFE", "<r>\ufffe</r>", false, false},
	{"tab in value", "<r a=\"\t\"/>", false, false},
	{"newline in value", "<r a=\"\n\"/>", false, false},
	{"less-than in value", `<r a="<"/>`, false, false},
	{"unquoted value", `<r a=1/>`, false, false},
	{"no value", `<r a/>`, false, false},
	{"attributes run together", `<r a="1"b="2"/>`, false, false},
	{"many attributes", "<r" + manyAttrs(maxFastAttrs) + "/>", true, false},
	{"too many attributes", "<r" + manyAttrs(maxFastAttrs+1) + "/>", false, false},
	{"duplicate attribute", `<r a="1" a="2"/>`, false, false},
	{"duplicate prefixed attribute", `<r p:a="1" p:a="2"/>`, false, false},
	{"undeclared entity", `<r>&nbsp;</r>`, false, false},
	{"entity without semicolon", `<r>&amp</r>`, false, false},
	{"upper case hex reference", `<r>&#X41;</r>`, false, false},
	{"surrogate reference", `<r>&#xD800;</r>`, false, false},
	{"NUL reference", `<r>&#0;</r>`, false, false},
	{"long reference", `<r>&#00000065;</r>`, false, false},
	{"]]> in text", `<r>]]></r>`, false, false},
	{"mismatched", `<r><a></b></r>`, false, false},
	{"mismatched prefix", `<p:r xmlns:p="urn:p" xmlns:q="urn:p"></q:r>`, false, false},
	{"unclosed", `<r><a></r>`, false, false},
	{"two roots", `<r/><r/>`, false, false},
	{"text outside", `<r/>x`, false, false},
	{"no root", ``, false, false},
	{"too deep", nested(33), false, true},
	{"too many", "<r>" + strings.Repeat("<a/>", 10000) + "</r>", false, true},
}

func TestFastTreeTaken(t *testing.T) {
	for _, c := range fastTreeCases {
		t.Run(c.name, func(t *testing.T) {
			options := fastTreeOptions[:3]
			if c.defaultsOnly {
				options = options[1:]
			}
			for _, o := range options {
				d, n := o.limits()
				if _, ok := fastTree([]byte(c.doc), d, n); ok != c.fast {
					t.Errorf("options %+v: fast path taken: %v, want %v", o, ok, c.fast)
				}
				checkParseTreeUnchanged(t, []byte(c.doc), o)
			}
		})
	}
}

// TestFastTreeLimits checks the fast path's limits at their boundaries
// against the slow path's.
func TestFastTreeLimits(t *testing.T) {
	for _, c := range []struct {
		doc      string
		depth, n int
		fast     bool
	}{
		{nested(3), 3, 3, true},
		{nested(4), 3, 4, false},
		{nested(3), 3, 2, false},
		{"<r><a/><a/></r>", 2, 3, true},
		{"<r><a/><a/></r>", 1, 3, false},
		{"<r><a/><a/></r>", 2, 2, false},
	} {
		_, ok := fastTree([]byte(c.doc), c.depth, c.n)
		if ok != c.fast {
			t.Errorf("%s (depth %d, %d elements): fast path taken: %v, want %v", c.doc, c.depth, c.n, ok, c.fast)
		}
		o := Options{MaxDepth: c.depth, MaxElements: c.n}
		if _, err := parseTree([]byte(c.doc), o); (err == nil) != c.fast {
			t.Errorf("%s (depth %d, %d elements): slow path: %v", c.doc, c.depth, c.n, err)
		}
		checkFastTree(t, []byte(c.doc), o)
	}
}

// FuzzFastTree holds the fast path to the slow one: whatever it accepts,
// the slow path accepts, as the very same tree.
func FuzzFastTree(f *testing.F) {
	for _, c := range fastTreeCases {
		f.Add([]byte(c.doc))
	}
	files, _ := filepath.Glob("../frontend/saml/testdata/*.xml")
	for _, name := range files {
		if doc, err := os.ReadFile(name); err == nil {
			f.Add(doc)
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		for _, o := range fastTreeOptions {
			checkFastTree(t, doc, o)
		}
	})
}

// checkFastTree fails t if fastTree accepts doc under o's limits and the
// slow path refuses it or builds another tree.
func checkFastTree(t *testing.T, doc []byte, o Options) {
	t.Helper()
	depth, n := o.limits()
	fast, ok := fastTree(doc, depth, n)
	if !ok {
		return
	}
	slow, err := parseTree(doc, o)
	if err != nil {
		t.Fatalf("options %+v: fast path accepts what the slow path refuses (%v): %q", o, err, doc)
	}
	if err := sameTree(fast, slow); err != nil {
		t.Fatalf("options %+v: %v: %q", o, err, doc)
	}
}

// checkParseTreeUnchanged fails t if ParseTree's result differs from that
// of the slow path followed by the round-trip check, as ParseTree was
// before the fast path.
func checkParseTreeUnchanged(t *testing.T, doc []byte, o Options) {
	t.Helper()
	got, gotErr := ParseTree(doc, o)
	want, wantErr := parseTree(doc, o)
	if wantErr == nil {
		if err := checkRoundTrip(want); err != nil {
			want, wantErr = nil, fmt.Errorf("%w: round-trip validation: %v", ErrUnsafe, err)
		}
	}
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || errors.Is(gotErr, ErrUnsafe) != errors.Is(wantErr, ErrUnsafe) {
		t.Fatalf("options %+v: ParseTree: %v, slow path: %v", o, gotErr, wantErr)
	}
	if gotErr == nil {
		if err := sameTree(got, want); err != nil {
			t.Fatalf("options %+v: %v", o, err)
		}
	}
}

// sameTree compares two documents field by field, etree's unexported
// ones included (parents, indexes, the whitespace flag of text), and
// their serialisations. ReadSettings hold a function, which
// reflect.DeepEqual calls equal only when both are nil: the two must
// both have one and agree in everything else.
func sameTree(fast, slow *etree.Document) error {
	if !reflect.DeepEqual(fast.Element, slow.Element) {
		return fmt.Errorf("trees differ:\nfast:\n%s\nslow:\n%s", dumpTree(&fast.Element), dumpTree(&slow.Element))
	}
	fr, sr := fast.ReadSettings, slow.ReadSettings
	if (fr.CharsetReader == nil) != (sr.CharsetReader == nil) {
		return errors.New("CharsetReader set in one tree only")
	}
	fr.CharsetReader, sr.CharsetReader = nil, nil
	if !reflect.DeepEqual(fr, sr) || !reflect.DeepEqual(fast.WriteSettings, slow.WriteSettings) {
		return fmt.Errorf("settings differ: %+v %+v, %+v %+v", fr, sr, fast.WriteSettings, slow.WriteSettings)
	}
	fb, err := fast.WriteToBytes()
	if err != nil {
		return err
	}
	sb, err := slow.WriteToBytes()
	if err != nil {
		return err
	}
	if !bytes.Equal(fb, sb) {
		return fmt.Errorf("serialisations differ:\n%s\n%s", fb, sb)
	}
	return nil
}

// dumpTree shows what sameTree compares, for finding a difference.
func dumpTree(el *etree.Element) string {
	var b strings.Builder
	var dump func(el *etree.Element, indent string)
	dump = func(el *etree.Element, indent string) {
		for _, t := range el.Child {
			switch t := t.(type) {
			case *etree.Element:
				fmt.Fprintf(&b, "%s<%q %q %d parent=%v", indent, t.Space, t.Tag, t.Index(), t.Parent() == el)
				for _, a := range t.Attr {
					fmt.Fprintf(&b, " [%q %q %q %v]", a.Space, a.Key, a.Value, a.Element() == t)
				}
				b.WriteString("\n")
				dump(t, indent+"  ")
			case *etree.CharData:
				fmt.Fprintf(&b, "%stext %q %d ws=%v cdata=%v parent=%v\n", indent, t.Data, t.Index(), t.IsWhitespace(), t.IsCData(), t.Parent() == el)
			case *etree.ProcInst:
				fmt.Fprintf(&b, "%spi %q %q %d parent=%v\n", indent, t.Target, t.Inst, t.Index(), t.Parent() == el)
			default:
				fmt.Fprintf(&b, "%s%T %d\n", indent, t, t.Index())
			}
		}
	}
	dump(el, "")
	return b.String()
}

func BenchmarkParseTree(b *testing.B) {
	doc := []byte(samlResponse())
	o := Options{MaxDepth: maxXMLDepth, MaxElements: maxXMLElements}
	depth, n := o.limits()
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := fastTree(doc, depth, n); !ok {
				b.Fatal("fast path not taken")
			}
		}
	})
	b.Run("slow", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseTree(doc, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseTree", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseTree(doc, o); err != nil {
				b.Fatal(err)
			}
		}
	})
}
