package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeySize is the length of a master key: AES-256.
const MasterKeySize = 32

// Binary sealed format, version 1:
//
//	[0]     version (1)
//	[1]     master key id (see Sealer.KeyID)
//	[2:14]  random 96-bit GCM nonce
//	[14:]   AES-256-GCM ciphertext and 16-byte tag
//
// The two header bytes are authenticated together with the caller's
// associated data, so neither can be altered without Open failing.
const (
	sealVersion1   byte = 1
	sealHeaderSize      = 2
	sealNonceSize       = 12
	sealTagSize         = 16
	sealOverhead        = sealHeaderSize + sealNonceSize + sealTagSize

	// sealedStringPrefix starts the text form of a version 1 sealed value.
	sealedStringPrefix = "v1:"
)

// ErrOpen is matched (errors.Is) by every error of Open and OpenString: the
// value is malformed, of an unknown version, sealed with another master key,
// tampered with, or bound to other associated data.
var ErrOpen = errors.New("cannot open sealed value")

// Sealer encrypts secrets at rest (signing keys, integration secrets) with
// AES-256-GCM under a master key. It is safe for concurrent use.
type Sealer struct {
	aead  cipher.AEAD
	keyID byte
}

// NewSealer returns a Sealer for a 32-byte master key.
func NewSealer(masterKey []byte) (*Sealer, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("keys: master key must be %d bytes, got %d", MasterKeySize, len(masterKey))
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("keys: master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: master key: %w", err)
	}
	return &Sealer{aead: aead, keyID: masterKeyID(masterKey)}, nil
}

// masterKeyID derives the one-byte key id written into every sealed value.
// It lets Open tell "sealed with another master key" from tampering, and a
// future key ring pick the right key after a master-key rotation. It is a
// hint, not a secret: 8 bits of a hash reveal nothing useful about a 256-bit
// key. Two keys share an id with probability 1/256; GCM authentication still
// tells them apart.
func masterKeyID(masterKey []byte) byte {
	h := sha256.New()
	h.Write([]byte("mpassid master key id\x00"))
	h.Write(masterKey)
	return h.Sum(nil)[0]
}

// KeyID is the id byte this Sealer writes into sealed values.
func (s *Sealer) KeyID() byte { return s.keyID }

// additionalData binds the header to the caller's associated data. The
// header has a fixed length, so the concatenation is unambiguous.
func additionalData(header, ad []byte) []byte {
	out := make([]byte, 0, len(header)+len(ad))
	out = append(out, header...)
	return append(out, ad...)
}

// Seal encrypts plaintext and binds it to associatedData (for example the id
// of the record holding it, so a sealed value cannot be moved to another
// record). The same associated data must be given to Open.
func (s *Sealer) Seal(plaintext, associatedData []byte) ([]byte, error) {
	out := make([]byte, sealHeaderSize+sealNonceSize, sealOverhead+len(plaintext))
	out[0] = sealVersion1
	out[1] = s.keyID
	nonce := out[sealHeaderSize : sealHeaderSize+sealNonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keys: seal: nonce: %w", err)
	}
	return s.aead.Seal(out, nonce, plaintext, additionalData(out[:sealHeaderSize], associatedData)), nil
}

// Open decrypts a value made by Seal. Any error matches ErrOpen, and then no
// plaintext is returned.
func (s *Sealer) Open(sealed, associatedData []byte) ([]byte, error) {
	if len(sealed) < sealHeaderSize {
		return nil, fmt.Errorf("keys: %w: too short (%d bytes)", ErrOpen, len(sealed))
	}
	if sealed[0] != sealVersion1 {
		return nil, fmt.Errorf("keys: %w: unsupported format version %d", ErrOpen, sealed[0])
	}
	if len(sealed) < sealOverhead {
		return nil, fmt.Errorf("keys: %w: truncated (%d bytes, at least %d needed)", ErrOpen, len(sealed), sealOverhead)
	}
	if sealed[1] != s.keyID {
		return nil, fmt.Errorf("keys: %w: sealed with another master key (key id %02x, this master key has %02x)", ErrOpen, sealed[1], s.keyID)
	}
	nonce := sealed[sealHeaderSize : sealHeaderSize+sealNonceSize]
	ciphertext := sealed[sealHeaderSize+sealNonceSize:]
	plaintext, err := s.aead.Open(nil, nonce, ciphertext, additionalData(sealed[:sealHeaderSize], associatedData))
	if err != nil {
		return nil, fmt.Errorf("keys: %w: authentication failed (tampered, wrong master key or wrong associated data)", ErrOpen)
	}
	return plaintext, nil
}

// SealString seals s bound to ad and returns the text form "v1:" followed
// by the unpadded base64url of the sealed bytes, for secrets stored in JSON.
func (s *Sealer) SealString(plaintext, ad string) (string, error) {
	sealed, err := s.Seal([]byte(plaintext), []byte(ad))
	if err != nil {
		return "", err
	}
	return sealedStringPrefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// OpenString opens the text form made by SealString. Any error matches
// ErrOpen.
func (s *Sealer) OpenString(sealed, ad string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, sealedStringPrefix)
	if !ok {
		return "", fmt.Errorf("keys: %w: not a sealed string (missing %q prefix)", ErrOpen, sealedStringPrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("keys: %w: sealed string is not base64url: %v", ErrOpen, err)
	}
	plaintext, err := s.Open(raw, []byte(ad))
	if err != nil {
		return "", err
	}
	return string(plaintext), nil
}

// IsSealedString reports whether s looks like the text form of a sealed
// value (prefix, base64url, version and length). It does not authenticate:
// use it to tell sealed secrets from plaintext ones in stored configuration.
func IsSealedString(s string) bool {
	rest, ok := strings.CutPrefix(s, sealedStringPrefix)
	if !ok {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil && len(raw) >= sealOverhead && raw[0] == sealVersion1
}

// LoadMasterKey reads the master key: 32 bytes written as base64 (standard
// or URL alphabet, padded or not, surrounding whitespace ignored), either in
// the file named by file (configuration keys.master_key_file) or given
// directly as env, the value of an environment variable. Exactly one of the
// two must be non-empty. Errors name the source but never include the key.
func LoadMasterKey(file string, env string) ([]byte, error) {
	switch {
	case file != "" && env != "":
		return nil, errors.New("keys: master key given both as keys.master_key_file and in the environment; give only one")
	case file != "":
		source := "keys.master_key_file " + file
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		key, err := decodeMasterKey(string(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		return key, nil
	case env != "":
		key, err := decodeMasterKey(env)
		if err != nil {
			return nil, fmt.Errorf("master key from environment: %w", err)
		}
		return key, nil
	default:
		return nil, errors.New("keys: no master key: set keys.master_key_file or the master key environment variable")
	}
}

// decodeMasterKey decodes base64 text into a 32-byte key.
func decodeMasterKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("empty; want 32 random bytes as base64")
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.Strict().DecodeString(text)
		if err != nil {
			continue
		}
		if len(key) != MasterKeySize {
			return nil, fmt.Errorf("decodes to %d bytes; want %d (e.g. openssl rand -base64 32)", len(key), MasterKeySize)
		}
		return key, nil
	}
	return nil, errors.New("not valid base64; want 32 random bytes as base64 (e.g. openssl rand -base64 32)")
}

// GenerateMasterKeyFile creates a new random master key and writes it as
// base64 to path with mode 0600, creating missing parent directories with
// mode 0700. It fails if path already exists, so an existing key (and with
// it every sealed secret) is never overwritten.
func GenerateMasterKeyFile(path string) ([]byte, error) {
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("keys: generate master key: %w", err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("keys.master_key_file %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("keys.master_key_file %s: already exists; refusing to overwrite a master key", path)
		}
		return nil, fmt.Errorf("keys.master_key_file %s: %w", path, err)
	}
	text := base64.StdEncoding.EncodeToString(key) + "\n"
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("keys.master_key_file %s: write: %w", path, err)
	}
	return key, nil
}

// LoadSealer loads the master key from a file or an environment value (see
// LoadMasterKey) and builds the Sealer every secret at rest goes through.
func LoadSealer(file, env string) (*Sealer, error) {
	masterKey, err := LoadMasterKey(file, env)
	if err != nil {
		return nil, fmt.Errorf("load master key: %w", err)
	}
	s, err := NewSealer(masterKey)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return s, nil
}
