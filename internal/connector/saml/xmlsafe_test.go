package saml

import (
	"errors"
	"strings"
	"testing"

	"github.com/mpassid/mpassid/internal/xmlsafe"
)

// TestParseResponseTreeMatchesXMLSafe checks that the tree check of
// responses refuses what xmlsafe.Check (with this package's limits, no
// comments) refuses, and accepts what it accepts, for documents that are
// round-trip safe (the round-trip check is crewjam's for responses).
func TestParseResponseTreeMatchesXMLSafe(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("<a>", n) + strings.Repeat("</a>", n) }
	docs := map[string]string{
		"plain":                  `<r xmlns="urn:x"><a b="c">t</a></r>`,
		"declaration":            `<?xml version="1.0" encoding="UTF-8"?><r/>`,
		"declaration lower":      `<?xml version="1.0" encoding="utf-8"?>` + "\n<r/>\n",
		"latin1":                 `<?xml version="1.0" encoding="ISO-8859-1"?><r/>`,
		"version 1.1":            `<?xml version="1.1"?><r/>`,
		"doctype":                `<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>`,
		"doctype only":           `<!DOCTYPE r><r/>`,
		"undeclared entity":      `<r>&x;</r>`,
		"external entity":        `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`,
		"comment":                `<r><a>x<!-- c -->y</a></r>`,
		"comment outside":        `<!-- c --><r/>`,
		"processing instruction": `<r><?pi x?></r>`,
		"pi outside":             `<?pi x?><r/>`,
		"two roots":              `<r/><r/>`,
		"no root":                ``,
		"text outside":           `<r/>x`,
		"mismatched":             `<r><a></b></r>`,
		"mismatched prefix":      `<p:r xmlns:p="urn:p" xmlns:q="urn:p"></q:r>`,
		"unclosed":               `<r><a></r>`,
		"invalid char":           "<r>\x01</r>",
		"cdata":                  `<r><![CDATA[<x>]]></r>`,
		"depth at limit":         nest(maxXMLDepth),
		"too deep":               nest(maxXMLDepth + 1),
		"not xml":                `hello`,
	}
	for name, doc := range docs {
		want := xmlsafe.Check([]byte(doc), xmlsafe.Options{MaxDepth: maxXMLDepth, MaxElements: maxXMLElements})
		_, got := parseResponseTree([]byte(doc))
		if (want == nil) != (got == nil) {
			t.Errorf("%s: xmlsafe.Check: %v, parseResponseTree: %v", name, want, got)
		}
		if got != nil && !errors.Is(got, errUnsafeXML) {
			t.Errorf("%s: error %v is not errUnsafeXML", name, got)
		}
	}
}
