package storeutil

import (
	"crypto/sha256"
	"encoding/hex"
)

// ReplayKey is how a single-use value is kept in the replay records: its
// SHA-256, in hex. Values come from outside (SAML request IDs, JWT ids,
// nonces): hashing gives them a fixed size and keeps bytes that a database
// text column refuses (NUL, invalid UTF-8) from turning a replay check into
// an error.
func ReplayKey(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}
