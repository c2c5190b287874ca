package testidp

import (
	"encoding/json"
	"testing"
)

// The state round-trips, is the JSON encoding/json writes for it, and is
// read as encoding/json reads it, including states of other shapes.
func TestState(t *testing.T) {
	for _, exp := range []int64{1, 1767225600, 999999999999999999} {
		st := state{Expires: exp}
		want, _ := json.Marshal(st)
		if got := st.encode(); string(got) != string(want) {
			t.Errorf("encode %d = %s, want %s", exp, got, want)
		}
		if back, err := decodeState(st.encode()); err != nil || back != st {
			t.Errorf("decode %d = %v, %v", exp, back, err)
		}
	}
	for _, raw := range []string{`{"exp": 5}`, `{"exp":05}`, `{"exp":-5}`, `{"exp":+5}`, `{"exp":1e3}`, `{"exp":5,"x":1}`, `{"exp":}`, ``, `{"exp":99999999999999999999}`} {
		var want state
		werr := json.Unmarshal([]byte(raw), &want)
		got, err := decodeState([]byte(raw))
		if (err != nil) != (werr != nil) || (err == nil && got != want) {
			t.Errorf("decodeState(%s) = %v, %v; encoding/json %v, %v", raw, got, err, want, werr)
		}
	}
}

func FuzzDecodeState(f *testing.F) {
	for _, s := range []string{`{"exp":1767225600}`, `{"exp":0}`, `{"exp":-1}`, `{"exp":1}x`, `{"exp":12a}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want state
		werr := json.Unmarshal(raw, &want)
		got, err := decodeState(raw)
		if (err != nil) != (werr != nil) || (err == nil && got != want) {
			t.Errorf("decodeState(%q) = %v, %v; encoding/json %v, %v", raw, got, err, want, werr)
		}
	})
}
