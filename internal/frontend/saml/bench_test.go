package saml

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/model"
)

// BenchmarkResponse measures building and signing a Response (plain and
// encrypted), next to the raw RSA-2048 signature rate of the same key in
// the same run: a plain Response costs one signature (two with
// WantResponseSigned), so the ratio shows the XML overhead.
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

	for _, tc := range []struct {
		name string
		id   int64
		md   *model.SAMLMetadata
	}{{"plain", plain.id, plain.md}, {"encrypted", 5000200, encSP}} {
		b.Run(tc.name, func(b *testing.B) {
			svc, _ := env.flow.Catalog().Service(tc.id)
			st := ssoState{EntityID: tc.md.EntityID, RequestID: "_r", ACS: handACS}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := env.idp.buildResponse(k, svc, st, u, sess, time.Now()); err != nil {
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
