package saml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/beevik/etree"
	xrv "github.com/mattermost/xml-roundtrip-validator"
)

// XML namespaces.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsXMLEnc    = "http://www.w3.org/2001/04/xmlenc#"
)

// Limits on the shape of untrusted XML, before it is parsed into a tree.
const (
	maxXMLDepth    = 32
	maxXMLElements = 10000
)

// errUnsafeXML marks XML refused by checkXML.
var errUnsafeXML = errors.New("unsafe or malformed XML")

// checkXML refuses XML that could be read differently by different parsers
// or that asks a parser to do more than parse: a DTD (and with it every
// entity declaration and external entity), processing instructions other
// than the XML declaration, comments (against comment-truncation tricks on
// signed values), more than one root, text outside the root, excessive
// depth or size, and anything that does not survive
// xml-roundtrip-validator (encoding/xml namespace round-trip mutations that
// have enabled signature bypasses). allowComments is for metadata, which
// often carries comments and whose signature is not relied on here.
func checkXML(doc []byte, allowComments bool) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	depth, elements, roots := 0, 0, 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", errUnsafeXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return fmt.Errorf("%w: more than one root element", errUnsafeXML)
				}
			}
			depth++
			elements++
			if depth > maxXMLDepth {
				return fmt.Errorf("%w: nested deeper than %d", errUnsafeXML, maxXMLDepth)
			}
			if elements > maxXMLElements {
				return fmt.Errorf("%w: more than %d elements", errUnsafeXML, maxXMLElements)
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return fmt.Errorf("%w: DTD or other directive not allowed", errUnsafeXML)
		case xml.ProcInst:
			if t.Target != "xml" {
				return fmt.Errorf("%w: processing instruction %q not allowed", errUnsafeXML, t.Target)
			}
		case xml.Comment:
			if !allowComments {
				return fmt.Errorf("%w: comment not allowed", errUnsafeXML)
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) != 0 {
				return fmt.Errorf("%w: text outside the root element", errUnsafeXML)
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("%w: no root element", errUnsafeXML)
	}
	if err := xrv.Validate(bytes.NewReader(doc)); err != nil {
		return fmt.Errorf("%w: round-trip validation: %v", errUnsafeXML, err)
	}
	return nil
}

// parseXML checks doc with checkXML and parses it into a tree.
func parseXML(doc []byte, allowComments bool) (*etree.Element, error) {
	doc = bytes.TrimPrefix(doc, []byte("\xEF\xBB\xBF"))
	if err := checkXML(doc, allowComments); err != nil {
		return nil, err
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnsafeXML, err)
	}
	root := d.Root()
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", errUnsafeXML)
	}
	return root, nil
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
