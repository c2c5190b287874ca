package xmlsafe

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestDecodeBase64(t *testing.T) {
	payload := []byte("<samlp:Response>\x00\xff</samlp:Response>")
	enc := base64.StdEncoding.EncodeToString(payload)
	for _, tc := range []struct {
		name string
		in   string
		want []byte // nil: an error
	}{
		{"plain", enc, payload},
		{"empty", "", []byte{}},
		{"lines of 76 (MIME)", enc[:20] + "\r\n" + enc[20:40] + "\r\n" + enc[40:], payload},
		{"indented in XML", "\n      " + enc[:16] + "\n\t" + enc[16:] + "\n    ", payload},
		{"spaces between quanta", enc[:4] + " " + enc[4:8] + "  " + enc[8:], payload},
		{"only whitespace", " \t\r\n", []byte{}},
		{"vertical tab is not XML whitespace", enc[:4] + "\v" + enc[4:], nil},
		{"no-break space is not XML whitespace", enc[:4] + "\u00a0" + enc[4:], nil},
		{"URL-safe alphabet", "-_-_", nil},
		{"missing padding", strings.TrimRight(enc, "="), nil},
		{"truncated", enc[:len(enc)-3], nil},
		{"data after padding", enc + "QQ==", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeBase64(tc.in)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("DecodeBase64(%q) = %q, want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeBase64(%q): %v", tc.in, err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("DecodeBase64(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzDecodeBase64 holds DecodeBase64 to the standard decoder of the same
// text with XML's whitespace taken out.
func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"", "QUJD", "QU JD\n", "QUI=\r\n", "\tQQ==", "Q\u00a0UJD", "QUJD\v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := DecodeBase64(s)
		clean := strings.NewReplacer(" ", "", "\t", "", "\r", "", "\n", "").Replace(s)
		want, wantErr := base64.StdEncoding.DecodeString(clean)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("DecodeBase64(%q): error %v, the standard decoder's %v", s, err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("DecodeBase64(%q) = %q, want %q", s, got, want)
		}
	})
}

func BenchmarkDecodeBase64(b *testing.B) {
	enc := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("<saml:Attribute/>"), 900))
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodeBase64(enc); err != nil {
			b.Fatal(err)
		}
	}
}
