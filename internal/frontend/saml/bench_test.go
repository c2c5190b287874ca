package saml

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
)

// stubSigner stands in for the signing key where only the XML work is
// measured.
type stubSigner struct {
	pub crypto.PublicKey
	sig []byte
}

func (s stubSigner) Public() crypto.PublicKey { return s.pub }
func (s stubSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return s.sig, nil
}

// BenchmarkResponse measures building and signing a Response (plain and
// encrypted), next to the raw RSA-2048 signature rate of the same key in
// the same run: a plain Response costs one signature (two with
// WantResponseSigned), so the ratio shows the XML overhead. The -nosign
// cases replace the signature with a constant and so measure the XML work
// alone.
func BenchmarkResponse(b *testing.B) {
	env := newEnv(b)
	k, _ := env.ks.SAMLSigningKey()
	plain := newHandSP(b, env)
	enc := newSPKey(b)
	encSP := &model.SAMLMetadata{}
	*encSP = *plain.md
	encSP.EntityID = "https://enc.example.fi/sp"
	encSP.EncryptionCertificates = []string{enc.b64()}
	env.flow.addService(5000200, encSP)
	u := testUser()
	sess := broker.Session{ID: "s", AuthnInstant: time.Now(), Source: "ShibLdap"}

	digest := sha256.Sum256([]byte("x"))
	start := time.Now()
	const n = 50
	for i := 0; i < n; i++ {
		if _, err := k.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
	rawRate := float64(n) / time.Since(start).Seconds()

	signedSP := &model.SAMLMetadata{}
	*signedSP = *plain.md
	signedSP.EntityID = "https://signed.example.fi/sp"
	signedSP.WantResponseSigned = true
	env.flow.addService(5000201, signedSP)
	teacher := teacherUser(5)
	// nosign measures the XML work alone: the same key's public half, a
	// signature-sized constant for a signature.
	nosign := &keys.SigningKey{Signer: stubSigner{pub: k.Signer.Public(), sig: make([]byte, 256)}, Certificate: k.Certificate}

	for _, tc := range []struct {
		name string
		id   int64
		md   *model.SAMLMetadata
		u    *model.User
		k    *keys.SigningKey
	}{
		{"plain", plain.id, plain.md, u, k},
		{"encrypted", 5000200, encSP, u, k},
		{"teacher5", plain.id, plain.md, teacher, k},
		{"teacher5-response-signed", 5000201, signedSP, teacher, k},
		{"teacher5-nosign", plain.id, plain.md, teacher, nosign},
		{"teacher5-response-signed-nosign", 5000201, signedSP, teacher, nosign},
	} {
		b.Run(tc.name, func(b *testing.B) {
			svc, _ := env.flow.Catalog().Service(tc.id)
			st := ssoState{EntityID: tc.md.EntityID, RequestID: "_r", ACS: handACS}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := env.idp.buildResponse(tc.k, svc, st, tc.u, sess, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "responses/s")
			b.ReportMetric(rawRate, "rsa2048-signs/s")
		})
	}
	b.Run("rsa2048-sign", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := k.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signs/s")
	})
}
