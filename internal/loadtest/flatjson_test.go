package loadtest

import (
	"encoding/json"
	"strings"
	"testing"
)

var flatJSONCases = []struct {
	name, data string
	flat       bool // readFlatJSON reads it itself
}{
	{"token response", `{"access_token":"at.AXw-_9","token_type":"Bearer","expires_in":300,"scope":"openid profile","id_token":"eyJ.eyJ.sig"}`, true},
	{"white space", " {\n\t\"access_token\" : \"a\" ,\r\n \"id_token\":\"b\" } \n", true},
	{"empty object", `{}`, true},
	{"error answer", `{"error":"invalid_grant","error_description":"code used"}`, true},
	{"literals and numbers", `{"a":true,"b":false,"c":null,"d":-0.5e+3,"e":0,"f":12E2,"id_token":"x"}`, true},
	{"duplicate member", `{"id_token":"x","id_token":"y"}`, true},
	{"escaped string", `{"access_token":"a\/b","id_token":"c"}`, false},
	{"non-ASCII string", `{"id_token":"ä"}`, false},
	{"escapes in another member", `{"id_token":"c","x":"\u00e4\"\\\/\b\f\n\r\t"}`, true},
	{"non-ASCII in another member", `{"id_token":"c","x":"Esimerkkilän ` + "\xff" + `"}`, true},
	{"nested array", `{"id_token":"c","x":[1,"a", true ,null,[]],"y":[],"z":[ "ä" ]}`, false},
	{"arrays of scalars", `{"id_token":"c","x":[1,"a", true ,null],"y":[],"z":[ "ä" ]}`, true},
	{"array for a string field", `{"id_token":["c"]}`, false},
	{"unterminated array", `{"x":[1,2}`, false},
	{"array with a trailing comma", `{"x":[1,]}`, false},
	{"invalid escape", `{"x":"\x"}`, false},
	{"short unicode escape", `{"x":"\u00e"}`, false},
	{"non-hex unicode escape", `{"x":"\u00eg"}`, false},
	{"escape at the end", `{"x":"\`, false},
	{"nested object", `{"id_token":"c","x":{"y":1}}`, false},
	{"name differing in case", `{"ID_Token":"c"}`, false},
	{"number for a string field", `{"id_token":1}`, false},
	{"null for a string field", `{"id_token":null}`, false},
	{"leading zero", `{"x":01}`, false},
	{"bare minus", `{"x":-}`, false},
	{"fraction without digits", `{"x":1.}`, false},
	{"exponent without digits", `{"x":1e}`, false},
	{"trailing comma", `{"x":1,}`, false},
	{"trailing data", `{"x":1} x`, false},
	{"two objects", `{}{}`, false},
	{"unterminated string", `{"id_token":"c`, false},
	{"control character", "{\"id_token\":\"a\tb\"}", false},
	{"missing colon", `{"id_token" "c"}`, false},
	{"truncated literal", `{"x":tru}`, false},
	{"not an object", `["id_token"]`, false},
	{"empty", ``, false},
}

// readFlatJSON reads exactly what encoding/json reads, or declines.
func TestReadFlatJSON(t *testing.T) {
	for _, tc := range flatJSONCases {
		t.Run(tc.name, func(t *testing.T) {
			var got tokenResponse
			names, vals := got.flatFields()
			ok := readFlatJSON([]byte(tc.data), names, vals)
			if ok != tc.flat {
				t.Fatalf("readFlatJSON = %v, want %v", ok, tc.flat)
			}
			if !ok {
				return
			}
			var want tokenResponse
			if err := json.Unmarshal([]byte(tc.data), &want); err != nil {
				t.Fatalf("read JSON encoding/json rejects: %v", err)
			}
			if got != want {
				t.Errorf("got %+v, encoding/json %+v", got, want)
			}
		})
	}
}

func FuzzReadFlatJSON(f *testing.F) {
	for _, tc := range flatJSONCases {
		f.Add([]byte(tc.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got tokenResponse
		names, vals := got.flatFields()
		if !readFlatJSON(data, names, vals) {
			return
		}
		var want tokenResponse
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("%q: read, but encoding/json rejects it: %v", data, err)
		}
		if got != want {
			t.Fatalf("%q: got %+v, encoding/json %+v", data, got, want)
		}
	})
}

func BenchmarkTokenResponse(b *testing.B) {
	// The shape and size of the broker's answer: two tokens of some 1.5 KB.
	data := []byte(`{"access_token":"at.` + strings.Repeat("AXwH1CR5awDTMJY_", 90) + `","token_type":"Bearer","expires_in":300,"id_token":"eyJhbGciOiJSUzI1NiJ9.` + strings.Repeat("bMbpuO3cQvGP0bYi", 110) + `"}`)
	b.Run("flat", func(b *testing.B) {
		for b.Loop() {
			var tok tokenResponse
			names, vals := tok.flatFields()
			if !readFlatJSON(data, names, vals) {
				b.Fatal("not flat")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var tok tokenResponse
			if err := json.Unmarshal(data, &tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
