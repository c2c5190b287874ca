package saml

import (
	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/xmlsafe"
)

// XML namespaces.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsXMLEnc    = "http://www.w3.org/2001/04/xmlenc#"
)

// errUnsafeXML marks XML refused by parseXML.
var errUnsafeXML = xmlsafe.ErrUnsafe

// parseXML parses doc into a tree once, with xmlsafe's checks on the tree
// (see xmlsafe.ParseTree) and the limits of a protocol message.
// allowComments is for metadata, which often carries comments and whose
// signature is not relied on here.
func parseXML(doc []byte, allowComments bool) (*etree.Element, error) {
	d, err := xmlsafe.ParseTree(xmlsafe.StripBOM(doc), xmlsafe.Options{AllowComments: allowComments})
	if err != nil {
		return nil, err
	}
	return d.Root(), nil
}

// isElem reports whether el is the element ns:tag.
func isElem(el *etree.Element, ns, tag string) bool {
	return el != nil && el.Tag == tag && el.NamespaceURI() == ns
}

// child returns the first child element ns:tag of el, or nil.
func child(el *etree.Element, ns, tag string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if isElem(c, ns, tag) {
			return c
		}
	}
	return nil
}

// children returns the child elements ns:tag of el.
func children(el *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if isElem(c, ns, tag) {
			out = append(out, c)
		}
	}
	return out
}

// attr returns the unqualified attribute name of el. A namespace-qualified
// attribute of the same local name (or a namespace declaration named like
// it) is never read in its place.
func attr(el *etree.Element, name string) (string, bool) {
	if el == nil {
		return "", false
	}
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == name {
			return a.Value, true
		}
	}
	return "", false
}

// attrValue returns the unqualified attribute name of el, or "".
func attrValue(el *etree.Element, name string) string {
	v, _ := attr(el, name)
	return v
}
