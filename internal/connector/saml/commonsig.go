package saml

import (
	"crypto"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Signatures of one common shape are verified here, directly on the tree
// the response was parsed into; every other shape goes to goxmldsig.
//
// Why: the identity providers schools use (Entra ID, ADFS, Google,
// Shibboleth, SimpleSAMLphp) sign SAML messages in one shape: exclusive
// canonicalization of SignedInfo, one Reference to the signed element,
// transformed by enveloped-signature and then exclusive canonicalization
// (with or without an InclusiveNamespaces PrefixList), a SHA-2 digest and
// signature. goxmldsig, which reads every shape, first walks the whole tree
// with namespace maps to find the signature, reads the signature again
// with encoding/xml, copies the tree three times and at the end parses the
// canonical bytes once more: 60 % of verifying a response, and so the
// largest cost of a brokered SAML login after the two RSA signatures.
//
// What is kept: the canonicalization is goxmldsig's own exclusive
// canonicalizer, so both produce the same bytes from the same tree, and
// the tree returned is the very tree those bytes were serialized from (the
// canonical form is a faithful serialization, so parsing the bytes again,
// as goxmldsig does, yields the same tree; TestCommonSignatureMatchesGoxmldsig
// and FuzzCommonSignatureDifferential hold the two paths to the same
// verdict and the same result). The shape check is strict, down to the
// attributes: anything it does not know exactly falls to goxmldsig rather
// than being half understood here. SHA-1 is never common (goxmldsig
// handles it where a source allows it).

// nsExcC14N is the namespace of the InclusiveNamespaces element.
const nsExcC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

// commonSignatureMethods are the SignatureMethods of the common shape.
var commonSignatureMethods = map[string]x509.SignatureAlgorithm{
	dsig.RSASHA256SignatureMethod:   x509.SHA256WithRSA,
	dsig.RSASHA384SignatureMethod:   x509.SHA384WithRSA,
	dsig.RSASHA512SignatureMethod:   x509.SHA512WithRSA,
	dsig.ECDSASHA256SignatureMethod: x509.ECDSAWithSHA256,
	dsig.ECDSASHA384SignatureMethod: x509.ECDSAWithSHA384,
	dsig.ECDSASHA512SignatureMethod: x509.ECDSAWithSHA512,
}

// commonDigestMethods are the DigestMethods of the common shape, with the
// identifiers goxmldsig gives them.
var commonDigestMethods = map[string]crypto.Hash{
	"http://www.w3.org/2001/04/xmlenc#sha256":       crypto.SHA256,
	"http://www.w3.org/2001/04/xmldsig-more#sha384": crypto.SHA384,
	"http://www.w3.org/2001/04/xmlenc#sha512":       crypto.SHA512,
}

// commonSignature is what an enveloped signature of the common shape says.
type commonSignature struct {
	signedInfo  *etree.Element
	method      x509.SignatureAlgorithm
	digest      crypto.Hash
	digestValue []byte
	prefixList  string // of the Reference's exclusive canonicalization
	value       []byte // SignatureValue
}

// parseCommonSignature reads sig, a ds:Signature without KeyInfo, if it
// has the common shape: children SignedInfo and SignatureValue; SignedInfo
// with CanonicalizationMethod exc-c14n, a common SignatureMethod and one
// Reference; the Reference with Transforms (enveloped-signature, exc-c14n
// with an optional PrefixList), a common DigestMethod and a DigestValue of
// that digest's length. Every element named must be alone in its place
// and carry no attribute but the one named (namespace declarations
// aside). If ok is false, sig is not of this shape, which says nothing of
// whether it is valid.
func parseCommonSignature(sig *etree.Element) (s *commonSignature, ok bool) {
	chs, ok := exactChildren(sig, nsDSig, "SignedInfo", "SignatureValue")
	if !ok || !onlyAttrs(sig) {
		return nil, false
	}
	si, sv := chs[0], chs[1]
	s = &commonSignature{signedInfo: si}
	if s.value, ok = base64Text(sv); !ok || !onlyAttrs(si) || !onlyAttrs(sv) {
		return nil, false
	}
	sic, ok := exactChildren(si, nsDSig, "CanonicalizationMethod", "SignatureMethod", "Reference")
	if !ok {
		return nil, false
	}
	if algorithmOnly(sic[0]) != string(dsig.CanonicalXML10ExclusiveAlgorithmId) {
		return nil, false
	}
	if s.method, ok = commonSignatureMethods[algorithmOnly(sic[1])]; !ok {
		return nil, false
	}
	ref := sic[2]
	// checkReference has checked the URI against the signed element's ID.
	if !onlyAttrs(ref, "URI") {
		return nil, false
	}
	rc, ok := exactChildren(ref, nsDSig, "Transforms", "DigestMethod", "DigestValue")
	if !ok || !onlyAttrs(rc[0]) || !onlyAttrs(rc[2]) {
		return nil, false
	}
	ts, ok := exactChildren(rc[0], nsDSig, "Transform", "Transform")
	if !ok {
		return nil, false
	}
	if algorithmOnly(ts[0]) != string(dsig.EnvelopedSignatureAltorithmId) {
		return nil, false
	}
	if s.prefixList, ok = excC14NTransform(ts[1]); !ok {
		return nil, false
	}
	if s.digest, ok = commonDigestMethods[algorithmOnly(rc[1])]; !ok {
		return nil, false
	}
	if s.digestValue, ok = base64Text(rc[2]); !ok || len(s.digestValue) != s.digest.Size() {
		return nil, false
	}
	return s, true
}

// verify verifies s, the signature sig of el (a detached copy that the
// caller gives up: sig is removed from it and it is canonicalized in
// place), with the first of certs that made it, and returns el as the
// signature covers it.
func (s *commonSignature) verify(el, sig *etree.Element, certs []*x509.Certificate, now time.Time) (*etree.Element, error) {
	// SignedInfo is canonicalized in its context: detach declares the
	// namespaces it inherits, as goxmldsig's NSDetatch does.
	signedInfo, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(detach(s.signedInfo))
	if err != nil {
		return nil, err
	}
	var firstErr error
	verified := false
	for _, cert := range certs {
		if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			err = errors.New("the signing certificate is not valid at this time")
		} else {
			err = cert.CheckSignature(s.method, signedInfo, s.value)
		}
		if err == nil {
			verified = true
			break
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if !verified {
		if firstErr == nil {
			firstErr = errors.New("no signing certificate")
		}
		return nil, firstErr
	}
	// The enveloped-signature transform, then exclusive canonicalization.
	el.RemoveChild(sig)
	referenced, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(s.prefixList).Canonicalize(el)
	if err != nil {
		return nil, err
	}
	h := s.digest.New()
	h.Write(referenced)
	if subtle.ConstantTimeCompare(h.Sum(nil), s.digestValue) != 1 {
		return nil, errors.New("the digest of the signed element does not match its signature")
	}
	return el, nil
}

// exactChildren returns el's child elements if they are exactly tags, in
// order, all in namespace ns, with nothing between them but white space.
func exactChildren(el *etree.Element, ns string, tags ...string) ([]*etree.Element, bool) {
	out := make([]*etree.Element, 0, len(tags))
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			if len(out) == len(tags) || !isElem(t, ns, tags[len(out)]) {
				return nil, false
			}
			out = append(out, t)
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return out, len(out) == len(tags)
}

// onlyAttrs says whether el's attributes, namespace declarations aside,
// are at most the unprefixed ones named, each once.
func onlyAttrs(el *etree.Element, names ...string) bool {
	seen := 0
	for _, a := range el.Attr {
		if _, decl := nsDeclPrefix(a); decl {
			continue
		}
		if a.Space != "" || !containsString(names, a.Key) {
			return false
		}
		seen++
	}
	return seen <= len(names)
}

// algorithmOnly returns the Algorithm of el if el has that one attribute
// and no content but white space; otherwise "", which no table holds.
func algorithmOnly(el *etree.Element) string {
	if !onlyAttrs(el, "Algorithm") {
		return ""
	}
	if _, ok := exactChildren(el, nsDSig); !ok {
		return ""
	}
	return attr(el, "Algorithm")
}

// excC14NTransform returns the PrefixList of t, an exc-c14n Transform
// with no content but an optional ec:InclusiveNamespaces that has a
// PrefixList and nothing else.
func excC14NTransform(t *etree.Element) (string, bool) {
	if !onlyAttrs(t, "Algorithm") || attr(t, "Algorithm") != string(dsig.CanonicalXML10ExclusiveAlgorithmId) {
		return "", false
	}
	if _, ok := exactChildren(t, nsDSig); ok {
		return "", true
	}
	in, ok := exactChildren(t, nsExcC14N, "InclusiveNamespaces")
	if !ok || !onlyAttrs(in[0], "PrefixList") {
		return "", false
	}
	if _, ok := exactChildren(in[0], nsExcC14N); !ok {
		return "", false
	}
	list, found := "", false
	for _, a := range in[0].Attr {
		if a.Space == "" && a.Key == "PrefixList" {
			list, found = a.Value, true
		}
	}
	return list, found
}

// base64Text decodes the text of el, which must hold nothing but
// character data, as goxmldsig does: standard base64, line breaks but no
// other white space ignored.
func base64Text(el *etree.Element) ([]byte, bool) {
	for _, t := range el.Child {
		if _, ok := t.(*etree.CharData); !ok {
			return nil, false
		}
	}
	b, err := base64.StdEncoding.DecodeString(text(el))
	return b, err == nil && len(b) > 0
}
