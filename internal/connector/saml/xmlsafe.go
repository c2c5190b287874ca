package saml

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/xmlsafe"
)

// Limits on the shape of untrusted XML: metadata of a large federation is
// deep and long, so these are looser than a protocol message needs.
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
var errUnsafeXML = xmlsafe.ErrUnsafe

// checkXML is xmlsafe.Check with this package's limits.
func checkXML(doc []byte, pol xmlPolicy) error {
	return xmlsafe.Check(doc, xmlsafe.Options{AllowComments: pol.allowComments, MaxDepth: maxXMLDepth, MaxElements: maxXMLElements})
}

func stripBOM(b []byte) []byte { return xmlsafe.StripBOM(b) }

// errCharset refuses a declared encoding other than UTF-8, as xmlsafe.Check
// does (its decoder has no CharsetReader); etree would otherwise read the
// bytes as UTF-8 whatever the declaration says.
var errCharset = errors.New("only UTF-8 is accepted")

// parseResponseTree parses a protocol message (a SAMLResponse) into etree
// once and applies to the tree the checks that xmlsafe.Check applies to the
// token stream, with this package's limits and no comments:
//
//   - no DTD or other directive, so no entity declarations (encoding/xml,
//     under etree, never expands or fetches entities: an undeclared entity
//     reference is a syntax error in its strict mode, which etree uses);
//   - no processing instruction other than the XML declaration, and that
//     one only for version 1.0 (encoding/xml) and UTF-8;
//   - no comments (comment truncation of signed values);
//   - exactly one root element and no text outside it;
//   - at most maxXMLDepth deep (etree stops reading deeper documents) and
//     maxXMLElements elements;
//   - well-formed for encoding/xml in strict mode: matching end tags
//     (etree compares prefix and local name), valid characters.
//
// Parsing first is safe: encoding/xml does nothing but tokenise, and the
// document is already bounded by the maximum response size. It saves the
// separate token pass of xmlsafe.Check; the round-trip check is left to
// crewjam (see precheckResponse). Metadata still goes through checkXML.
func parseResponseTree(doc []byte) (*etree.Document, error) {
	tree := etree.NewDocument()
	tree.ReadSettings.MaxDepth = maxXMLDepth
	tree.ReadSettings.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("%w: encoding %q", errCharset, label)
	}
	if err := tree.ReadFromBytes(doc); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnsafeXML, err)
	}
	roots := 0
	for _, t := range tree.Child {
		switch t := t.(type) {
		case *etree.Element:
			roots++
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, fmt.Errorf("%w: text outside the root element", errUnsafeXML)
			}
		default:
			if err := checkToken(t); err != nil {
				return nil, err
			}
		}
	}
	if roots != 1 {
		return nil, fmt.Errorf("%w: %d root elements", errUnsafeXML, roots)
	}
	elements := 0
	// Iterative, so that the walk itself needs no deep stack.
	stack := []*etree.Element{tree.Root()}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		elements++
		if elements > maxXMLElements {
			return nil, fmt.Errorf("%w: more than %d elements", errUnsafeXML, maxXMLElements)
		}
		for _, t := range el.Child {
			switch t := t.(type) {
			case *etree.Element:
				stack = append(stack, t)
			case *etree.CharData:
			default:
				if err := checkToken(t); err != nil {
					return nil, err
				}
			}
		}
	}
	return tree, nil
}

// checkToken refuses the non-element, non-text tokens of a protocol message.
func checkToken(t etree.Token) error {
	switch t := t.(type) {
	case *etree.Directive:
		return fmt.Errorf("%w: DTD or other directive not allowed", errUnsafeXML)
	case *etree.Comment:
		return fmt.Errorf("%w: comment not allowed", errUnsafeXML)
	case *etree.ProcInst:
		if t.Target != "xml" {
			return fmt.Errorf("%w: processing instruction %q not allowed", errUnsafeXML, t.Target)
		}
		return nil
	}
	return fmt.Errorf("%w: unexpected %T", errUnsafeXML, t)
}
