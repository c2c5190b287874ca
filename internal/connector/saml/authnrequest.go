package saml

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/klauspost/compress/flate"
	dsig "github.com/russellhaering/goxmldsig"
)

// samlTimeFormat is how times are written in messages: UTC, to the
// millisecond at most (saml-core §1.3.3), as crewjam/saml writes them.
const samlTimeFormat = "2006-01-02T15:04:05.999Z07:00"

// authnRequest is an AuthnRequest to send.
type authnRequest struct {
	id           string
	issueInstant time.Time
	destination  string
	forceAuthn   bool
	isPassive    bool
}

// newRequestID returns a fresh request ID: "id-" and 20 random bytes in
// hex (an xs:ID must not start with a digit).
func newRequestID() (string, error) {
	var b [20]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		return "", fmt.Errorf("saml: request ID: %w", err)
	}
	return "id-" + hex.EncodeToString(b[:]), nil
}

// appendXML writes ar as XML: the AuthnRequest crewjam/saml's
// ServiceProvider made (so every IdP that took those takes these), with
// the HTTP-POST binding for the response, the Issuer in entity format, and
// a NameIDPolicy with AllowCreate and the source's NameID format, if any.
func (c *Connector) appendXML(b *bytes.Buffer, ar *authnRequest) {
	b.WriteString(`<samlp:AuthnRequest xmlns:saml="` + nsAssertion + `" xmlns:samlp="` + nsProtocol + `" ID="`)
	escapeAttr(b, ar.id)
	b.WriteString(`" Version="2.0" IssueInstant="`)
	b.WriteString(ar.issueInstant.UTC().Format(samlTimeFormat))
	b.WriteString(`" Destination="`)
	escapeAttr(b, ar.destination)
	b.WriteByte('"')
	if ar.forceAuthn {
		b.WriteString(` ForceAuthn="true"`)
	}
	if ar.isPassive {
		b.WriteString(` IsPassive="true"`)
	}
	b.WriteString(` AssertionConsumerServiceURL="`)
	escapeAttr(b, c.acsURL)
	b.WriteString(`" ProtocolBinding="` + BindingPOST + `">`)
	b.WriteString(`<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">`)
	escapeAttr(b, c.cfg.EntityID)
	b.WriteString(`</saml:Issuer><samlp:NameIDPolicy`)
	if c.nameIDFormat != "" && c.nameIDFormat != NameIDFormatUnspecified {
		// An omitted Format is "unspecified" (saml-core §3.4.1.1).
		b.WriteString(` Format="`)
		escapeAttr(b, c.nameIDFormat)
		b.WriteByte('"')
	}
	b.WriteString(` AllowCreate="true"/></samlp:AuthnRequest>`)
}

// escapeAttr writes s escaped for an attribute value or text: encoding/xml's
// escaping, which also escapes quotes, tabs and line ends.
func escapeAttr(b *bytes.Buffer, s string) {
	if !needsEscape(s) {
		b.WriteString(s)
		return
	}
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer does not fail
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '&', c == '<', c == '>', c == '"', c == '\'', c < 0x20, c >= 0x80:
			return true
		}
	}
	return false
}

// redirectURL returns the HTTP-Redirect binding URL of ar
// (saml-bindings §3.4.4): the AuthnRequest DEFLATEd (RFC 1951), base64 and
// URL encoded as SAMLRequest, then RelayState, and, if signed, SigAlg and
// the Signature over exactly those bytes "SAMLRequest=...&RelayState=...
// &SigAlg=..." (§3.4.4.1), appended to the query the SSO URL may have.
func (c *Connector) redirectURL(ar *authnRequest, relayState string, sign bool) (string, error) {
	u, err := url.Parse(ar.destination)
	if err != nil {
		return "", fmt.Errorf("saml: SSO URL: %w", err)
	}
	var x bytes.Buffer
	x.Grow(1024)
	c.appendXML(&x, ar)

	// klauspost's stateless DEFLATE: it keeps no tables between calls, so
	// there is no writer to pool, and for a message this short it costs a
	// quarter of compress/flate's BestSpeed (10 against 38 µs) and is a
	// little shorter (BenchmarkDeflateAuthnRequest). Only our own XML goes
	// through it; what others send us is inflated by compress/flate.
	var deflated bytes.Buffer
	deflated.Grow(x.Len())
	if err := flate.StatelessDeflate(&deflated, x.Bytes(), true, nil); err != nil {
		return "", fmt.Errorf("saml: deflate AuthnRequest: %w", err)
	}

	var q strings.Builder
	q.Grow(base64.StdEncoding.EncodedLen(deflated.Len())*3/2 + len(relayState) + 512)
	q.WriteString("SAMLRequest=")
	q.WriteString(url.QueryEscape(base64.StdEncoding.EncodeToString(deflated.Bytes())))
	if relayState != "" {
		q.WriteString("&RelayState=")
		q.WriteString(url.QueryEscape(relayState))
	}
	if sign {
		q.WriteString("&SigAlg=")
		q.WriteString(url.QueryEscape(c.sigMethod))
		h := sha256.Sum256([]byte(q.String()))
		sig, err := c.signer.Sign(rand.Reader, h[:], crypto.SHA256)
		if err != nil {
			return "", fmt.Errorf("saml: sign AuthnRequest: %w", err)
		}
		q.WriteString("&Signature=")
		q.WriteString(url.QueryEscape(base64.StdEncoding.EncodeToString(sig)))
	}
	if u.RawQuery != "" {
		u.RawQuery += "&" + q.String()
	} else {
		u.RawQuery = q.String()
	}
	return u.String(), nil
}

// postForm returns the HTTP-POST binding form value of ar: the
// AuthnRequest, with an enveloped signature after the Issuer if signed, in
// base64.
func (c *Connector) postForm(ar *authnRequest, sign bool) (string, error) {
	var x bytes.Buffer
	c.appendXML(&x, ar)
	if !sign {
		return base64.StdEncoding.EncodeToString(x.Bytes()), nil
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(x.Bytes()); err != nil {
		return "", fmt.Errorf("saml: AuthnRequest: %w", err)
	}
	ctx, err := dsig.NewSigningContext(c.signer, [][]byte{c.cfg.SigningCert.Raw})
	if err != nil {
		return "", fmt.Errorf("saml: sign AuthnRequest: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(c.sigMethod); err != nil {
		return "", fmt.Errorf("saml: sign AuthnRequest: %w", err)
	}
	root := doc.Root()
	signed, err := ctx.SignEnveloped(root)
	if err != nil {
		return "", fmt.Errorf("saml: sign AuthnRequest: %w", err)
	}
	// SignEnveloped appends the Signature; the schema wants it after the
	// Issuer. Where it goes does not change what it signs.
	sig, ok := signed.Child[len(signed.Child)-1].(*etree.Element)
	if !ok {
		return "", fmt.Errorf("saml: sign AuthnRequest: no Signature")
	}
	root.InsertChildAt(1, sig)
	b, err := doc.WriteToBytes()
	if err != nil {
		return "", fmt.Errorf("saml: serialise AuthnRequest: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
