package saml

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mpassid/mpassid/internal/identity"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/xmlsafe"
)

// The fuzz targets feed the two bindings' decoders and the message parsers
// with arbitrary input: nothing may panic, and whatever parses must keep
// the limits.

func fuzzSeeds(f *testing.F, logout bool) {
	msg := authnRequestXML(requestOpts{issuer: handEntityID, destination: "https://idp/sso", classRefs: []string{"urn:mpass.id:authnsource:x"}})
	if logout {
		msg = `<samlp:LogoutRequest xmlns:samlp="` + nsProtocol + `" xmlns:saml="` + nsAssertion + `" ID="_1" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"><saml:Issuer>x</saml:Issuer><saml:NameID>n</saml:NameID><samlp:SessionIndex>s</samlp:SessionIndex></samlp:LogoutRequest>`
	}
	f.Add([]byte(msg))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + msg))
	f.Add([]byte(strings.Replace(msg, "ID=", "xmlns:ID=\"x\" ID=", 1)))
	f.Add([]byte{})
}

func parseMessage(b []byte, logout bool) {
	root, err := parseXML(b, false)
	if err != nil {
		return
	}
	if logout {
		_, _ = parseLogoutRequest(root)
		return
	}
	if req, err := parseAuthnRequest(root); err == nil {
		_ = requestedSources(req.ClassRefs)
	}
}

func fuzzRedirect(f *testing.F, logout bool) {
	fuzzSeeds(f, logout)
	var inf inflater // shared, as the IdP's is: each input resets a used decompressor
	f.Fuzz(func(t *testing.T, b []byte) {
		q := redirectQuery(t, "SAMLRequest", b, "rs", nil)
		in, err := decodeRedirect(q, "SAMLRequest", &inf)
		if err != nil {
			t.Fatalf("own encoding refused: %v", err)
		}
		if len(in.xml) > MaxInflated {
			t.Fatal("inflate limit exceeded")
		}
		parseMessage(in.xml, logout)
		// The raw bytes as the query string itself.
		if in, err := decodeRedirect("SAMLRequest="+url.QueryEscape(string(b))+"&"+string(b), "SAMLRequest", &inf); err == nil {
			if len(in.xml) > MaxInflated {
				t.Fatal("inflate limit exceeded")
			}
			parseMessage(in.xml, logout)
		}
	})
}

func fuzzPOST(f *testing.F, logout bool) {
	fuzzSeeds(f, logout)
	f.Fuzz(func(t *testing.T, b []byte) {
		parseMessage(b, logout)
		if x, err := xmlsafe.DecodeBase64(string(b)); err == nil {
			parseMessage(x, logout)
		}
	})
}

func FuzzAuthnRequestRedirect(f *testing.F)  { fuzzRedirect(f, false) }
func FuzzAuthnRequestPOST(f *testing.F)      { fuzzPOST(f, false) }
func FuzzLogoutRequestRedirect(f *testing.F) { fuzzRedirect(f, true) }
func FuzzLogoutRequestPOST(f *testing.F)     { fuzzPOST(f, true) }

// FuzzResponseValues writes Responses whose attribute values and
// InResponseTo are arbitrary strings: whatever they hold, the Response and
// the Assertion must be written in canonical form, verify with goxmldsig,
// and read back as the values made XML-safe.
func FuzzResponseValues(f *testing.F) {
	for _, u := range []*model.User{escapingUser(), invalidCharsUser(), crUser()} {
		f.Add(u.GivenName, u.Surname, u.Nickname, "_r1")
	}
	f.Add("", "", "", "")
	f.Add("]]>", "&#xD;", "\r\n\t", "\"'<>&\r\n\t")
	de := newDiffEnv(f)
	var s diffService
	for _, c := range diffServices() {
		if c.name == "response signed" {
			s = c
		}
	}
	f.Fuzz(func(t *testing.T, given, surname, nickname, requestID string) {
		u := testUser()
		u.GivenName, u.Surname, u.Nickname = given, surname, nickname
		s := s
		s.requestID = requestID
		out := de.build(t, s, u, false)
		resp, a, _ := de.parsed(t, s, out.xml, false)
		checkCanonical(t, out.xml, resp, true)
		checkCanonical(t, rawAssertion(t, out.xml), a, true)
		de.verified(t, s, out.xml)
		if got, want := releasedOf(a), wantReleased(u); !slices.EqualFunc(got, want, func(a, b identity.Attribute) bool {
			return a.Name == b.Name && slices.Equal(a.Values, b.Values)
		}) {
			t.Errorf("released attributes\n got %q\nwant %q", got, want)
		}
		if got := attrValue(a.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData"), "InResponseTo"); got != xmlSafe(requestID) {
			t.Errorf("InResponseTo %q, want %q", got, xmlSafe(requestID))
		}
	})
}
