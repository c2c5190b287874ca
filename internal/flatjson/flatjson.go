// Package flatjson reads flat JSON objects in one pass: objects whose
// member names are plain ASCII and whose values are strings, numbers,
// booleans, nulls or arrays of these, which is the shape of a token
// endpoint's answer, of userinfo and of most ID tokens' claims. A token
// answer is some 3 KB, most of it the two tokens; encoding/json reads it
// twice (once to validate, once to decode) at some 25-45 µs, and decodes
// claims into a map at some 25 µs: in a login through an upstream OpenID
// provider that is a tenth of what the broker spends beside the
// signatures, and as much of the load tool's own CPU. The readers here
// read only such flat shapes and decline every other one, which the
// caller then gives to encoding/json: encoding/json stays the judge of
// what is JSON, and the tests hold the readers to its results.
package flatjson

import (
	"bytes"
	"encoding/json"
)

// Members calls visit with the name and the JSON text of each member
// of data, in order, where data is a JSON object whose member names are
// ASCII without escapes and whose values are strings, numbers, booleans,
// nulls or arrays of these. It returns false when data is anything else
// or visit returns false: the caller must then decode data with
// encoding/json instead.
func Members(data []byte, visit func(name, value []byte) bool) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	for {
		name, next, ok := plainStringAt(data, i)
		if !ok {
			return false
		}
		i = skipSpace(data, next)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		start := skipSpace(data, i+1)
		if i, ok = skipValue(data, start); !ok || !visit(name, data[start:i]) {
			return false
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// ReadStrings reads the string members named in names into vals (vals[i]
// for names[i]) from data, a JSON object as Members reads, the named
// members ASCII strings without escapes. It returns false, having perhaps
// set some vals, when data is anything else, including a member whose name
// matches one of names only case-insensitively or whose value is not such
// a string (encoding/json matches names so, rejects other values and
// unescapes): the caller must then decode data with encoding/json instead.
func ReadStrings(data []byte, names []string, vals []*string) bool {
	return Members(data, func(name, value []byte) bool {
		k, ok := Field(name, names)
		if !ok {
			return false
		}
		if k >= 0 {
			*vals[k], ok = PlainString(value)
		}
		return ok
	})
}

// Field returns the index of name in names, -1 for none, or false if
// name matches one of them only case-insensitively, as encoding/json
// matches member names to fields.
func Field(name []byte, names []string) (int, bool) {
	for k, n := range names {
		if string(name) == n {
			return k, true
		}
	}
	for _, n := range names {
		if bytes.EqualFold(name, []byte(n)) {
			return -1, false
		}
	}
	return -1, true
}

// PlainString returns the value of the JSON string value if it needs no
// unescaping: printable ASCII but for the quote and the backslash.
func PlainString(value []byte) (string, bool) {
	s, next, ok := plainStringAt(value, 0)
	if !ok || next != len(value) {
		return "", false
	}
	return string(s), true
}

// skipSpace returns the index of the first byte from i that is not JSON
// white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// plainStringAt returns the contents of a string at i that needs no
// unescaping (printable ASCII but for the quote and the backslash) and the
// index after it.
func plainStringAt(data []byte, i int) ([]byte, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j], j + 1, true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// skipValue skips a scalar or an array of scalars at i.
func skipValue(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '[' {
		return skipScalar(data, i)
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = skipScalar(data, i); !ok {
			return 0, false
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return 0, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case ']':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// skipScalar skips a string, a number, true, false or null at i.
func skipScalar(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case 't':
		return skipLiteral(data, i, "true")
	case 'f':
		return skipLiteral(data, i, "false")
	case 'n':
		return skipLiteral(data, i, "null")
	}
	return skipNumber(data, i)
}

// skipString skips a string at i as encoding/json accepts it: any bytes
// but control characters, and valid escapes.
func skipString(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			j++
			if j >= len(data) {
				return 0, false
			}
			switch data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(data)-j < 5 || !isHex4(data[j+1:j+5]) {
					return 0, false
				}
				j += 4
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func skipLiteral(data []byte, i int, lit string) (int, bool) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

// skipNumber skips a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(data []byte, i int) (int, bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		i = skipDigits(data, i)
	default:
		return 0, false
	}
	if i < len(data) && data[i] == '.' {
		j := skipDigits(data, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := skipDigits(data, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func skipDigits(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

// IsNumber tells whether value is a JSON number and nothing else.
func IsNumber(value []byte) bool {
	end, ok := skipNumber(value, 0)
	return ok && end == len(value)
}

// Object decodes data, a JSON object as Members reads, into what
// encoding/json's Decoder with UseNumber decodes it to: strings, numbers
// as json.Number, booleans, nil and []any of these. It returns false for
// any other data, which the caller must then decode with encoding/json.
func Object(data []byte) (map[string]any, bool) {
	m := map[string]any{}
	ok := Members(data, func(name, value []byte) bool {
		v, ok := element(value)
		if ok {
			m[string(name)] = v
		}
		return ok
	})
	return m, ok
}

// element decodes a value Members has checked: a scalar or an array of
// scalars.
func element(value []byte) (any, bool) {
	switch value[0] {
	case '"':
		if s, ok := PlainString(value); ok {
			return s, true
		}
		// Escapes and non-ASCII text: encoding/json unescapes them and
		// turns invalid UTF-8 into U+FFFD, and so must this.
		var s string
		return s, json.Unmarshal(value, &s) == nil
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		return nil, true
	case '[':
		arr := []any{}
		i := skipSpace(value, 1)
		for i < len(value) && value[i] != ']' {
			end, ok := skipScalar(value, i)
			if !ok {
				return nil, false
			}
			v, ok := element(value[i:end])
			if !ok {
				return nil, false
			}
			arr = append(arr, v)
			i = skipSpace(value, end)
			if i < len(value) && value[i] == ',' {
				i = skipSpace(value, i+1)
			}
		}
		return arr, true
	}
	return json.Number(value), true
}
