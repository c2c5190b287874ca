package saml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	xrv "github.com/mattermost/xml-roundtrip-validator"
)

// Limits on the shape of untrusted XML, before it is parsed into a tree.
const (
	maxXMLDepth    = 64
	maxXMLElements = 100000
)

// xmlPolicy says what checkXML tolerates beyond plain elements and text.
type xmlPolicy struct {
	// allowComments accepts XML comments (metadata has them; a response
	// with one is refused, against comment-injection tricks).
	allowComments bool
}

// errUnsafeXML marks XML refused by checkXML.
var errUnsafeXML = errors.New("unsafe or malformed XML")

// checkXML refuses XML that could be read differently by different parsers
// or that asks a parser to do more than parse: a DTD (and so any entity
// declaration or external entity), processing instructions other than the
// XML declaration, comments unless allowed, more than one root, text
// outside the root, excessive depth or size, and anything that does not
// survive xml-roundtrip-validator (encoding/xml namespace round-trip
// mutations that have enabled signature bypasses).
func checkXML(doc []byte, pol xmlPolicy) error {
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
			if !pol.allowComments {
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

// utf8BOM is stripped from documents; Entra ID serves its metadata with one.
const utf8BOM = "\xEF\xBB\xBF"

func stripBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte(utf8BOM)) }
