package xmlsafe

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	deep := strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40)
	tests := []struct {
		name string
		doc  string
		opts Options
		ok   bool
	}{
		{"plain", `<?xml version="1.0"?><r><a x="1">t</a></r>`, Options{}, true},
		{"DTD", `<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>`, Options{}, false},
		{"external entity", `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`, Options{}, false},
		{"processing instruction", `<r><?php echo 1; ?></r>`, Options{}, false},
		{"comment refused", `<r><!-- c --></r>`, Options{}, false},
		{"comment allowed", `<r><!-- c --></r>`, Options{AllowComments: true}, true},
		{"two roots", `<r/><s/>`, Options{}, false},
		{"text outside root", `<r/>junk`, Options{}, false},
		{"no root", ``, Options{}, false},
		{"too deep", deep, Options{}, false},
		{"deep allowed", deep, Options{MaxDepth: 64}, true},
		{"too many elements", "<r>" + strings.Repeat("<a/>", 20) + "</r>", Options{MaxElements: 10}, false},
		{"unclosed", `<r><a></r>`, Options{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.doc), tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("Check = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrUnsafe) {
				t.Errorf("error %v does not match ErrUnsafe", err)
			}
		})
	}
}

func TestStripBOM(t *testing.T) {
	if got := string(StripBOM([]byte("\xEF\xBB\xBF<r/>"))); got != "<r/>" {
		t.Errorf("got %q", got)
	}
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte(`<r><a/></r>`), false)
	f.Add([]byte(`<!DOCTYPE r><r/>`), true)
	f.Fuzz(func(t *testing.T, doc []byte, comments bool) {
		_ = Check(doc, Options{AllowComments: comments})
	})
}
