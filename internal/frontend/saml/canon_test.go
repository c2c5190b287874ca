package saml

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// TestAppendEscaped pins the escaping of canonical XML, in text and in
// attribute values, and checks it against etree's canonical writer, which
// goxmldsig's canonicaliser uses.
func TestAppendEscaped(t *testing.T) {
	for _, tc := range []struct {
		in, text, attr string
	}{
		{"plain ASCII 0-9 ~", "plain ASCII 0-9 ~", "plain ASCII 0-9 ~"},
		{"", "", ""},
		{`&<>"'`, `&amp;&lt;&gt;"'`, `&amp;&lt;>&quot;'`},
		{"\t\n\r", "\t\n&#xD;", "&#x9;&#xA;&#xD;"},
		{"\r\n", "&#xD;\n", "&#xD;&#xA;"},
		{"]]>", "]]&gt;", "]]>"},
		{"&amp;", "&amp;amp;", "&amp;amp;"},
		{"äöå ÄÖÅ € 😀", "äöå ÄÖÅ € 😀", "äöå ÄÖÅ € 😀"},
		{"\x00\x01\x08\x0b\x0c\x1f\x7f", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\x7f", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\x7f"},
		{"\uFFFE\uFFFF\uFFFD", "\uFFFD\uFFFD\uFFFD", "\uFFFD\uFFFD\uFFFD"},
		{"a\xffb\xc3(c", "a\uFFFDb\uFFFD(c", "a\uFFFDb\uFFFD(c"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD", "\uFFFD\uFFFD\uFFFD"},
		{"\U0010FFFF\U00010000\uD7FF\uE000", "\U0010FFFF\U00010000\uD7FF\uE000", "\U0010FFFF\U00010000\uD7FF\uE000"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := string(appendEscaped(nil, tc.in, false)); got != tc.text {
				t.Errorf("text %q, want %q", got, tc.text)
			}
			if got := string(appendEscaped(nil, tc.in, true)); got != tc.attr {
				t.Errorf("attribute %q, want %q", got, tc.attr)
			}
			text, attr := etreeCanonical(t, tc.in)
			if text != tc.text || attr != tc.attr {
				t.Errorf("etree writes text %q, attribute %q", text, attr)
			}
		})
	}
}

// etreeCanonical is how etree's canonical writer escapes s in text and in
// an attribute value.
func etreeCanonical(tb testing.TB, s string) (text, attr string) {
	tb.Helper()
	el := etree.NewElement("e")
	el.CreateAttr("a", s)
	el.SetText(s)
	d := etree.NewDocument()
	d.SetRoot(el)
	d.WriteSettings = etree.WriteSettings{CanonicalEndTags: true, CanonicalText: true, CanonicalAttrVal: true}
	out, err := d.WriteToString()
	if err != nil {
		tb.Fatal(err)
	}
	rest, ok := strings.CutPrefix(out, `<e a="`)
	attr, rest, ok2 := strings.Cut(rest, `">`)
	text, ok3 := strings.CutSuffix(rest, "</e>")
	if !ok || !ok2 || !ok3 {
		tb.Fatalf("etree wrote %q", out)
	}
	return text, attr
}

// FuzzAppendEscaped: for any string, the escaping agrees with etree's
// canonical writer.
func FuzzAppendEscaped(f *testing.F) {
	f.Add("a&b<c>d\"e'f\tg\nh\ri\x00j\xffk\uFFFEä")
	f.Fuzz(func(t *testing.T, s string) {
		text, attr := etreeCanonical(t, s)
		if got := string(appendEscaped(nil, s, false)); got != text {
			t.Errorf("text %q, etree %q", got, text)
		}
		if got := string(appendEscaped(nil, s, true)); got != attr {
			t.Errorf("attribute %q, etree %q", got, attr)
		}
	})
}

// BenchmarkAppendEscaped escapes the text of a typical attribute value.
func BenchmarkAppendEscaped(b *testing.B) {
	s := "1.2.246.562.99.00000000001;30076;9F;Oppilas;1;1.2.246.562.99.00000000002; Mansikkalan testi peruskoulu äö"
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	for i := 0; i < b.N; i++ {
		buf = appendEscaped(buf[:0], s, false)
		buf = appendEscaped(buf[:0], s, true)
	}
}
