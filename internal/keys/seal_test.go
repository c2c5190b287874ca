package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testMasterKey(t testing.TB, fill byte) []byte {
	t.Helper()
	return bytes.Repeat([]byte{fill}, MasterKeySize)
}

func testSealer(t testing.TB, fill byte) *Sealer {
	t.Helper()
	s, err := NewSealer(testMasterKey(t, fill))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSealerKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		_, err := NewSealer(make([]byte, n))
		if err == nil || !strings.Contains(err.Error(), "must be 32 bytes") {
			t.Errorf("NewSealer(%d bytes) error = %v, want a length error", n, err)
		}
	}
	if _, err := NewSealer(make([]byte, 32)); err != nil {
		t.Errorf("NewSealer(32 bytes): %v", err)
	}
}

func TestSealRoundTrip(t *testing.T) {
	s := testSealer(t, 1)
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"empty", nil, nil},
		{"short", []byte("secret"), []byte("integration:1")},
		{"binary", []byte{0, 1, 2, 255}, nil},
		{"large", bytes.Repeat([]byte("x"), 1<<16), []byte("ad")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := s.Seal(tt.plaintext, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.plaintext) > 0 && bytes.Contains(sealed, tt.plaintext) {
				t.Error("sealed value contains the plaintext")
			}
			if sealed[0] != 1 || sealed[1] != s.KeyID() {
				t.Errorf("header = %x, want version 1 and key id %02x", sealed[:2], s.KeyID())
			}
			got, err := s.Open(sealed, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open = %q, want %q", got, tt.plaintext)
			}
			again, _ := s.Seal(tt.plaintext, tt.ad)
			if bytes.Equal(again, sealed) {
				t.Error("two seals of the same plaintext are equal: nonce not random")
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	s := testSealer(t, 1)
	other := testSealer(t, 2)
	ad := []byte("key-1")
	sealed, err := s.Seal([]byte("private key bytes"), ad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	withVersion := func(v byte) []byte {
		b := bytes.Clone(sealed)
		b[0] = v
		return b
	}
	tests := []struct {
		name   string
		sealer *Sealer
		sealed []byte
		ad     []byte
		want   string
	}{
		{"ciphertext bit", s, flip(len(sealed) - 20), ad, "authentication failed"},
		{"tag bit", s, flip(len(sealed) - 1), ad, "authentication failed"},
		{"nonce bit", s, flip(sealHeaderSize), ad, "authentication failed"},
		{"key id byte", s, flip(1), ad, "another master key"},
		{"wrong associated data", s, sealed, []byte("key-2"), "authentication failed"},
		{"missing associated data", s, sealed, nil, "authentication failed"},
		{"wrong master key", other, sealed, ad, "another master key"},
		{"truncated to header", s, sealed[:sealHeaderSize], ad, "truncated"},
		{"truncated tag", s, sealed[:len(sealed)-1], ad, "authentication failed"},
		{"truncated below overhead", s, sealed[:sealOverhead-1], ad, "truncated"},
		{"empty", s, nil, ad, "too short"},
		{"unknown version", s, withVersion(2), ad, "unsupported format version 2"},
		{"version zero", s, withVersion(0), ad, "unsupported format version 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sealer.Open(tt.sealed, tt.ad)
			if err == nil {
				t.Fatalf("Open succeeded with %q", got)
			}
			if got != nil {
				t.Errorf("Open returned plaintext %q with the error", got)
			}
			if !errors.Is(err, ErrOpen) {
				t.Errorf("error %v does not match ErrOpen", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

// A master key whose id byte collides with the sealer's still fails
// authentication rather than opening.
func TestOpenOtherKeySameID(t *testing.T) {
	s := testSealer(t, 1)
	var other *Sealer
	for i := 0; other == nil; i++ {
		key := make([]byte, MasterKeySize)
		key[0], key[1] = byte(i), byte(i>>8)
		if masterKeyID(key) == s.KeyID() && !bytes.Equal(key, testMasterKey(t, 1)) {
			other, _ = NewSealer(key)
		}
	}
	sealed, _ := s.Seal([]byte("x"), nil)
	if got, err := other.Open(sealed, nil); err == nil || got != nil {
		t.Fatalf("Open with a colliding key id = %q, %v; want an error", got, err)
	}
}

func TestSealString(t *testing.T) {
	s := testSealer(t, 1)
	text, err := s.SealString("client-secret", "integration:5:client_secret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, "v1:") || strings.ContainsAny(text[3:], "+/=") {
		t.Errorf("SealString = %q, want v1: and unpadded base64url", text)
	}
	if !IsSealedString(text) {
		t.Error("IsSealedString(sealed) = false")
	}
	got, err := s.OpenString(text, "integration:5:client_secret")
	if err != nil || got != "client-secret" {
		t.Fatalf("OpenString = %q, %v", got, err)
	}

	for _, tt := range []struct {
		name, text, ad, want string
	}{
		{"wrong ad", text, "integration:6:client_secret", "authentication failed"},
		{"plaintext", "client-secret", "x", "not a sealed string"},
		{"bad base64", "v1:!!!", "x", "not base64url"},
		{"empty body", "v1:", "x", "too short"},
		{"tampered", text[:len(text)-2] + flipChar(text[len(text)-2]) + text[len(text)-1:], "integration:5:client_secret", "authentication failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.OpenString(tt.text, tt.ad)
			if err == nil || got != "" {
				t.Fatalf("OpenString = %q, %v; want an error", got, err)
			}
			if !errors.Is(err, ErrOpen) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want ErrOpen mentioning %q", err, tt.want)
			}
		})
	}

	for _, tt := range []struct {
		in   string
		want bool
	}{
		{text, true},
		{"", false},
		{"secret", false},
		{"v1:", false},
		{"v1:abc", false},
		{"v2:" + text[3:], false},
		{"v1:" + base64.RawURLEncoding.EncodeToString(append([]byte{9}, make([]byte, 40)...)), false},
	} {
		if got := IsSealedString(tt.in); got != tt.want {
			t.Errorf("IsSealedString(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func flipChar(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestLoadMasterKey(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	std := base64.StdEncoding.EncodeToString(key)
	url := base64.RawURLEncoding.EncodeToString(key)
	good := write("good", "  "+std+"\n")
	short := write("short", base64.StdEncoding.EncodeToString(key[:16]))
	bad := write("bad", "not base64 at all!\n")
	empty := write("empty", " \n")
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name, file, env string
		want            []string // error substrings; nil = success
	}{
		{"file std", good, "", nil},
		{"env std", "", std, nil},
		{"env url raw", "", url, nil},
		{"env padded url", "", base64.URLEncoding.EncodeToString(key), nil},
		{"env whitespace", "", "\t" + std + " \n", nil},
		{"file short", short, "", []string{"keys.master_key_file " + short, "16 bytes", "want 32"}},
		{"file bad base64", bad, "", []string{"keys.master_key_file " + bad, "not valid base64"}},
		{"file empty", empty, "", []string{"keys.master_key_file " + empty, "empty"}},
		{"file missing", missing, "", []string{"keys.master_key_file " + missing, "no such file"}},
		{"env short", "", base64.StdEncoding.EncodeToString(key[:31]), []string{"environment", "31 bytes"}},
		{"env long", "", base64.StdEncoding.EncodeToString(append(key, 1)), []string{"environment", "33 bytes"}},
		{"env bad", "", "%%%%", []string{"environment", "not valid base64"}},
		{"both", good, std, []string{"only one"}},
		{"neither", "", "", []string{"no master key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadMasterKey(tt.file, tt.env)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, key) {
					t.Errorf("key = %x, want %x", got, key)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadMasterKey succeeded, want error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), std) || strings.Contains(err.Error(), url) {
				t.Errorf("error %q reveals key material", err)
			}
		})
	}
}

func TestGenerateMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	key, err := GenerateMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 || bytes.Equal(key, make([]byte, 32)) {
		t.Fatalf("key = %x", key)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %o, want 600", mode)
	}
	loaded, err := LoadMasterKey(path, "")
	if err != nil || !bytes.Equal(loaded, key) {
		t.Fatalf("LoadMasterKey = %x, %v; want %x", loaded, err, key)
	}

	_, err = GenerateMasterKeyFile(path)
	if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), path) {
		t.Fatalf("second GenerateMasterKeyFile error = %v, want already exists", err)
	}
	again, err := LoadMasterKey(path, "")
	if err != nil || !bytes.Equal(again, key) {
		t.Fatal("existing key was changed")
	}
}

func FuzzOpen(f *testing.F) {
	s := testSealer(f, 1)
	sealed, _ := s.Seal([]byte("secret"), []byte("ad"))
	text, _ := s.SealString("secret", "ad")
	f.Add(sealed, []byte("ad"), text)
	f.Add([]byte{}, []byte{}, "")
	f.Add([]byte{1}, []byte("ad"), "v1:")
	f.Add(sealed[:sealOverhead], []byte(nil), "v1:AQ")
	f.Add([]byte{2, 0, 0}, []byte("x"), "v2:"+text[3:])
	f.Fuzz(func(t *testing.T, data, ad []byte, str string) {
		got, err := s.Open(data, ad)
		if err != nil {
			if got != nil {
				t.Fatalf("Open returned %q with error %v", got, err)
			}
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("error %v does not match ErrOpen", err)
			}
		} else if string(got) != "secret" || string(ad) != "ad" {
			// Seeds may come from another process (another nonce), so
			// compare what was sealed, not the bytes.
			t.Fatalf("Open accepted a value it did not seal: %x", data)
		}
		gotStr, err := s.OpenString(str, string(ad))
		if err != nil {
			if gotStr != "" {
				t.Fatalf("OpenString returned %q with error %v", gotStr, err)
			}
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("error %v does not match ErrOpen", err)
			}
		} else if gotStr != "secret" {
			t.Fatalf("OpenString accepted %q", str)
		}
		_ = IsSealedString(str)
	})
}
