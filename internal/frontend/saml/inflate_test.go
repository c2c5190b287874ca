package saml

import (
	"bytes"
	"compress/flate"
	"errors"
	"testing"
)

func deflate(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	fw, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// One inflater decompresses message after message, whatever the one
// before it was: its decompressors are reused.
func TestInflater(t *testing.T) {
	small := []byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_a" Version="2.0"/>`)
	limit := bytes.Repeat([]byte("a"), MaxInflated)
	bomb := bytes.Repeat([]byte("a"), MaxInflated+1)
	truncated := deflate(t, small)
	truncated = truncated[:len(truncated)/2]
	var inf inflater
	for _, tc := range []struct {
		name    string
		in      []byte
		want    []byte
		wantErr error
	}{
		{"message", deflate(t, small), small, nil},
		{"at the limit", deflate(t, limit), limit, nil},
		{"over the limit", deflate(t, bomb), nil, errTooLarge},
		{"message after a refusal", deflate(t, small), small, nil},
		{"truncated stream", truncated, nil, errBadBinding},
		{"not DEFLATE", []byte("<samlp:AuthnRequest/>"), nil, errBadBinding},
		{"empty", nil, nil, errBadBinding},
		{"message after broken streams", deflate(t, small), small, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := inf.inflate(tc.in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("inflated %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
}
