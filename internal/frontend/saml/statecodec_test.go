package saml

import (
	"encoding/json"
	"testing"
)

// TestSSOStateCodec checks that the state round-trips, that state sealed
// as JSON by earlier versions still opens, and that damaged records are
// refused.
func TestSSOStateCodec(t *testing.T) {
	states := []ssoState{
		{EntityID: "https://sp.example.fi/sp", RequestID: "_r1", ACS: "https://sp.example.fi/acs", RelayState: "päivä=1&x"},
		{EntityID: "e", RequestID: "r", ACS: "a"},
		{},
	}
	for _, st := range states {
		got, err := decodeSSOState(encodeSSOState(st))
		if err != nil || got != st {
			t.Errorf("round trip of %+v: %+v, %v", st, got, err)
		}
		old, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decodeSSOState(old); err != nil || got != st {
			t.Errorf("JSON %s: %+v, %v", old, got, err)
		}
	}
	good := encodeSSOState(states[0])
	for name, data := range map[string][]byte{
		"empty":     nil,
		"version":   append([]byte{9}, good[1:]...),
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"bad JSON":  []byte(`{"sp":`),
	} {
		if _, err := decodeSSOState(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzDecodeSSOState: any bytes are decoded or refused, never a panic,
// and what decodes encodes to itself.
func FuzzDecodeSSOState(f *testing.F) {
	f.Add(encodeSSOState(ssoState{EntityID: "https://sp.example.fi/sp", RequestID: "_r1", ACS: "https://sp.example.fi/acs", RelayState: "rs"}))
	f.Add([]byte(`{"sp":"e","id":"r","acs":"a"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeSSOState(data)
		if err != nil {
			return
		}
		if again, err := decodeSSOState(encodeSSOState(st)); err != nil || again != st {
			t.Fatalf("%+v re-encoded: %+v, %v", st, again, err)
		}
	})
}
