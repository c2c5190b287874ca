package xmlsafe

import (
	"errors"
	"strings"
	"testing"
)

// The limits of the SAML connector, where ParseTree reads responses.
const (
	maxXMLDepth    = 64
	maxXMLElements = 100000
)

// TestParseTreeMatchesCheck checks that ParseTree refuses what Check
// refuses, and accepts what it accepts, for documents that are round-trip
// safe (ParseTree leaves the round-trip check to its caller).
func TestParseTreeMatchesCheck(t *testing.T) {
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
		want := Check([]byte(doc), Options{MaxDepth: maxXMLDepth, MaxElements: maxXMLElements})
		_, got := ParseTree([]byte(doc), Options{MaxDepth: maxXMLDepth, MaxElements: maxXMLElements})
		if (want == nil) != (got == nil) {
			t.Errorf("%s: Check: %v, ParseTree: %v", name, want, got)
		}
		if got != nil && !errors.Is(got, ErrUnsafe) {
			t.Errorf("%s: error %v is not ErrUnsafe", name, got)
		}
	}
}

func TestParseTreeComments(t *testing.T) {
	if _, err := ParseTree([]byte(`<r><!-- c --></r>`), Options{AllowComments: true}); err != nil {
		t.Errorf("comment refused though allowed: %v", err)
	}
	if _, err := ParseTree([]byte(`<r><!-- c --></r>`), Options{}); !errors.Is(err, ErrUnsafe) {
		t.Errorf("comment accepted: %v", err)
	}
}

func FuzzParseTree(f *testing.F) {
	f.Add([]byte(`<r><a/></r>`), false)
	f.Add([]byte(`<!DOCTYPE r><r/>`), true)
	f.Fuzz(func(t *testing.T, doc []byte, comments bool) {
		tree, err := ParseTree(doc, Options{AllowComments: comments})
		if err == nil && tree.Root() == nil {
			t.Fatal("accepted a document without a root")
		}
	})
}
