package saml

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/identity"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
)

// The differential tests build each Response twice, with the production
// path and with the reference (reference_test.go), for a table of users
// and service shapes, and check that both verify and say the same thing.

// teacherUser is a teacher in n schools of one provider.
func teacherUser(n int) *model.User {
	u := &model.User{
		UID:       "MPASSOID.1f0e3dad99908345f7439f8ffabdffc4f5ce5b1d",
		GivenName: "Testi", Surname: "Opettaja", Nickname: "Ope",
		OriginalIssuer: "1.2.246.562.99.00000000001",
		Source:         "ShibLdap",
	}
	for i := 0; i < n; i++ {
		u.Roles = append(u.Roles, model.UserRole{
			ProviderOID: "1.2.246.562.99.00000000001", ProviderName: "Mansikkalan testi kunta",
			SchoolCode: fmt.Sprintf("3007%d", i), SchoolOID: fmt.Sprintf("1.2.246.562.99.0000000001%d", i),
			SchoolName: fmt.Sprintf("Mansikkalan testi peruskoulu %d", i),
			Group:      fmt.Sprintf("%dA", 7+i%3), RoleName: model.RoleNameTeacher, RoleCode: 2,
		})
	}
	return u
}

// escapingUser carries every character that XML or canonical XML treats
// specially, in text and in the values that become attribute values.
func escapingUser() *model.User {
	u := testUser()
	u.GivenName = `A&B <C> "D" 'E' ]]> &amp;`
	u.Surname = "Äöå-Åström ÿ € 😀 \u00a0\u2028"
	u.Nickname = "tab\there nl\nhere"
	u.Roles[0].SchoolName = `Koulu & "Lukio" <'x'> Äö`
	u.Roles[0].ProviderName = "Kunta\tjossa sarkain"
	u.Roles[0].Group = `7<A>&"B"`
	u.OriginalIssuer = " leading and trailing spaces "
	return u
}

// invalidCharsUser carries what XML 1.0 cannot carry at all: control
// characters, U+FFFE, U+FFFF and bytes that are not UTF-8.
func invalidCharsUser() *model.User {
	u := testUser()
	u.GivenName = "a\x00b\x01c\x08d\x0be\x0cf\x1fg\x7fh"
	u.Surname = "x\uFFFEy\uFFFFz\uFFFDw"
	u.Nickname = "bad\xffutf8\xc3(\xed\xa0\x80surrogate"
	return u
}

// crUser has carriage returns in text values. The reference wrote them
// raw and signed them as &#xD;; XML parsers turn a raw CR into LF, so its
// signatures never verified for such a user.
func crUser() *model.User {
	u := testUser()
	u.Nickname = "crlf\r\nhere cr\rhere"
	u.GivenName = "\r"
	return u
}

type diffUser struct {
	name string
	u    *model.User
	// refBroken: the reference's signatures do not verify and its values
	// read back with CR as LF (see crUser).
	refBroken bool
}

func diffUsers() []diffUser {
	onlyUID := &model.User{UID: "MPASSOID.x", Source: "ShibLdap"}
	whitespace := testUser()
	whitespace.Nickname = " \t "
	whitespace.GivenName = "\n"
	return []diffUser{
		{"pupil", testUser(), false},
		{"teacher five schools", teacherUser(5), false},
		{"escaping", escapingUser(), false},
		{"carriage returns", crUser(), true},
		{"invalid characters", invalidCharsUser(), false},
		{"whitespace only", whitespace, false},
		{"only uid", onlyUID, false},
		{"no attributes", &model.User{}, false},
	}
}

// diffService is a service shape of the differential tests.
type diffService struct {
	name               string
	entityID, acs      string
	requestID          string
	wantResponseSigned bool
	encrypt            bool
	// refBroken: CR in an attribute value, which the reference wrote raw
	// (see crUser).
	refBroken bool
}

func diffServices() []diffService {
	return []diffService{
		{name: "plain", entityID: handEntityID, acs: handACS, requestID: "_r1"},
		{name: "response signed", entityID: "https://signed.example.fi/sp", acs: handACS, requestID: "_r2", wantResponseSigned: true},
		{name: "encrypted", entityID: "https://enc.example.fi/sp", acs: handACS, requestID: "_r3", encrypt: true},
		{name: "encrypted response signed", entityID: "https://encsigned.example.fi/sp", acs: handACS, requestID: "_r4", encrypt: true, wantResponseSigned: true},
		{name: "escaping urls", entityID: `https://sp.example.fi/md?a=1&b="2"&c=<3>'`, acs: "https://sp.example.fi/acs?x=1&y=\"2\"", requestID: `_r&<"'>`},
		{name: "unsolicited", entityID: "https://unsolicited.example.fi/sp", acs: handACS},
		{name: "whitespace in attributes", entityID: "https://ws.example.fi/sp\t\n\r x", acs: "https://ws.example.fi/acs\t\n\r x", requestID: "_r\t\n\r x", wantResponseSigned: true, refBroken: true},
	}
}

// diffEnv is a test environment with every diffService registered.
type diffEnv struct {
	*testEnv
	k   *keys.SigningKey
	enc *spKey
	now time.Time
	svc map[string]*broker.Service
}

func newDiffEnv(tb testing.TB) *diffEnv {
	tb.Helper()
	env := newEnv(tb)
	k, err := env.ks.SAMLSigningKey()
	if err != nil {
		tb.Fatal(err)
	}
	de := &diffEnv{testEnv: env, k: k, enc: newSPKey(tb), now: time.Date(2024, 1, 17, 9, 48, 33, 423e6, time.UTC), svc: map[string]*broker.Service{}}
	for i, s := range diffServices() {
		md := &model.SAMLMetadata{
			EntityID:             s.entityID,
			ACS:                  []model.ACSEndpoint{{Binding: BindingPOST, Location: s.acs, IsDefault: true}},
			WantAssertionsSigned: true,
			WantResponseSigned:   s.wantResponseSigned,
		}
		if s.encrypt {
			md.EncryptionCertificates = []string{de.enc.b64()}
		}
		id := int64(5000300 + i)
		env.flow.addService(id, md)
		svc, ok := env.flow.Catalog().Service(id)
		if !ok {
			tb.Fatalf("service %s not in the catalog", s.name)
		}
		de.svc[s.name] = svc
	}
	return de
}

// build builds the Response for u and s with the production path (ref
// false) or the reference.
func (de *diffEnv) build(tb testing.TB, s diffService, u *model.User, ref bool) *built {
	tb.Helper()
	st := ssoState{EntityID: s.entityID, RequestID: s.requestID, ACS: s.acs}
	sess := broker.Session{ID: "session-1", AuthnInstant: de.now.Add(-3 * time.Minute), Source: "ShibLdap"}
	build := de.idp.buildResponse
	if ref {
		build = de.idp.buildResponseRef
	}
	out, err := build(de.k, de.svc[s.name], st, u, sess, de.now)
	if err != nil {
		tb.Fatalf("build (reference %v): %v", ref, err)
	}
	return out
}

// verified parses a Response, checks that it is signed as the service
// asked and that every signature verifies (goxmldsig), and returns the
// Response and its Assertion, decrypted when it was encrypted, with the
// bytes the assertion was decrypted from (nil when it was not).
func (de *diffEnv) verified(tb testing.TB, s diffService, x []byte) (resp, assertion *etree.Element, plain []byte) {
	tb.Helper()
	return de.parsed(tb, s, x, true)
}

// parsed is verified, with the signatures checked only when verify is set.
func (de *diffEnv) parsed(tb testing.TB, s diffService, x []byte, verify bool) (resp, assertion *etree.Element, plain []byte) {
	tb.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(x); err != nil {
		tb.Fatalf("parse: %v\n%s", err, x)
	}
	resp = d.Root()
	if got := resp.FindElement("./Signature") != nil; got != s.wantResponseSigned {
		tb.Fatalf("Response signed %v, want %v", got, s.wantResponseSigned)
	}
	if s.wantResponseSigned && verify {
		verifyOwn(tb, resp, de.ks)
	}
	if s.encrypt {
		ed := resp.FindElement("./EncryptedAssertion/EncryptedData")
		if ed == nil {
			tb.Fatalf("no EncryptedAssertion/EncryptedData: %s", x)
		}
		var err error
		if plain, err = xmlenc.Decrypt(de.enc.key, ed.Copy()); err != nil {
			tb.Fatalf("decrypt: %v", err)
		}
		ad := etree.NewDocument()
		if err := ad.ReadFromBytes(plain); err != nil {
			tb.Fatalf("parse the decrypted assertion: %v\n%s", err, plain)
		}
		assertion = ad.Root()
	} else {
		assertion = resp.FindElement("./Assertion")
	}
	if assertion == nil || assertion.Tag != "Assertion" || assertion.NamespaceURI() != nsAssertion {
		tb.Fatalf("no assertion: %s", x)
	}
	if sig := assertion.FindElement("./Signature"); sig == nil || sig.Index() != 1 {
		tb.Fatal("the assertion's Signature is not right after its Issuer")
	}
	if verify {
		verifyOwn(tb, assertion, de.ks)
	}
	return resp, assertion, plain
}

// dump describes a parsed element tree line by line, by namespace URI and
// local name, with the attributes sorted and without namespace
// declarations (where they sit is the serialiser's business); what is
// random per build (IDs, digests, signature and cipher values, the sealed
// NameID) is replaced by a placeholder or, for the NameID, by what it
// opens to.
func (de *diffEnv) dump(tb testing.TB, spEntityID string, el *etree.Element, out *[]string, depth int) {
	tb.Helper()
	var attrs []string
	for _, a := range el.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		v := a.Value
		switch a.Key {
		case "ID", "Id":
			v = "{" + a.Key + "}"
		case "URI":
			if el.Tag != "Reference" || el.NamespaceURI() != nsDSig {
				break
			}
			if id := attrValue(el.Parent().Parent().Parent(), "ID"); v != "#"+id {
				tb.Errorf("Reference URI %q does not name the signed element's ID %q", v, id)
			}
			v = "{URI}"
		}
		attrs = append(attrs, fmt.Sprintf("{%s}%s=%q", a.NamespaceURI(), a.Key, v))
	}
	slices.Sort(attrs)
	text := ""
	if len(el.ChildElements()) == 0 {
		text = el.Text()
	}
	switch el.Tag {
	case "DigestValue", "SignatureValue", "CipherValue":
		text = "{" + el.Tag + "}"
	case "NameID":
		ref, err := de.idp.openNameID(spEntityID, text)
		if err != nil {
			tb.Errorf("NameID does not open: %v", err)
		} else {
			text = fmt.Sprintf("{sealed %+v}", *ref)
		}
	}
	*out = append(*out, fmt.Sprintf("%s{%s}%s %s %q", strings.Repeat(" ", depth), el.NamespaceURI(), el.Tag, strings.Join(attrs, " "), text))
	for _, c := range el.ChildElements() {
		de.dump(tb, spEntityID, c, out, depth+1)
	}
}

// describe is dump over the Response and its (decrypted) Assertion.
func (de *diffEnv) describe(tb testing.TB, s diffService, resp, assertion *etree.Element) []string {
	tb.Helper()
	var out []string
	de.dump(tb, s.entityID, resp, &out, 0)
	out = append(out, "-- assertion --")
	de.dump(tb, s.entityID, assertion, &out, 0)
	return out
}

// xmlSafe is what a value becomes in XML: every character that XML 1.0
// cannot carry, and every byte that is not UTF-8, turns into U+FFFD.
func xmlSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		ok := r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		if !ok || (r == utf8.RuneError && w == 1) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// releasedOf reads the attributes of a parsed assertion.
func releasedOf(assertion *etree.Element) []identity.Attribute {
	var out []identity.Attribute
	for _, a := range assertion.FindElements("./AttributeStatement/Attribute") {
		at := identity.Attribute{Name: attrValue(a, "Name"), FriendlyName: attrValue(a, "FriendlyName"), NameFormat: attrValue(a, "NameFormat")}
		for _, v := range a.FindElements("./AttributeValue") {
			at.Values = append(at.Values, v.Text())
		}
		out = append(out, at)
	}
	return out
}

// wantReleased is what the service should read: the released attributes,
// made XML-safe.
func wantReleased(u *model.User) []identity.Attribute {
	var out []identity.Attribute
	for _, a := range identity.SAMLAttributes(u, identity.Release{AllowTestLearnerID: true}) {
		vs := make([]string, len(a.Values))
		for i, v := range a.Values {
			vs[i] = xmlSafe(v)
		}
		a.Values = vs
		out = append(out, a)
	}
	return out
}

func TestResponseDifferential(t *testing.T) {
	de := newDiffEnv(t)
	for _, s := range diffServices() {
		for _, du := range diffUsers() {
			t.Run(s.name+"/"+du.name, func(t *testing.T) {
				got := de.build(t, s, du.u, false)
				ref := de.build(t, s, du.u, true)
				if got.encrypted != s.encrypt || got.encrypted != ref.encrypted || got.attributes != ref.attributes || got.sessionIndex != ref.sessionIndex {
					t.Errorf("built %+v, reference %+v", *got, *ref)
				}
				// (a) what was signed is canonical as written.
				gResp, gA, plain := de.parsed(t, s, got.xml, false)
				checkCanonical(t, got.xml, gResp, s.wantResponseSigned)
				if plain == nil {
					plain = rawAssertion(t, got.xml)
				}
				checkCanonical(t, plain, gA, true)
				// (b) every signature verifies.
				de.verified(t, s, got.xml)
				refBroken := du.refBroken || s.refBroken
				rResp, rA, _ := de.parsed(t, s, ref.xml, !refBroken)
				// (c) both say the same.
				g, r := de.describe(t, s, gResp, gA), de.describe(t, s, rResp, rA)
				if refBroken {
					for i := range g {
						g[i] = strings.ReplaceAll(strings.ReplaceAll(g[i], `\r\n`, `\n`), `\r`, `\n`)
					}
				}
				if !slices.Equal(g, r) {
					t.Errorf("production and reference differ:\n%s", lineDiff(r, g))
				}
				if got, want := releasedOf(gA), wantReleased(du.u); !slices.EqualFunc(got, want, func(a, b identity.Attribute) bool {
					return a.Name == b.Name && a.FriendlyName == b.FriendlyName && a.NameFormat == b.NameFormat && slices.Equal(a.Values, b.Values)
				}) {
					t.Errorf("released attributes\n got %q\nwant %q", got, want)
				}
			})
		}
	}
}

// TestResponseTamperedRejected: the signatures written here are not
// vacuous; a changed value fails goxmldsig's verification of the
// Assertion and of the Response.
func TestResponseTamperedRejected(t *testing.T) {
	de := newDiffEnv(t)
	for _, s := range diffServices() {
		if s.encrypt {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			x := de.build(t, s, testUser(), false).xml
			tampered := bytes.Replace(x, []byte(">Oppilas1<"), []byte(">Oppilas2<"), 1)
			if bytes.Equal(tampered, x) {
				t.Fatal("nothing to tamper")
			}
			root := parseDoc(t, tampered)
			ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: de.ks.PublishedCertificates(keys.RS256)})
			ctx.IdAttribute = "ID"
			if _, err := ctx.Validate(root.FindElement("./Assertion")); err == nil {
				t.Error("a tampered Assertion verifies")
			}
			if s.wantResponseSigned {
				if _, err := ctx.Validate(root); err == nil {
					t.Error("a tampered Response verifies")
				}
			}
		})
	}
}

// diffStatuses are the error statuses of the differential tests.
func diffStatuses() []struct{ top, second, message string } {
	return []struct{ top, second, message string }{
		{StatusResponder, "", "internal error"},
		{StatusResponder, StatusNoPassive, "no session"},
		{StatusRequester, StatusNoAuthnContext, ""},
		{StatusResponder, StatusAuthnFailed, "a & <b> \"c\" 'd' \t\n ä \x00"},
	}
}

// TestErrorResponseDifferential compares the error Responses (a status,
// no assertion) with the reference's: canonical as written, verified,
// the same after parsing.
func TestErrorResponseDifferential(t *testing.T) {
	de := newDiffEnv(t)
	for _, s := range diffServices() {
		for i, es := range diffStatuses() {
			t.Run(fmt.Sprintf("%s/%d", s.name, i), func(t *testing.T) {
				got := de.errorResponse(t, s, es.top, es.second, es.message, false)
				ref := de.errorResponse(t, s, es.top, es.second, es.message, true)
				gResp, rResp := parseDoc(t, got), parseDoc(t, ref)
				checkCanonical(t, got, gResp, true)
				verifyOwn(t, gResp, de.ks)
				if !s.refBroken {
					verifyOwn(t, rResp, de.ks)
				}
				var g, r []string
				de.dump(t, s.entityID, gResp, &g, 0)
				de.dump(t, s.entityID, rResp, &r, 0)
				if s.refBroken {
					for i := range g {
						g[i] = strings.ReplaceAll(strings.ReplaceAll(g[i], `\r\n`, `\n`), `\r`, `\n`)
					}
				}
				if !slices.Equal(g, r) {
					t.Errorf("production and reference differ:\n%s", lineDiff(r, g))
				}
				top, second := statusOfResponse(t, got)
				if top != es.top || second != es.second {
					t.Errorf("status %s %s", top, second)
				}
			})
		}
	}
}

// errorResponse builds an error Response for s with the production path
// (ref false) or the reference.
func (de *diffEnv) errorResponse(tb testing.TB, s diffService, top, second, message string, ref bool) []byte {
	tb.Helper()
	st := ssoState{EntityID: s.entityID, RequestID: s.requestID, ACS: s.acs}
	build := de.idp.errorResponse
	if ref {
		build = de.idp.errorResponseRef
	}
	x, err := build(de.k, st, top, second, message, de.now)
	if err != nil {
		tb.Fatalf("build (reference %v): %v", ref, err)
	}
	return x
}

func parseDoc(tb testing.TB, x []byte) *etree.Element {
	tb.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(x); err != nil {
		tb.Fatalf("parse: %v\n%s", err, x)
	}
	return d.Root()
}

// checkCanonical checks that doc, the bytes of el as written, is el's
// exclusive canonical form, as goxmldsig computes it from the parsed
// element, once the element's own enveloped Signature (signed: its first
// Signature child) is taken out of both.
func checkCanonical(tb testing.TB, doc []byte, el *etree.Element, signed bool) {
	tb.Helper()
	el = el.Copy()
	if signed {
		sig := el.FindElement("./Signature")
		if sig == nil {
			tb.Fatalf("%s is not signed", el.Tag)
		}
		el.RemoveChild(sig)
		i := bytes.Index(doc, []byte("<ds:Signature "))
		j := bytes.Index(doc, []byte("</ds:Signature>"))
		if i < 0 || j < i {
			tb.Fatalf("no ds:Signature in %s", doc)
		}
		doc = append(slices.Clip(doc[:i]), doc[j+len("</ds:Signature>"):]...)
	}
	want, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(el)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(doc, want) {
		tb.Errorf("%s is not written in canonical form:\n got %s\nwant %s", el.Tag, doc, want)
	}
}

// lineDiff lists the lines of want and got that differ, by position.
func lineDiff(want, got []string) string {
	var b strings.Builder
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			fmt.Fprintf(&b, "- %s\n+ %s\n", w, g)
		}
	}
	return b.String()
}
