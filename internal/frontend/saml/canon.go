package saml

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/mpassid/mpassid/internal/keys"
)

// The Response and its Assertion are written straight into their
// Exclusive XML Canonicalization 1.0 form (without comments, with no
// InclusiveNamespaces prefix list): the bytes sent are the bytes digested,
// so signing needs no tree, no canonicaliser and no second serialisation.
// That holds only while the writers below keep to what the canonical form
// is (W3C xml-c14n §2.3 and xml-exc-c14n §3), which the differential tests
// check against goxmldsig's canonicaliser:
//   - no XML declaration, no comments, no whitespace between elements, and
//     an explicit end tag for every element (never "<x/>");
//   - a namespace declaration only on the element where its prefix is first
//     visibly used in the output (here: each element that starts a prefix's
//     scope declares it, and nothing declares a prefix it does not use);
//   - namespace declarations before attributes, and the attributes sorted
//     by namespace URI, then local name; all attributes written here are
//     unqualified, so every caller writes them in byte order of the name;
//   - attribute values in double quotes, with & < " TAB LF CR as &amp; &lt;
//     &quot; &#x9; &#xA; &#xD; and nothing else escaped;
//   - text with & < > CR as &amp; &lt; &gt; &#xD; and nothing else escaped.
// Characters XML 1.0 cannot carry at all (controls other than TAB, LF and
// CR, U+FFFE, U+FFFF) and bytes that are not UTF-8 become U+FFFD, as etree,
// and so goxmldsig and the former builder, make them: a verifier must be
// able to parse the document back into exactly what was digested.

// xmlBuf is a scratch buffer that canonical XML is appended to. The IdP
// pools them (IdP.bufs): a Response is a few kilobytes, written once per
// login.
type xmlBuf struct{ b []byte }

// maxPooledBuf keeps a login with unusually large attributes from pinning
// a large buffer in the pool.
const maxPooledBuf = 64 << 10

func (idp *IdP) getBuf() *xmlBuf {
	if x, ok := idp.bufs.Get().(*xmlBuf); ok {
		x.b = x.b[:0]
		return x
	}
	return &xmlBuf{b: make([]byte, 0, 16<<10)}
}

func (idp *IdP) putBuf(x *xmlBuf) {
	if cap(x.b) <= maxPooledBuf {
		idp.bufs.Put(x)
	}
}

// start writes a start tag up to its attributes: "<name".
func (x *xmlBuf) start(name string) {
	x.b = append(x.b, '<')
	x.b = append(x.b, name...)
}

// attr writes ` name="value"`, the value escaped.
func (x *xmlBuf) attr(name, value string) {
	x.b = append(x.b, ' ')
	x.b = append(x.b, name...)
	x.b = append(x.b, '=', '"')
	x.b = appendEscaped(x.b, value, true)
	x.b = append(x.b, '"')
}

// timeAttr writes a SAML time attribute (see samlTime), which never needs
// escaping.
func (x *xmlBuf) timeAttr(name string, t time.Time) {
	x.b = append(x.b, ' ')
	x.b = append(x.b, name...)
	x.b = append(x.b, '=', '"')
	x.b = t.UTC().AppendFormat(x.b, samlTimeLayout)
	x.b = append(x.b, '"')
}

// open ends a start tag.
func (x *xmlBuf) open() { x.b = append(x.b, '>') }

// end writes an end tag.
func (x *xmlBuf) end(name string) {
	x.b = append(x.b, '<', '/')
	x.b = append(x.b, name...)
	x.b = append(x.b, '>')
}

// text writes character data, escaped.
func (x *xmlBuf) text(s string) { x.b = appendEscaped(x.b, s, false) }

// leaf writes an element without attributes whose content is text.
func (x *xmlBuf) leaf(name, text string) {
	x.start(name)
	x.open()
	x.text(text)
	x.end(name)
}

// plainByte tells, per byte, whether canonical XML copies it unchanged in
// text (plainInText) and in attribute values (plainInAttr): one table
// lookup per byte, where most bytes of a Response need nothing. Bytes of
// multi-byte UTF-8 sequences are not plain: they are checked as runes. It
// is filled once and only read.
var plainByte = func() (t [256]uint8) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = plainInText | plainInAttr
	}
	t['\t'] = plainInText
	t['\n'] = plainInText
	t['&'], t['<'] = 0, 0
	t['>'] = plainInAttr
	t['"'] = plainInText
	return t
}()

const (
	plainInText = 1 << iota
	plainInAttr
)

// appendEscaped appends s as canonical XML writes it in an attribute value
// (attr) or in text; see the rules above.
func appendEscaped(dst []byte, s string, attr bool) []byte {
	plain := uint8(plainInText)
	if attr {
		plain = plainInAttr
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainByte[c]&plain != 0 {
			i++
			continue
		}
		var esc string
		width := 1
		if c < utf8.RuneSelf {
			switch c {
			case '&':
				esc = "&amp;"
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '"':
				esc = "&quot;"
			case '\t':
				esc = "&#x9;"
			case '\n':
				esc = "&#xA;"
			case '\r':
				esc = "&#xD;"
			default: // the other C0 controls
				esc = "\uFFFD"
			}
		} else {
			r, w := utf8.DecodeRuneInString(s[i:])
			// DecodeRune reports bytes that are not UTF-8, surrogates
			// included, as RuneError of width 1; of the rest, only
			// U+FFFE and U+FFFF are not XML characters.
			if (r != utf8.RuneError || w > 1) && r != 0xFFFE && r != 0xFFFF {
				i += w
				continue
			}
			width = w
			esc = "\uFFFD"
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		i += width
		last = i
	}
	return append(dst, s[last:]...)
}

// The fixed parts of a ds:Signature as written here: exclusive c14n for
// SignedInfo and for the reference, RSA-SHA256, SHA-256 digest, the
// certificate in KeyInfo: what goxmldsig's signingContext produced.
const (
	digestSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"

	sigOpen = `<ds:Signature xmlns:ds="` + nsDSig + `">`
	// signedInfoOpen is SignedInfo's start tag in its own canonical form:
	// canonicalised alone, it is the apex and so declares ds itself.
	signedInfoOpen = `<ds:SignedInfo xmlns:ds="` + nsDSig + `">`
	// signedInfoHead is SignedInfo's start tag inside Signature, which
	// declares ds already.
	signedInfoHead = `<ds:SignedInfo>`
	signedInfoBody = `<ds:CanonicalizationMethod Algorithm="` + string(dsig.CanonicalXML10ExclusiveAlgorithmId) + `"></ds:CanonicalizationMethod>` +
		`<ds:SignatureMethod Algorithm="` + dsig.RSASHA256SignatureMethod + `"></ds:SignatureMethod>` +
		`<ds:Reference URI="#`
	referenceRest = `"><ds:Transforms>` +
		`<ds:Transform Algorithm="` + string(dsig.EnvelopedSignatureAltorithmId) + `"></ds:Transform>` +
		`<ds:Transform Algorithm="` + string(dsig.CanonicalXML10ExclusiveAlgorithmId) + `"></ds:Transform>` +
		`</ds:Transforms>` +
		`<ds:DigestMethod Algorithm="` + digestSHA256 + `"></ds:DigestMethod>` +
		`<ds:DigestValue>`
	referenceClose  = `</ds:DigestValue></ds:Reference>`
	signedInfoClose = `</ds:SignedInfo>`
	signatureValue  = `<ds:SignatureValue>`
	keyInfoOpen     = `</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>`
	signatureClose  = `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`
)

// checkSigningKey refuses a key the signature written here cannot name:
// SignatureMethod is RSA-SHA256.
func checkSigningKey(k *keys.SigningKey) error {
	if k == nil || k.Signer == nil || k.Certificate == nil {
		return errors.New("no SAML signing key")
	}
	if _, ok := k.Signer.Public().(*rsa.PublicKey); !ok {
		return errors.New("the SAML signing key is not RSA")
	}
	return nil
}

// appendSignature appends the enveloped ds:Signature of the element whose
// ID is id and whose canonical form without this signature hashes (SHA-256)
// to digest. The Signature is itself written canonically, so that it stays
// canonical inside an element that is signed in turn (the Assertion in a
// signed Response).
func (x *xmlBuf) appendSignature(k *keys.SigningKey, id string, digest []byte) error {
	x.b = append(x.b, sigOpen...)
	x.b = append(x.b, signedInfoHead...)
	body := len(x.b)
	x.b = append(x.b, signedInfoBody...)
	x.b = appendEscaped(x.b, id, true)
	x.b = append(x.b, referenceRest...)
	x.b = base64.StdEncoding.AppendEncode(x.b, digest)
	x.b = append(x.b, referenceClose...)
	// What is signed is SignedInfo canonicalised on its own: the same
	// bytes, but with the ds declaration on SignedInfo.
	h := sha256.New()
	h.Write([]byte(signedInfoOpen))
	h.Write(x.b[body:])
	h.Write([]byte(signedInfoClose))
	var sum [sha256.Size]byte
	sig, err := k.Sign(h.Sum(sum[:0]))
	if err != nil {
		return fmt.Errorf("sign %s: %w", id, err)
	}
	x.b = append(x.b, signedInfoClose...)
	x.b = append(x.b, signatureValue...)
	x.b = base64.StdEncoding.AppendEncode(x.b, sig)
	x.b = append(x.b, keyInfoOpen...)
	x.b = base64.StdEncoding.AppendEncode(x.b, k.Certificate.Raw)
	x.b = append(x.b, signatureClose...)
	return nil
}
