// Package xmlsafe guards every read of untrusted XML. ParseTree parses a
// protocol message into a tree once and checks the tree (the IdP for
// AuthnRequests, LogoutRequests and SP metadata from services, the upstream
// connector for responses from schools' IdPs); Check checks a document's
// tokens before another parser reads it (IdP metadata, parsed by the
// connector's metadata reader). Both SAML rooms use the same checks, so
// that a hole closed for one is closed for both. ParseTree reads the
// common shape of a message with a parser of its own (fastTree), held to
// the etree tree of the slow path by a differential fuzz target, because
// the slow path's byte-at-a-time tokenizer was most of a login's cost after
// the signatures.
package xmlsafe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

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
//
// It is one pass of encoding/xml's tokenizer. The round-trip check costs a
// fresh encoder and decoder per token, which made it 80 % of the time spent
// on a service's AuthnRequest; it now runs only on tokens outside the shape
// that is known to survive the round trip (ASCII NCNames, legal
// characters), and a fuzz test checks that whatever the validator refuses,
// Check refuses too.
func Check(doc []byte, o Options) error {
	maxDepth, maxElements := o.limits()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	// Raw tokens: the names as written, which is what the round trip is
	// about; the open elements are matched here instead of by Token.
	var open []xml.Name
	elements, roots := 0, 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnsafe, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(open) == 0 {
				roots++
				if roots > 1 {
					return fmt.Errorf("%w: more than one root element", ErrUnsafe)
				}
			}
			open = append(open, t.Name)
			elements++
			if len(open) > maxDepth {
				return fmt.Errorf("%w: nested deeper than %d", ErrUnsafe, maxDepth)
			}
			if elements > maxElements {
				return fmt.Errorf("%w: more than %d elements", ErrUnsafe, maxElements)
			}
		case xml.EndElement:
			if len(open) == 0 || open[len(open)-1] != t.Name {
				return fmt.Errorf("%w: end element %s does not close an open element", ErrUnsafe, rawName(t.Name))
			}
			open = open[:len(open)-1]
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
			if len(open) == 0 && len(bytes.TrimSpace(t)) != 0 {
				return fmt.Errorf("%w: text outside the root element", ErrUnsafe)
			}
		}
		if !survivesRoundTrip(tok) {
			if err := xrv.CheckToken(tok); err != nil {
				return fmt.Errorf("%w: round-trip validation: %v", ErrUnsafe, err)
			}
		}
	}
	if len(open) != 0 {
		return fmt.Errorf("%w: element %s is not closed", ErrUnsafe, rawName(open[len(open)-1]))
	}
	if roots != 1 {
		return fmt.Errorf("%w: no root element", ErrUnsafe)
	}
	return nil
}

func rawName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// survivesRoundTrip reports tokens of the shape encoding/xml writes back
// and reads again unchanged: element and attribute names made of ASCII
// NCName characters (a prefix and a local part, neither with a colon),
// and text and attribute values of legal XML characters. It never decides
// that a token is unsafe; anything else goes to the round-trip validator.
func survivesRoundTrip(tok xml.Token) bool {
	switch t := tok.(type) {
	case xml.StartElement:
		if !plainName(t.Name) || t.Name.Space == "xmlns" || t.Name.Space == "xml" {
			return false
		}
		for _, a := range t.Attr {
			if !plainName(a.Name) || !legalText(a.Value) {
				return false
			}
		}
		return true
	case xml.EndElement:
		return plainName(t.Name) && t.Name.Space != "xmlns" && t.Name.Space != "xml"
	case xml.CharData:
		return legalText(string(t))
	}
	return false
}

// plainName: a non-empty local part and an optional prefix, each an ASCII
// NCName.
func plainName(n xml.Name) bool {
	return PlainName(n.Local) && (n.Space == "" || PlainName(n.Space))
}

// PlainName reports whether s is an ASCII XML name without a colon: a
// letter or '_', then letters, digits, '_', '-' and '.'. Names of that
// shape survive encoding/xml's round trip unchanged.
func PlainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// legalText: valid UTF-8 of characters XML allows (the decoder has already
// refused most others; the encoder would replace any left).
func legalText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r >= 0xD800 && r <= 0xDFFF || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}

// utf8BOM is stripped from documents; Entra ID serves its metadata with one.
const utf8BOM = "\xEF\xBB\xBF"

// StripBOM removes a leading UTF-8 byte-order mark.
func StripBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte(utf8BOM)) }
