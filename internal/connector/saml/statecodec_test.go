package saml

import (
	"encoding/json"
	"testing"
	"time"
)

// TestStateCodec checks that the state round-trips, that state sealed as
// JSON by earlier versions still opens, and that damaged records and
// states without a request are refused.
func TestStateCodec(t *testing.T) {
	issued := time.Date(2026, 11, 27, 7, 59, 1, 123456789, time.UTC)
	states := []state{
		{V: stateVersion, RequestID: "id-0123456789abcdef", IssuedAt: issued, IdP: "https://sts.windows.net/tenant/"},
		{V: stateVersion, RequestID: "r"},
	}
	for _, st := range states {
		got, err := decodeState(encodeState(st))
		if err != nil || got != st {
			t.Errorf("round trip of %+v: %+v, %v", st, got, err)
		}
		old, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decodeState(old); err != nil || !got.IssuedAt.Equal(st.IssuedAt) || got.RequestID != st.RequestID || got.IdP != st.IdP {
			t.Errorf("JSON %s: %+v, %v", old, got, err)
		}
	}
	good := encodeState(states[0])
	for name, data := range map[string][]byte{
		"empty":        nil,
		"version":      append([]byte{2}, good[1:]...),
		"truncated":    good[:len(good)-1],
		"trailing":     append(append([]byte(nil), good...), 0),
		"no request":   encodeState(state{V: stateVersion, IdP: "x"}),
		"JSON v2":      []byte(`{"v":2,"rid":"r"}`),
		"JSON no rid":  []byte(`{"v":1}`),
		"JSON damaged": []byte(`{"v":1,"rid":`),
	} {
		if _, err := decodeState(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzDecodeState: any bytes are decoded or refused, never a panic, and
// what decodes encodes to itself.
func FuzzDecodeState(f *testing.F) {
	f.Add(encodeState(state{V: stateVersion, RequestID: "id-1", IssuedAt: time.Unix(1795000000, 5), IdP: "https://idp.example.fi"}))
	f.Add([]byte(`{"v":1,"rid":"r","iat":"2026-11-27T07:59:01Z","idp":"i"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState(data)
		if err != nil {
			return
		}
		again, err := decodeState(encodeState(st))
		if err != nil || again.RequestID != st.RequestID || again.IdP != st.IdP || !again.IssuedAt.Equal(st.IssuedAt) {
			t.Fatalf("%+v re-encoded: %+v, %v", st, again, err)
		}
	})
}
