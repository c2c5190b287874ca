// Package xmlsafe checks untrusted XML before anything parses it into a
// tree. Both SAML rooms use it: the IdP for AuthnRequests and
// LogoutRequests from services, the upstream connector for responses and
// metadata from schools' IdPs. One check, so that a hole closed for one is
// closed for both.
package xmlsafe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	xrv "github.com/mattermost/xml-roundtrip-validator"
)

// ErrUnsafe marks XML refused by Check.
var ErrUnsafe = errors.New("unsafe or malformed XML")

// Options say what Check tolerates. Zero limits take the defaults.
type Options struct {
	// AllowComments accepts XML comments. Metadata carries them; protocol
	// messages with one are refused, against comment-truncation tricks on
	// signed values.
	AllowComments bool
	// MaxDepth and MaxElements bound the document's shape (defaults 32 and
	// 10,000: a SAML message; metadata of a large federation needs more).
	MaxDepth    int
	MaxElements int
}

// limits returns the shape limits with their defaults.
func (o Options) limits() (depth, elements int) {
	depth, elements = o.MaxDepth, o.MaxElements
	if depth <= 0 {
		depth = 32
	}
	if elements <= 0 {
		elements = 10000
	}
	return depth, elements
}

// Check refuses XML that could be read differently by different parsers or
// that asks a parser to do more than parse: a DTD (and with it every entity
// declaration and external entity), processing instructions other than the
// XML declaration, comments unless allowed, more than one root, text outside
// the root, excessive depth or size, and anything that does not survive
// xml-roundtrip-validator (encoding/xml namespace round-trip mutations that
// have enabled signature bypasses).
func Check(doc []byte, o Options) error {
	maxDepth, maxElements := o.limits()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	depth, elements, roots := 0, 0, 0
	for {
		// Token, not RawToken: it also refuses mismatched end tags.
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnsafe, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return fmt.Errorf("%w: more than one root element", ErrUnsafe)
				}
			}
			depth++
			elements++
			if depth > maxDepth {
				return fmt.Errorf("%w: nested deeper than %d", ErrUnsafe, maxDepth)
			}
			if elements > maxElements {
				return fmt.Errorf("%w: more than %d elements", ErrUnsafe, maxElements)
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return fmt.Errorf("%w: DTD or other directive not allowed", ErrUnsafe)
		case xml.ProcInst:
			if t.Target != "xml" {
				return fmt.Errorf("%w: processing instruction %q not allowed", ErrUnsafe, t.Target)
			}
		case xml.Comment:
			if !o.AllowComments {
				return fmt.Errorf("%w: comment not allowed", ErrUnsafe)
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) != 0 {
				return fmt.Errorf("%w: text outside the root element", ErrUnsafe)
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("%w: no root element", ErrUnsafe)
	}
	if err := xrv.Validate(bytes.NewReader(doc)); err != nil {
		return fmt.Errorf("%w: round-trip validation: %v", ErrUnsafe, err)
	}
	return nil
}

// utf8BOM is stripped from documents; Entra ID serves its metadata with one.
const utf8BOM = "\xEF\xBB\xBF"

// StripBOM removes a leading UTF-8 byte-order mark.
func StripBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte(utf8BOM)) }
