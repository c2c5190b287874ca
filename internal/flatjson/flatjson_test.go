package flatjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// tokenAnswer is the shape the tests read with ReadStrings.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	Error       string `json:"error"`
}

func (t *tokenAnswer) fields() ([]string, []*string) {
	return []string{"access_token", "id_token", "error"}, []*string{&t.AccessToken, &t.IDToken, &t.Error}
}

var flatJSONCases = []struct {
	name, data string
	flat       bool // ReadStrings reads it itself
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

// ReadStrings reads exactly what encoding/json reads, or declines.
func TestReadStrings(t *testing.T) {
	for _, tc := range flatJSONCases {
		t.Run(tc.name, func(t *testing.T) {
			var got tokenAnswer
			names, vals := got.fields()
			ok := ReadStrings([]byte(tc.data), names, vals)
			if ok != tc.flat {
				t.Fatalf("ReadStrings = %v, want %v", ok, tc.flat)
			}
			if !ok {
				return
			}
			var want tokenAnswer
			if err := json.Unmarshal([]byte(tc.data), &want); err != nil {
				t.Fatalf("read JSON encoding/json rejects: %v", err)
			}
			if got != want {
				t.Errorf("got %+v, encoding/json %+v", got, want)
			}
		})
	}
}

func FuzzReadStrings(f *testing.F) {
	for _, tc := range flatJSONCases {
		f.Add([]byte(tc.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got tokenAnswer
		names, vals := got.fields()
		if !ReadStrings(data, names, vals) {
			return
		}
		var want tokenAnswer
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
			var tok tokenAnswer
			names, vals := tok.fields()
			if !ReadStrings(data, names, vals) {
				b.Fatal("not flat")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var tok tokenAnswer
			if err := json.Unmarshal(data, &tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// objectCases add to flatJSONCases the shapes of claims.
var objectCases = []struct{ name, data string }{
	{"claims", `{"iss":"https://op.example","sub":"user-1","aud":["a","b"],"exp":1767225600,"iat":1.5e9,"email_verified":true,"x":null}`},
	{"Finnish names", `{"given_name":"Väinö","family_name":"Meikäläinen","nickname":"\u00c4ij\u00e4"}`},
	{"arrays of every scalar", `{"a":[],"b":[ 1 , "x" , true , false , null , -2.5e-3 ],"c":["\u00e4","\ud83d\ude00"]}`},
	{"invalid UTF-8", "{\"a\":\"\xff\xfe\",\"b\":[\"\xc3\"]}"},
	{"lone surrogate", `{"a":"\ud800"}`},
	{"duplicates", `{"a":1,"a":"two","a":[3]}`},
}

// decodeStd is what Object must agree with.
func decodeStd(data []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// Object decodes exactly what encoding/json decodes, or declines.
func TestObject(t *testing.T) {
	var all []struct{ name, data string }
	for _, tc := range flatJSONCases {
		all = append(all, struct{ name, data string }{tc.name, tc.data})
	}
	all = append(all, objectCases...)
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Object([]byte(tc.data))
			if !ok {
				return
			}
			want, err := decodeStd([]byte(tc.data))
			if err != nil {
				t.Fatalf("read JSON encoding/json rejects: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, encoding/json %#v", got, want)
			}
		})
	}
	for _, tc := range objectCases {
		if _, ok := Object([]byte(tc.data)); !ok {
			t.Errorf("%s: declined a flat object", tc.name)
		}
	}
	for _, declined := range []string{`{"a":{"b":1}}`, `{"a":[[1]]}`, `{"\u0061":1}`, `{"ä":1}`, `[]`, `{"a":1} x`} {
		if _, ok := Object([]byte(declined)); ok {
			t.Errorf("%s: read, want declined", declined)
		}
	}
}

func FuzzObject(f *testing.F) {
	for _, tc := range flatJSONCases {
		f.Add([]byte(tc.data))
	}
	for _, tc := range objectCases {
		f.Add([]byte(tc.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := Object(data)
		if !ok {
			return
		}
		want, err := decodeStd(data)
		if err != nil {
			t.Fatalf("%q: read, but encoding/json rejects it: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, encoding/json %#v", data, got, want)
		}
	})
}

func BenchmarkClaims(b *testing.B) {
	data := []byte(`{"sub":"loadtest-42","username":"oppilas42","firstName":"Väinö","surname":"Meikäläinen","learnerId":"1.2.246.562.24.10000000042","roles":["oppilas"],"schoolIds":["00001","00002"],"groups":["7A"],"groupLevels":"7","iss":"http://127.0.0.1:1/op","aud":"mpassid","iat":1767225600,"exp":1767225900,"nonce":"bMbpuO3cQvGP0bYiAXwH1CR5awDTMJY_"}`)
	b.Run("flat", func(b *testing.B) {
		for b.Loop() {
			if _, ok := Object(data); !ok {
				b.Fatal("not flat")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeStd(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
