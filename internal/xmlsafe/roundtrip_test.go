package xmlsafe

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"testing"

	xrv "github.com/mattermost/xml-roundtrip-validator"
)

// referenceCheck is Check as it was before its round-trip fast path: a
// namespace-aware token pass, then the whole round-trip validator. The fast
// Check must refuse everything it refuses.
func referenceCheck(doc []byte, o Options) error {
	maxDepth, maxElements := o.limits()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	depth, elements, roots := 0, 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if roots++; roots > 1 {
					return ErrUnsafe
				}
			}
			depth++
			elements++
			if depth > maxDepth || elements > maxElements {
				return ErrUnsafe
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return ErrUnsafe
		case xml.ProcInst:
			if t.Target != "xml" {
				return ErrUnsafe
			}
		case xml.Comment:
			if !o.AllowComments {
				return ErrUnsafe
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) != 0 {
				return ErrUnsafe
			}
		}
	}
	if roots != 1 {
		return ErrUnsafe
	}
	return xrv.Validate(bytes.NewReader(doc))
}

// Documents that encoding/xml has read differently on a second pass
// (golang/go#43168 and relatives), and the ordinary shapes of SAML.
var roundTripSeeds = []string{
	`<r><a:b:c/></r>`,
	`<r a:b:c="1"/>`,
	`<r :a="1"/>`,
	`<:r/>`,
	`<r xmlns:="x"/>`,
	`<r xmlns:a=""><a:x/></r>`,
	`<xmlns:r/>`,
	`<xml:r/>`,
	`<r xml:lang="fi">Mansikkala</r>`,
	`<r><![CDATA[x]]></r>`,
	`<r>&#xD;&#x9;&amp;&lt;</r>`,
	`<r a="&#xA;&#x9;&quot;"/>`,
	`<r a='"'/>`,
	`<r><!DOCTYPE x></r>`,
	`<r><a></b></r>`,
	`<a:r xmlns:a="urn:x"></b:r>`,
	`<r>` + "\uFFFD\u00e4" + `</r>`,
	`<r><?xml version="1.0"?></r>`,
	`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id-1" Version="2.0"><saml:Issuer>https://sp.example</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" AllowCreate="true"/></samlp:AuthnRequest>`,
}

func addRoundTripSeeds(f *testing.F) {
	for _, s := range roundTripSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	for _, glob := range []string{"../frontend/saml/testdata/*.xml", "../../../shared/reference/fixtures/saml/*.xml"} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil && len(b) < 64<<10 {
				f.Add(b, true)
			}
		}
	}
}

func TestCheckRefusesWhatTheReferenceRefuses(t *testing.T) {
	for _, s := range roundTripSeeds {
		for _, comments := range []bool{false, true} {
			o := Options{AllowComments: comments}
			ref, got := referenceCheck([]byte(s), o), Check([]byte(s), o)
			if ref != nil && got == nil {
				t.Errorf("%q (comments %v): the reference refuses (%v), Check accepts", s, comments, ref)
			}
		}
	}
}

// FuzzCheckAgainstReference: whatever the namespace-aware pass plus the
// full round-trip validator refuse, Check refuses.
func FuzzCheckAgainstReference(f *testing.F) {
	addRoundTripSeeds(f)
	f.Fuzz(func(t *testing.T, doc []byte, comments bool) {
		o := Options{AllowComments: comments}
		if ref := referenceCheck(doc, o); ref != nil {
			if err := Check(doc, o); err == nil {
				t.Fatalf("reference refuses (%v), Check accepts %q", ref, doc)
			}
		}
	})
}

func BenchmarkCheckAuthnRequest(b *testing.B) {
	doc := []byte(roundTripSeeds[len(roundTripSeeds)-1])
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(doc, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
