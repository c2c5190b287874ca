package xmlsafe

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
)

// errCharset refuses a declared encoding other than UTF-8, as Check
// does (its decoder has no CharsetReader); etree would otherwise read the
// bytes as UTF-8 whatever the declaration says.
var errCharset = errors.New("only UTF-8 is accepted")

// ParseTree parses untrusted XML into etree once and applies to the tree
// the checks that Check applies to the token stream:
//
//   - no DTD or other directive, so no entity declarations (encoding/xml,
//     under etree, never expands or fetches entities: an undeclared entity
//     reference is a syntax error in its strict mode, which etree uses);
//   - no processing instruction other than the XML declaration, and that
//     one only for version 1.0 (encoding/xml) and UTF-8;
//   - no comments unless allowed (comment truncation of signed values);
//   - exactly one root element and no text outside it;
//   - at most MaxDepth deep (etree stops reading deeper documents) and
//     MaxElements elements;
//   - well-formed for encoding/xml in strict mode: matching end tags
//     (etree compares prefix and local name), valid characters;
//   - every tag survives encoding/xml's round trip (checkRoundTrip).
//
// Parsing first is safe: encoding/xml does nothing but tokenise, and the
// caller has already bounded the document's size. It saves the
// separate token pass of Check.
//
// encoding/xml reads byte by byte, which made this parse the largest cost
// of a login after the signatures. So fastTree first tries the strict
// subset of XML that SAML messages are written in; it builds the very tree
// the slow path (parseTree) would and leaves everything else, good or bad,
// to the slow path, so that it changes no result, only the cost. The
// differential FuzzFastTree holds it to that.
func ParseTree(doc []byte, o Options) (*etree.Document, error) {
	maxDepth, maxElements := o.limits()
	tree, ok := fastTree(doc, maxDepth, maxElements)
	if !ok {
		var err error
		if tree, err = parseTree(doc, o); err != nil {
			return nil, err
		}
	}
	if err := checkRoundTrip(tree); err != nil {
		return nil, fmt.Errorf("%w: round-trip validation: %v", ErrUnsafe, err)
	}
	return tree, nil
}

// parseTree is ParseTree without the round-trip check.
func parseTree(doc []byte, o Options) (*etree.Document, error) {
	maxDepth, maxElements := o.limits()
	tree := newTree(maxDepth)
	if err := tree.ReadFromBytes(doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsafe, err)
	}
	roots := 0
	for _, t := range tree.Child {
		switch t := t.(type) {
		case *etree.Element:
			roots++
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, fmt.Errorf("%w: text outside the root element", ErrUnsafe)
			}
		default:
			if err := checkToken(t, o.AllowComments); err != nil {
				return nil, err
			}
		}
	}
	if roots != 1 {
		return nil, fmt.Errorf("%w: %d root elements", ErrUnsafe, roots)
	}
	elements := 0
	// Iterative, so that the walk itself needs no deep stack.
	stack := []*etree.Element{tree.Root()}
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		elements++
		if elements > maxElements {
			return nil, fmt.Errorf("%w: more than %d elements", ErrUnsafe, maxElements)
		}
		for _, t := range el.Child {
			switch t := t.(type) {
			case *etree.Element:
				stack = append(stack, t)
			case *etree.CharData:
			default:
				if err := checkToken(t, o.AllowComments); err != nil {
					return nil, err
				}
			}
		}
	}
	return tree, nil
}

// newTree returns the empty document that parseTree reads into, with its
// settings; fastTree returns its trees with the same ones.
func newTree(maxDepth int) *etree.Document {
	tree := etree.NewDocument()
	tree.ReadSettings.MaxDepth = maxDepth
	tree.ReadSettings.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("%w: encoding %q", errCharset, label)
	}
	return tree
}

// checkToken refuses the non-element, non-text tokens of a protocol message.
func checkToken(t etree.Token, allowComments bool) error {
	switch t := t.(type) {
	case *etree.Directive:
		return fmt.Errorf("%w: DTD or other directive not allowed", ErrUnsafe)
	case *etree.Comment:
		if allowComments {
			return nil
		}
		return fmt.Errorf("%w: comment not allowed", ErrUnsafe)
	case *etree.ProcInst:
		if t.Target != "xml" {
			return fmt.Errorf("%w: processing instruction %q not allowed", ErrUnsafe, t.Target)
		}
		return nil
	}
	return fmt.Errorf("%w: unexpected %T", ErrUnsafe, t)
}
