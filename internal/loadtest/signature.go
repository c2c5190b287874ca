package loadtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"time"
)

// signatureCost measures what one RSA-2048 PKCS#1 v1.5 signature over
// SHA-256 (RS256, and the SAML signatures) costs in this binary on this
// machine now. The broker's CPU per login is only comparable across
// machines, builds (Go's crypto or BoringCrypto) and neighbours' load as a
// multiple of it: the signatures are the part no implementation avoids.
func signatureCost(rounds int) (time.Duration, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return 0, fmt.Errorf("signature baseline: %w", err)
	}
	digest := sha256.Sum256([]byte("mpassid loadtest signature baseline"))
	if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil { // warm up
		return 0, fmt.Errorf("signature baseline: %w", err)
	}
	start := selfCPU()
	for range rounds {
		if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
			return 0, fmt.Errorf("signature baseline: %w", err)
		}
	}
	return (selfCPU() - start) / time.Duration(rounds), nil
}
