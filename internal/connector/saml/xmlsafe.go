package saml

import (
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

// parseMessageTree parses a protocol message (a SAMLResponse, or the
// plaintext of an encrypted assertion) into etree once, with xmlsafe's
// checks on the tree: its shape, no comments, and the round trip. Metadata
// still goes through checkXML.
func parseMessageTree(doc []byte) (*etree.Document, error) {
	return xmlsafe.ParseTree(doc, xmlsafe.Options{MaxDepth: maxXMLDepth, MaxElements: maxXMLElements})
}
