package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// These tests verify ID tokens built byte by byte (header, payload and
// signature encoded here, signatures made with crypto/rsa, crypto/ecdsa
// and crypto/ed25519) against a JWKS served over HTTP on 127.0.0.1, so
// that each case controls exactly what the verifier sees.

const (
	testIssuer = "https://op.example"
	testClient = "client"
	// testNowUnix is the verifiers' clock; the tokens' times are set
	// around it.
	testNowUnix = 1_700_000_000
)

func testNow() time.Time { return time.Unix(testNowUnix, 0) }

// testRSAKeyPEM is a fixed RSA key (PKCS #8, "TESTING KEY" so that it is
// not mistaken for a leaked secret). It is fixed rather than generated
// because the fuzzer's worker processes each run FuzzVerifyIDToken's setup
// anew: the valid tokens the coordinator seeded must verify in a worker
// too, so the keys that signed them must be the same in every process.
const testRSAKeyPEM = `-----BEGIN TESTING KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCocj805CbIQv/t
LNMItegc9E+SU+aI/9FBVFvDl6hGXpavcbcYHU+MDfPBFv0Zhcf3gJMcM4Ru27mC
s1EPYbWOMGCafO+xxpSijHgq0OIeGXQ8KZJf/s9+wT4/bu1GXPaTg4M2j9PJjdJX
QuNl0PFOASfyRIhTw43aFx1B0nF5ZFtzf/fbMzKz8gIuCBffmAsVdbHOktDIflla
r5Ixx2av7AJxoX1bsQB2wkRLwtZ/I6ZE6IwWbBfCMyp9k2W50IC3Kz7LQ0YOcm6J
plBhCTnvAN3US6E6MAah/jyX6qJjGUcWfVoPWlXr03JymseY461UZSt/Xx4wiBRF
UrQFN1pfAgMBAAECggEABA+dDn1hofpbiTBHdjJMgkYxlOmI6Uyhkt2hyLljSS8G
mvw22dH7FPlRIxqWx4K+K21iHo/vZWzOsCP6lFBavC7WZWMVtEeBVdnlG8MlcGxU
rQ6jhMTz465s/cKC3etn1m6ZPzuAc5+Drq7iJJZA+wx0Fhco4jwYs2VTQz77lV2Y
AGZvxKbOywlBPgQfffMM9vpl+xZNc/fThLGeQL7ZafPjYzL2XDqG55JsiJzmjfDD
PdKIQ4+nsJNjuncbvnbhLmKb6p0/cQ750Ta8+uU6QR76fBbVTFhYVQoGVAF890oi
XBV4CIXGiC1Da7GqSLll9Eflk4KjRiNX9TRUZhVaQQKBgQDaMlVBTcKagxG+4jzG
R6PkCmjF09TnygvC5SD1SjcxtonaXL4JP26MyvTdLiRcXipJYVGVM9LB4XZ3StC/
ZFSOpfjNQ3Yik+u0vPrNnwEv0bfUOE0V8yDd4NXx3LbFVjPuXDd9ori5zyEOWS4X
FfFI+Yc3y7LF1sS3OleRBiR7yQKBgQDFoVbBt8wRFkvNdbMYOZErQExHxOdNFOyD
lHtXLLtHo5+CUMf7C+nNasbnmIah2csn+VZ23rk2u0vhj6CXLDqLdlW3U8O7aKLG
uxTLuotq8vV/ERZMi33f8WITUEuvjql0PJGrfnwsUoW8u+wLgbO9hVd+fdic7HVA
cAnIhPJo5wKBgQCKKXjmgvCImhnwfpzxCIf0a8rwCTQ1GTDdVezKpRXR+r3LcRI8
FNhRemoWa5NGkbHBCUh5a3k2nyc+XjdUGZmZQesLPn5dYsDLjyZYcSh1ORxn2sak
8XCMTkPqhFGPHwh/FBFnElRaA5fw1/NhVtmT1b0TTX6D23xwcRblk7giUQKBgE6x
n8ojVa64Ihb99wJ+ab+/KqCpVzDqVANQ7IwZ07kC/lD1uavNYpvZGLq/kVyBTNPu
BO/wX+/bRKvcdSW9BtLhm+AUCqxlTeu0MuOstDcx529hbm+sW8MAav0ly/1r4S3X
sGmJRAiiE37DlYo/a0LcBarokYhq34V5F2wxBBWhAoGAJt7+Tfb/JBMpqxw2Nkbd
NLx2bAne/QxsFp4virWYM1erLKhwXsBl4SFzE+d7DrVNpkbhnogdvrLrQ/BMI7dm
cpEwYWudJ8AT3wF99UU3j3Io9M3Hjr2mYvR5O6rMfRbaJXWhiX/vJ1NsTAPWbFrf
pHH6lkjLLB4wDbyEo7iXdgY=
-----END TESTING KEY-----`

// testKeySet holds the signing keys of the tests. rsa, p256 and ed are
// fixed (see testRSAKeyPEM); the others are generated, once per test
// binary since RSA key generation is slow.
type testKeySet struct {
	rsa      *rsa.PrivateKey // kid "rsa" in the default JWKS
	rsaB     *rsa.PrivateKey // the key the OP rotates to
	rsaOther *rsa.PrivateKey // never in a JWKS: a forger's key
	p256     *ecdsa.PrivateKey
	p384     *ecdsa.PrivateKey
	p521     *ecdsa.PrivateKey
	ed       ed25519.PrivateKey
}

var testKeys = sync.OnceValue(func() *testKeySet {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	k := &testKeySet{}
	block, _ := pem.Decode([]byte(strings.ReplaceAll(testRSAKeyPEM, "TESTING KEY", "PRIVATE KEY")))
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	must(err)
	k.rsa = parsed.(*rsa.PrivateKey)
	k.rsaB, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.rsaOther, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	// A P-256 scalar derived from a fixed string: any 32 bytes below the
	// group order will do, and a hash is that with overwhelming odds.
	d := sha256.Sum256([]byte("mpassid idtoken test P-256 key"))
	k.p256, err = ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	must(err)
	k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	k.p521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	must(err)
	seed := sha256.Sum256([]byte("mpassid idtoken test Ed25519 key"))
	k.ed = ed25519.NewKeyFromSeed(seed[:])
	return k
})

// pubJWK is the JWK of a signing key's public half.
func pubJWK(kid string, key crypto.Signer) jose.JSONWebKey {
	return jose.JSONWebKey{Key: key.Public(), KeyID: kid}
}

// defaultJWKS is the JWKS most cases verify against: one key of each type
// and curve, one of them declaring "use":"sig".
func defaultJWKS() []jose.JSONWebKey {
	k := testKeys()
	rsaKey := pubJWK("rsa", k.rsa)
	rsaKey.Use = "sig"
	return []jose.JSONWebKey{rsaKey, pubJWK("p256", k.p256), pubJWK("p384", k.p384), pubJWK("p521", k.p521), pubJWK("ed", k.ed)}
}

// jwksServer serves a JWKS at /jwks and counts the requests for it.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64

	mu   sync.Mutex
	keys []jose.JSONWebKey
	// status and body, when body is set, are answered instead of the JWKS.
	status int
	body   []byte
}

func newJWKSServer(tb testing.TB, keys ...jose.JSONWebKey) *jwksServer {
	tb.Helper()
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/jwks" {
		http.NotFound(w, r)
		return
	}
	s.fetches.Add(1)
	s.mu.Lock()
	keys, status, body := s.keys, s.status, s.body
	s.mu.Unlock()
	if body != nil {
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	data, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		// The verifier then fails, and so does the test.
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

// setKeys makes the server serve keys (a key rotation).
func (s *jwksServer) setKeys(keys ...jose.JSONWebKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys, s.body = keys, nil
}

// answer makes the server answer status and body instead of the JWKS.
func (s *jwksServer) answer(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, []byte(body)
}

// newTestVerifier returns a verifier of testIssuer's tokens for testClient
// with its own (empty) key set, so that each case fetches for itself.
func newTestVerifier(srv *jwksServer, algs []string) *IDTokenVerifier {
	return &IDTokenVerifier{
		issuer:   testIssuer,
		clientID: testClient,
		algs:     algs,
		keys:     &keySet{url: srv.URL + "/jwks", client: srv.Client()},
		now:      testNow,
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// testHash is the hash of a JWS algorithm, by its name's digits: worked
// out here rather than with the package's hashOf so that a mistake there
// does not cancel out.
func testHash(tb testing.TB, alg string) crypto.Hash {
	tb.Helper()
	switch {
	case strings.HasSuffix(alg, "256"):
		return crypto.SHA256
	case strings.HasSuffix(alg, "384"):
		return crypto.SHA384
	case strings.HasSuffix(alg, "512"):
		return crypto.SHA512
	}
	tb.Fatalf("no hash for %q", alg)
	return 0
}

// sign makes the JWS signature of input with key as alg says, with the
// key as given even when it does not suit alg: ES256 with a P-384 key signs
// a SHA-256 digest with that key, r||s of 48 bytes each (the key's size);
// ES384 with a P-256 key signs a SHA-384 digest, r||s of 48 bytes each
// (the algorithm's size). A []byte key is an HMAC secret.
func sign(tb testing.TB, alg string, key any, input []byte) []byte {
	tb.Helper()
	if k, ok := key.(ed25519.PrivateKey); ok {
		return ed25519.Sign(k, input)
	}
	h := testHash(tb, alg)
	hw := h.New()
	hw.Write(input)
	digest := hw.Sum(nil)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		var sig []byte
		var err error
		if alg[0] == 'P' {
			sig, err = rsa.SignPSS(rand.Reader, k, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, h, digest)
		}
		if err != nil {
			tb.Fatal(err)
		}
		return sig
	case *ecdsa.PrivateKey:
		// RFC 7518 section 3.4: r and s, each padded to the curve's size.
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			tb.Fatal(err)
		}
		size := max((k.Curve.Params().BitSize+7)/8, ecSize(alg))
		sig := make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
		return sig
	case []byte:
		m := hmac.New(h.New, k)
		m.Write(input)
		return m.Sum(nil)
	}
	tb.Fatalf("cannot sign with %T", key)
	return nil
}

// ecSize is the size of r and of s in an ES* signature (RFC 7518 section
// 3.4).
func ecSize(alg string) int {
	switch alg {
	case "ES384":
		return 48
	case "ES512":
		return 66
	}
	return 32
}

// signToken returns the compact JWS of header and payload (JSON, or any
// text), signed with key as alg.
func signToken(tb testing.TB, header, payload, alg string, key any) string {
	tb.Helper()
	input := b64(header) + "." + b64(payload)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign(tb, alg, key, []byte(input)))
}

// header returns a JWS header naming alg and, unless empty, kid.
func header(tb testing.TB, alg, kid string) string {
	tb.Helper()
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return mustJSON(tb, h)
}

// padded returns s in base64url with "=" padding (RFC 7515 has none), made
// sure to be needed by white space added after the JSON.
func padded(s string) string {
	for len(s)%3 == 0 {
		s += " "
	}
	return base64.URLEncoding.EncodeToString([]byte(s))
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// absent, as a claim's value in claims' changes, removes the claim.
type absent struct{}

// claims returns an ID token payload valid for testIssuer and testClient
// at testNow, changed by changes (a json.Number is written as is, so that
// it can be a fraction).
func claims(tb testing.TB, changes map[string]any) string {
	tb.Helper()
	c := map[string]any{
		"iss":   testIssuer,
		"sub":   "user",
		"aud":   testClient,
		"iat":   testNowUnix,
		"exp":   testNowUnix + 3600,
		"nonce": "n",
	}
	for k, v := range changes {
		if v == (absent{}) {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return mustJSON(tb, c)
}

// keyFor returns the default JWKS's key and kid for alg.
func keyFor(alg string) (crypto.Signer, string) {
	k := testKeys()
	switch alg {
	case "ES256":
		return k.p256, "p256"
	case "ES384":
		return k.p384, "p384"
	case "ES512":
		return k.p521, "p521"
	case "EdDSA":
		return k.ed, "ed"
	}
	return k.rsa, "rsa"
}

// validToken returns a valid token of alg with the default JWKS's key, the
// claims changed by changes.
func validToken(tb testing.TB, alg string, changes map[string]any) string {
	tb.Helper()
	key, kid := keyFor(alg)
	return signToken(tb, header(tb, alg, kid), claims(tb, changes), alg, key)
}

// allAlgs are the algorithms the verifier must support, listed here rather
// than taken from supportedAlgs so that one dropped there is noticed.
var allAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

func TestVerifyIDTokenAccepts(t *testing.T) {
	type tc struct {
		name   string
		algs   []string          // announced; all when nil
		jwks   []jose.JSONWebKey // defaultJWKS when nil
		issuer string            // testIssuer when empty
		token  func(*testing.T) string
		alg    string // the algorithm the token is signed with
	}
	var cases []tc
	// Each algorithm verifies when it is the only one announced.
	for _, alg := range allAlgs {
		cases = append(cases, tc{
			name:  alg + " announced alone",
			algs:  []string{alg},
			token: func(t *testing.T) string { return validToken(t, alg, nil) },
			alg:   alg,
		})
	}
	cases = append(cases, []tc{
		{
			name: "no kid: any key of the JWKS may verify",
			token: func(t *testing.T) string {
				return signToken(t, header(t, "ES384", ""), claims(t, nil), "ES384", testKeys().p384)
			},
			alg: "ES384",
		},
		{
			name:  "key declaring use sig and the token's alg",
			jwks:  []jose.JSONWebKey{{Key: testKeys().rsa.Public(), KeyID: "rsa", Use: "sig", Algorithm: "RS256"}},
			token: func(t *testing.T) string { return validToken(t, "RS256", nil) },
			alg:   "RS256",
		},
		{
			name: "aud an array naming the client among others",
			token: func(t *testing.T) string {
				return validToken(t, "RS256", map[string]any{"aud": []string{"other", testClient}})
			},
			alg: "RS256",
		},
		{
			name: "azp the client",
			token: func(t *testing.T) string {
				return validToken(t, "RS256", map[string]any{"aud": []string{testClient, "other"}, "azp": testClient})
			},
			alg: "RS256",
		},
		{
			name: "exp a fraction",
			token: func(t *testing.T) string {
				return validToken(t, "RS256", map[string]any{"exp": json.Number("1700003600.25")})
			},
			alg: "RS256",
		},
		{
			name: "exp in exponent notation",
			token: func(t *testing.T) string {
				return validToken(t, "RS256", map[string]any{"exp": json.Number("1.7000036e9")})
			},
			alg: "RS256",
		},
		{
			name:  "nbf in the past",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"nbf": testNowUnix - 60}) },
			alg:   "RS256",
		},
		{
			name:  "nbf 4m59s ahead (clock skew)",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"nbf": testNowUnix + 299}) },
			alg:   "RS256",
		},
		{
			name:  "nbf exactly 5 minutes ahead",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"nbf": testNowUnix + 300}) },
			alg:   "RS256",
		},
		{
			name:   "Google issuer, iss without the scheme",
			issuer: GoogleIssuer,
			token: func(t *testing.T) string {
				return validToken(t, "RS256", map[string]any{"iss": "accounts.google.com"})
			},
			alg: "RS256",
		},
		{
			name:   "Google issuer, iss with the scheme",
			issuer: GoogleIssuer,
			token:  func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"iss": GoogleIssuer}) },
			alg:    "RS256",
		},
	}...)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jwks := c.jwks
			if jwks == nil {
				jwks = defaultJWKS()
			}
			algs := c.algs
			if algs == nil {
				algs = allAlgs
			}
			v := newTestVerifier(newJWKSServer(t, jwks...), algs)
			if c.issuer != "" {
				v.issuer = c.issuer
			}
			tok, err := v.Verify(context.Background(), c.token(t))
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if tok.Alg != c.alg {
				t.Errorf("alg = %q, want %q", tok.Alg, c.alg)
			}
			if got := tok.Claim("sub"); got != "user" {
				t.Errorf(`str("sub") = %q, want "user"`, got)
			}
			// Numbers are json.Number, as the connector's claim mapping
			// expects.
			if _, ok := tok.Claims["exp"].(json.Number); !ok {
				t.Errorf("exp is %T, want json.Number", tok.Claims["exp"])
			}
		})
	}
}

func TestVerifyIDTokenRejects(t *testing.T) {
	k := testKeys()
	rsaPub := k.rsa.Public().(*rsa.PublicKey)
	cases := []struct {
		name   string
		algs   []string          // announced; all when nil
		jwks   []jose.JSONWebKey // defaultJWKS when nil
		issuer string            // testIssuer when empty
		token  func(*testing.T) string
		// want is a fragment of the error, so that a case fails if the
		// token is refused for another reason than the one it tests.
		want    string
		expired bool
	}{
		// The form of the JWS.
		{
			name:  "empty",
			token: func(*testing.T) string { return "" },
			want:  "compact serialization",
		},
		{
			name: "two parts",
			token: func(t *testing.T) string {
				return b64(header(t, "RS256", "rsa")) + "." + b64(claims(t, nil))
			},
			want: "compact serialization",
		},
		{
			name: "five parts (a JWE)",
			token: func(t *testing.T) string {
				return b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + "." + b64("key") + "." + b64("iv") + "." + b64("ciphertext") + "." + b64("tag")
			},
			want: "encrypted",
		},
		{
			name:  "four parts",
			token: func(t *testing.T) string { return validToken(t, "RS256", nil) + ".x" },
			want:  "encrypted",
		},
		{
			name: "header not base64url",
			token: func(t *testing.T) string {
				_, rest, _ := strings.Cut(validToken(t, "RS256", nil), ".")
				return "eyJ*bGci." + rest
			},
			want: "header",
		},
		{
			name: "header in padded base64",
			token: func(t *testing.T) string {
				input := padded(header(t, "RS256", "rsa")) + "." + b64(claims(t, nil))
				return input + "." + base64.RawURLEncoding.EncodeToString(sign(t, "RS256", k.rsa, []byte(input)))
			},
			want: "header",
		},
		{
			name: "header not JSON",
			token: func(t *testing.T) string {
				return signToken(t, "not JSON", claims(t, nil), "RS256", k.rsa)
			},
			want: "header",
		},
		{
			name: "header a JSON array",
			token: func(t *testing.T) string {
				return signToken(t, `["RS256"]`, claims(t, nil), "RS256", k.rsa)
			},
			want: "header",
		},
		{
			name: "payload not base64url (the signature over it valid)",
			token: func(t *testing.T) string {
				input := b64(header(t, "RS256", "rsa")) + ".eyJ*c3Vi"
				return input + "." + base64.RawURLEncoding.EncodeToString(sign(t, "RS256", k.rsa, []byte(input)))
			},
			want: "payload",
		},
		{
			name: "payload in padded base64 (the signature over it valid)",
			token: func(t *testing.T) string {
				input := b64(header(t, "RS256", "rsa")) + "." + padded(claims(t, nil))
				return input + "." + base64.RawURLEncoding.EncodeToString(sign(t, "RS256", k.rsa, []byte(input)))
			},
			want: "payload",
		},
		{
			name: "signature not base64url",
			token: func(t *testing.T) string {
				return b64(header(t, "RS256", "rsa")) + "." + b64(claims(t, nil)) + ".c2ln*"
			},
			want: "signature",
		},
		{
			name: "header with crit",
			token: func(t *testing.T) string {
				h := `{"alg":"RS256","kid":"rsa","crit":["exp"],"exp":1700003600}`
				return signToken(t, h, claims(t, nil), "RS256", k.rsa)
			},
			want: "critical",
		},

		// The algorithm.
		{
			name: "alg none, empty signature",
			token: func(t *testing.T) string {
				return b64(`{"alg":"none"}`) + "." + b64(claims(t, nil)) + "."
			},
			want: "announced",
		},
		{
			// Even if "none" got among the announced algorithms, no key
			// verifies it.
			name: "alg none, empty signature, none announced",
			algs: append(slices.Clone(allAlgs), "none"),
			token: func(t *testing.T) string {
				return b64(`{"alg":"none"}`) + "." + b64(claims(t, nil)) + "."
			},
			want: "verifies the signature",
		},
		{
			// Algorithm confusion: the RSA public key, as PEM, used as
			// an HMAC secret.
			name:  "HS256 with the RSA public key as the HMAC secret",
			token: func(t *testing.T) string { return hs256WithPublicKey(t, rsaPub) },
			want:  "announced",
		},
		{
			name:  "HS256 with the RSA public key as the HMAC secret, HS256 announced",
			algs:  []string{"RS256", "HS256"},
			token: func(t *testing.T) string { return hs256WithPublicKey(t, rsaPub) },
			want:  "verifies the signature",
		},
		{
			name:  "RS384 when only RS256 is announced (the key could verify it)",
			algs:  []string{"RS256"},
			token: func(t *testing.T) string { return validToken(t, "RS384", nil) },
			want:  "announced",
		},
		{
			name:  "ES256 when only RS256 is announced",
			algs:  []string{"RS256"},
			token: func(t *testing.T) string { return validToken(t, "ES256", nil) },
			want:  "announced",
		},
		{
			name: "alg in lower case",
			token: func(t *testing.T) string {
				return signToken(t, header(t, "rs256", "rsa"), claims(t, nil), "RS256", k.rsa)
			},
			want: "announced",
		},

		// The key.
		{
			name: "signed by a key not in the JWKS, with a JWKS key's kid",
			token: func(t *testing.T) string {
				return signToken(t, header(t, "RS256", "rsa"), claims(t, nil), "RS256", k.rsaOther)
			},
			want: "verifies the signature",
		},
		{
			name: "signed by a key not in the JWKS, no kid",
			token: func(t *testing.T) string {
				return signToken(t, header(t, "RS256", ""), claims(t, nil), "RS256", k.rsaOther)
			},
			want: "verifies the signature",
		},
		{
			name: "kid naming no key",
			token: func(t *testing.T) string {
				return signToken(t, header(t, "RS256", "nope"), claims(t, nil), "RS256", k.rsa)
			},
			want: `no key "nope"`,
		},
		{
			name:  `the key declares "use":"enc"`,
			jwks:  []jose.JSONWebKey{{Key: rsaPub, KeyID: "rsa", Use: "enc"}},
			token: func(t *testing.T) string { return validToken(t, "RS256", nil) },
			want:  "verifies the signature",
		},
		{
			name:  "the key declares another alg",
			jwks:  []jose.JSONWebKey{{Key: rsaPub, KeyID: "rsa", Algorithm: "RS512"}},
			token: func(t *testing.T) string { return validToken(t, "RS256", nil) },
			want:  "verifies the signature",
		},
		{
			// A valid ECDSA signature over the SHA-256 digest, but by a
			// P-384 key: ES256 is P-256 only.
			name: "ES256 by a P-384 key",
			token: func(t *testing.T) string {
				return signToken(t, header(t, "ES256", "p384"), claims(t, nil), "ES256", k.p384)
			},
			want: "verifies the signature",
		},
		{
			// Here r||s is the size ES384 wants, and ecdsa.Verify would
			// accept the signature with the P-256 key (it truncates the
			// digest): only the check of the key's curve refuses it.
			name: "ES384 by a P-256 key, r and s padded to 48 bytes",
			token: func(t *testing.T) string {
				return signToken(t, header(t, "ES384", "p256"), claims(t, nil), "ES384", k.p256)
			},
			want: "verifies the signature",
		},
		{
			// A valid signature with s given one more (zero) byte: the
			// same numbers, but not the fixed-size encoding RFC 7518
			// requires.
			name: "ES256 signature of 65 bytes, s zero-padded",
			token: func(t *testing.T) string {
				tok := validToken(t, "ES256", nil)
				i := strings.LastIndex(tok, ".")
				sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
				if err != nil {
					t.Fatal(err)
				}
				long := slices.Concat(sig[:32], []byte{0}, sig[32:])
				return tok[:i+1] + base64.RawURLEncoding.EncodeToString(long)
			},
			want: "verifies the signature",
		},
		{
			name: "ES256 signature DER-encoded instead of r||s",
			token: func(t *testing.T) string {
				input := b64(header(t, "ES256", "p256")) + "." + b64(claims(t, nil))
				digest := sha256.Sum256([]byte(input))
				der, err := ecdsa.SignASN1(rand.Reader, k.p256, digest[:])
				if err != nil {
					t.Fatal(err)
				}
				if len(der) == 64 { // (odds about 2^-60) would test nothing
					t.Skip("DER signature happens to be 64 bytes")
				}
				return input + "." + base64.RawURLEncoding.EncodeToString(der)
			},
			want: "verifies the signature",
		},
		{
			name: "RS256 signature by the ECDSA key's kid",
			token: func(t *testing.T) string {
				return signToken(t, header(t, "RS256", "p256"), claims(t, nil), "RS256", k.rsa)
			},
			want: "verifies the signature",
		},
		{
			name: "payload changed after signing",
			token: func(t *testing.T) string {
				parts := strings.Split(validToken(t, "RS256", nil), ".")
				parts[1] = b64(claims(t, map[string]any{"sub": "admin"}))
				return strings.Join(parts, ".")
			},
			want: "verifies the signature",
		},
		{
			name: "header changed after signing (kid removed)",
			token: func(t *testing.T) string {
				parts := strings.Split(validToken(t, "ES256", nil), ".")
				parts[0] = b64(header(t, "ES256", ""))
				return strings.Join(parts, ".")
			},
			want: "verifies the signature",
		},
		{
			name: "EdDSA signature truncated",
			token: func(t *testing.T) string {
				tok := validToken(t, "EdDSA", nil)
				return tok[:len(tok)-4]
			},
			want: "verifies the signature",
		},

		// The claims.
		{
			name: "iss another issuer",
			token: func(t *testing.T) string {
				return validToken(t, "RS256", map[string]any{"iss": "https://evil.example"})
			},
			want: "issued by",
		},
		{
			name:  "iss without the scheme (only Google's may)",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"iss": "op.example"}) },
			want:  "issued by",
		},
		{
			name:   "Google issuer, iss another host without the scheme",
			issuer: GoogleIssuer,
			token:  func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"iss": "evil.example"}) },
			want:   "issued by",
		},
		{
			name:  "iss missing",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"iss": absent{}}) },
			want:  "issued by",
		},
		{
			name:  "aud another client",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"aud": "other"}) },
			want:  "audience",
		},
		{
			name:  "aud an array without the client",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"aud": []string{"a", "b"}}) },
			want:  "audience",
		},
		{
			name:  "aud a number",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"aud": 42}) },
			want:  "audience",
		},
		{
			name:  "aud missing",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"aud": absent{}}) },
			want:  "audience",
		},
		{
			name: "azp another client",
			token: func(t *testing.T) string {
				return validToken(t, "RS256", map[string]any{"aud": []string{testClient, "other"}, "azp": "other"})
			},
			want: "authorized party",
		},
		{
			name:  "exp missing",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"exp": absent{}}) },
			want:  "exp",
		},
		{
			name:  "exp a string",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"exp": "1700003600"}) },
			want:  "exp",
		},
		{
			name:    "exp a second ago",
			token:   func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"exp": testNowUnix - 1}) },
			want:    "expired",
			expired: true,
		},
		{
			name: "exp a fraction in the past",
			token: func(t *testing.T) string {
				return validToken(t, "ES256", map[string]any{"exp": json.Number("1699999998.75")})
			},
			want:    "expired",
			expired: true,
		},
		{
			name:  "nbf 5m01s ahead",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"nbf": testNowUnix + 301}) },
			want:  "not valid before",
		},
		{
			name:  "nbf a string",
			token: func(t *testing.T) string { return validToken(t, "RS256", map[string]any{"nbf": "1700000000"}) },
			want:  "nbf",
		},
		{
			name:  "payload a JSON array",
			token: func(t *testing.T) string { return signToken(t, header(t, "RS256", "rsa"), `[1,2]`, "RS256", k.rsa) },
			want:  "not a JSON object",
		},
		{
			name:  "payload a JSON string",
			token: func(t *testing.T) string { return signToken(t, header(t, "RS256", "rsa"), `"claims"`, "RS256", k.rsa) },
			want:  "not a JSON object",
		},
		{
			name:  "payload null",
			token: func(t *testing.T) string { return signToken(t, header(t, "RS256", "rsa"), `null`, "RS256", k.rsa) },
			want:  "not a JSON object",
		},
		{
			name: "payload an object followed by text",
			token: func(t *testing.T) string {
				return signToken(t, header(t, "RS256", "rsa"), claims(t, nil)+` {"sub":"admin"}`, "RS256", k.rsa)
			},
			want: "followed by more text",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jwks := c.jwks
			if jwks == nil {
				jwks = defaultJWKS()
			}
			algs := c.algs
			if algs == nil {
				algs = allAlgs
			}
			v := newTestVerifier(newJWKSServer(t, jwks...), algs)
			if c.issuer != "" {
				v.issuer = c.issuer
			}
			tok, err := v.Verify(context.Background(), c.token(t))
			if err == nil {
				t.Fatalf("verified, claims %v", tok.Claims)
			}
			if tok != nil {
				t.Errorf("a token returned with the error %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want one about %q", err, c.want)
			}
			if got := errors.Is(err, errTokenExpired); got != c.expired {
				t.Errorf("errors.Is(%v, errTokenExpired) = %v, want %v", err, got, c.expired)
			}
		})
	}
}

// hs256WithPublicKey returns a token "signed" HS256 with the PEM of the
// RSA public key as the secret, the classic algorithm confusion attack on
// a verifier that lets the token choose how the key is used.
func hs256WithPublicKey(tb testing.TB, pub *rsa.PublicKey) string {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return signToken(tb, header(tb, "HS256", "rsa"), claims(tb, nil), "HS256", secret)
}

// The JWKS is fetched on first use, kept, and fetched again only when no
// cached key verifies a token: after a rotation, once.
func TestKeySetRotation(t *testing.T) {
	k := testKeys()
	srv := newJWKSServer(t, pubJWK("a", k.rsa))
	v := newTestVerifier(srv, []string{"RS256"})
	ctx := context.Background()
	tokenA := signToken(t, header(t, "RS256", "a"), claims(t, nil), "RS256", k.rsa)
	tokenB1 := signToken(t, header(t, "RS256", "b"), claims(t, map[string]any{"sub": "b1"}), "RS256", k.rsaB)
	tokenB2 := signToken(t, header(t, "RS256", "b"), claims(t, map[string]any{"sub": "b2"}), "RS256", k.rsaB)

	steps := []struct {
		name    string
		rotate  bool // the server serves {B} from this step on
		token   string
		ok      bool
		fetches int64 // in all, after the step
	}{
		{name: "first token, by A: the JWKS is fetched", token: tokenA, ok: true, fetches: 1},
		{name: "A again: from the cache", token: tokenA, ok: true, fetches: 1},
		{name: "after the rotation, a token by B: fetched once more", rotate: true, token: tokenB1, ok: true, fetches: 2},
		{name: "another token by B: from the cache", token: tokenB2, ok: true, fetches: 2},
		{name: "a token by A, no longer in the JWKS: refused after one fetch", token: tokenA, ok: false, fetches: 3},
		{name: "B still verifies from the cache", token: tokenB1, ok: true, fetches: 3},
	}
	for _, s := range steps {
		// Steps, not independent cases: each runs on the state the ones
		// before it left, so a failure stops the test.
		if s.rotate {
			srv.setKeys(pubJWK("b", k.rsaB))
		}
		_, err := v.Verify(ctx, s.token)
		if (err == nil) != s.ok {
			t.Fatalf("%s: verify error %v, want ok=%v", s.name, err, s.ok)
		}
		if got := srv.fetches.Load(); got != s.fetches {
			t.Fatalf("%s: %d JWKS fetches in all, want %d", s.name, got, s.fetches)
		}
	}
}

// Logins that miss the cache together fetch the JWKS once.
//
// Exactly one refetch is deterministic here, whatever the scheduling: each
// goroutine reads the cached keys and their generation (1) under the lock.
// One that reads them before the refetch completes misses, and fetch(gen
// 1) refetches only for the first of those to take the lock; the rest find
// generation 2 and take its keys. One that reads them after the refetch
// finds B's key cached and verifies without fetching. No order of events
// makes a second refetch. (With a kid that the new JWKS lacks too, each
// miss that starts after a fetch would fetch again: no such bound.)
//
// Which of those paths the goroutines take is up to the scheduler, so a
// verifier that did not share the refetch could pass by luck when the
// misses do not overlap. The second case widens the overlap: its token
// names no kid and the old JWKS holds several RSA keys, each tried (an RSA
// verification) before the refetch.
func TestKeySetConcurrentMissFetchesOnce(t *testing.T) {
	k := testKeys()
	var wide []jose.JSONWebKey
	for i, key := range []*rsa.PrivateKey{k.rsa, k.rsaOther, k.rsa, k.rsaOther, k.rsa, k.rsaOther, k.rsa, k.rsaOther} {
		wide = append(wide, pubJWK("old"+strconv.Itoa(i), key))
	}
	cases := []struct {
		name   string
		before []jose.JSONWebKey // the JWKS before the rotation
		kid    string            // of the token by B
	}{
		{"token with B's new kid", []jose.JSONWebKey{pubJWK("a", k.rsa)}, "b"},
		{"token without kid, eight cached keys tried first", wide, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newJWKSServer(t, c.before...)
			v := newTestVerifier(srv, []string{"RS256"})
			ctx := context.Background()
			if _, err := v.Verify(ctx, signToken(t, header(t, "RS256", ""), claims(t, nil), "RS256", k.rsa)); err != nil {
				t.Fatalf("token by the old key: %v", err)
			}
			srv.setKeys(pubJWK("b", k.rsaB))
			tokenB := signToken(t, header(t, "RS256", c.kid), claims(t, nil), "RS256", k.rsaB)

			const n = 16
			start := make(chan struct{})
			errs := make(chan error, n)
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					<-start
					_, err := v.Verify(ctx, tokenB)
					errs <- err
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("token by B: %v", err)
				}
			}
			if got := srv.fetches.Load(); got != 2 {
				t.Errorf("%d JWKS fetches in all, want 2 (the first, then one for the %d concurrent misses)", got, n)
			}
		})
	}
}

// A JWKS endpoint that fails is an error of the verification, not a panic,
// and does not stick: the next login fetches again.
func TestKeySetFetchFailure(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
	}{
		{"HTTP 500", http.StatusInternalServerError, "oops"},
		{"HTTP 500 with a JWKS", http.StatusInternalServerError, `{"keys":[]}`},
		{"HTTP 404", http.StatusNotFound, "not found"},
		{"not JSON", http.StatusOK, "<html>JWKS</html>"},
		{"empty", http.StatusOK, ""},
		{"keys not an array", http.StatusOK, `{"keys":"rsa"}`},
		{"a key without kty", http.StatusOK, `{"keys":[{"kid":"rsa","n":"AQAB","e":"AQAB"}]}`},
		{"over 1 MiB", http.StatusOK, `{"keys":[],"pad":"` + strings.Repeat("x", maxJWKS) + `"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newJWKSServer(t, defaultJWKS()...)
			srv.answer(c.status, c.body)
			v := newTestVerifier(srv, allAlgs)
			token := validToken(t, "RS256", nil)
			tok, err := v.Verify(context.Background(), token)
			if err == nil {
				t.Fatalf("verified with the JWKS answer %q, claims %v", c.body, tok.Claims)
			}
			if !strings.Contains(err.Error(), "JWKS") {
				t.Errorf("error %q does not say the JWKS failed", err)
			}
			srv.setKeys(defaultJWKS()...)
			if _, err := v.Verify(context.Background(), token); err != nil {
				t.Errorf("after the JWKS endpoint recovered: %v", err)
			}
			if got := srv.fetches.Load(); got != 2 {
				t.Errorf("%d fetches, want 2 (the failed one, then one more)", got)
			}
		})
	}
}

// The JWKS may hold keys the verifier has no use for, such as the OP's
// encryption keys; the verifier skips a key that is not for signing (see
// idtoken.go). RFC 7517 section 5: implementations SHOULD ignore JWKs
// whose kty or parameters they do not understand. So a key of a type
// go-jose cannot parse must not cost the OP its other keys. (go-oidc
// v3.21.0, which verified the tokens before, skips such keys: jwkJSON in
// its jwks.go, after go-oidc issue 490 about ES256K keys.)
func TestKeySetIgnoresKeysItCannotParse(t *testing.T) {
	cases := []struct {
		name string
		key  string // a JWK, added to the default JWKS
	}{
		{"an X25519 (ECDH-ES) encryption key", `{"kty":"OKP","crv":"X25519","use":"enc","kid":"enc","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}`},
		{"a key of an unknown kty", `{"kty":"XYZ","kid":"future"}`},
		{"an ES256K (secp256k1) key", `{"kty":"EC","crv":"secp256k1","alg":"ES256K","use":"sig","kid":"k1","x":"AA","y":"AA"}`},
		{"an Ed448 key", `{"kty":"OKP","crv":"Ed448","kid":"ed448","x":"AA"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keys := []json.RawMessage{json.RawMessage(c.key)}
			for _, k := range defaultJWKS() {
				keys = append(keys, json.RawMessage(mustJSON(t, k)))
			}
			srv := newJWKSServer(t)
			srv.answer(http.StatusOK, mustJSON(t, map[string]any{"keys": keys}))
			v := newTestVerifier(srv, allAlgs)
			if _, err := v.Verify(context.Background(), validToken(t, "RS256", nil)); err != nil {
				t.Errorf("DEFECT (idtoken.go, keySet.fetch: json.Unmarshal into jose.JSONWebKeySet): "+
					"a JWKS holding %s fails as a whole, so no token of the OP verifies: %v", c.name, err)
			}
		})
	}
}

// NumericDates beyond what time.Time holds. A nbf that far ahead must be
// refused like any nbf more than 5 minutes ahead.
func TestVerifyIDTokenNotBeforeBeyondTimeRange(t *testing.T) {
	cases := []struct {
		name string
		nbf  json.Number
	}{
		// In range: refused today.
		{"nbf in the year 318857", "10000000000000"},
		// numericDate (idtoken.go) makes time.Unix(i, 0) of these: seconds
		// within 62135596800 of math.MaxInt64 overflow time.Time's own
		// count of seconds, landing in the distant past.
		{"nbf the largest int64", "9223372036854775807"},
		// numericDate makes time.Unix(int64(f), 0) of these: a float
		// beyond int64 converts to an implementation-defined value
		// (math.MinInt64 on amd64), in the distant past too.
		{"nbf 9.3e18, beyond int64", "9.3e18"},
		{"nbf 1e300", "1e300"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newTestVerifier(newJWKSServer(t, defaultJWKS()...), allAlgs)
			_, err := v.Verify(context.Background(), validToken(t, "RS256", map[string]any{"nbf": c.nbf}))
			if err == nil {
				t.Errorf("DEFECT (idtoken.go, numericDate): a token not valid before %s seconds after 1970 "+
					"verified: the conversion to time.Time overflows into the past", c.nbf)
			} else if errors.Is(err, errTokenExpired) {
				t.Errorf("error %v is errTokenExpired", err)
			}
		})
	}
}

// verifySigned is also used for signed userinfo answers; it returns the
// payload as signed, whatever it is.
func TestVerifySignedReturnsPayload(t *testing.T) {
	k := testKeys()
	srv := newJWKSServer(t, defaultJWKS()...)
	keys := &keySet{url: srv.URL + "/jwks", client: srv.Client()}
	payload := `{"sub":"user","email":"a@example.org"}`
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			key, kid := keyFor(alg)
			gotAlg, gotKey, got, err := verifySigned(context.Background(), signToken(t, header(t, alg, kid), payload, alg, key), allAlgs, keys)
			if err != nil {
				t.Fatal(err)
			}
			if gotAlg != alg || string(got) != payload {
				t.Errorf("got %q, %q; want %q, %q", gotAlg, got, alg, payload)
			}
			// The key that verified it is the signer's, which the load
			// tool counts by its kind.
			if pub, ok := gotKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(key.Public()) {
				t.Errorf("verified by %T, not the signer's key", gotKey)
			}
		})
	}
	t.Run("refused without a payload", func(t *testing.T) {
		raw := signToken(t, header(t, "RS256", "rsa"), payload, "RS256", k.rsaOther)
		gotAlg, gotKey, got, err := verifySigned(context.Background(), raw, allAlgs, keys)
		if err == nil || gotAlg != "" || gotKey != nil || got != nil {
			t.Errorf("got %q, %v, %q, %v; want an error alone", gotAlg, gotKey, got, err)
		}
	})
}

func TestAccessTokenHashMatches(t *testing.T) {
	const accessToken = "ya29.an-access-token"
	// leftHalf is at_hash computed independently of the package.
	leftHalf := func(sum []byte) string { return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]) }
	s256 := sha256.Sum256([]byte(accessToken))
	s384 := sha512.Sum384([]byte(accessToken))
	s512 := sha512.Sum512([]byte(accessToken))
	cases := []struct {
		name   string
		alg    string
		atHash string
		want   bool
	}{
		{"RS256, SHA-256", "RS256", leftHalf(s256[:]), true},
		{"ES256, SHA-256", "ES256", leftHalf(s256[:]), true},
		{"ES384, SHA-384", "ES384", leftHalf(s384[:]), true},
		{"PS512, SHA-512", "PS512", leftHalf(s512[:]), true},
		{"EdDSA, SHA-512", "EdDSA", leftHalf(s512[:]), true},
		{"RS256 with the SHA-512 value", "RS256", leftHalf(s512[:]), false},
		{"EdDSA with the SHA-256 value", "EdDSA", leftHalf(s256[:]), false},
		{"the whole hash, not its left half", "RS256", base64.RawURLEncoding.EncodeToString(s256[:]), false},
		{"padded base64", "RS256", base64.URLEncoding.EncodeToString(s256[:16]), false},
		{"wrong value", "RS256", leftHalf(s256[:])[:21] + "A", false},
		{"empty value", "RS256", "", false},
		{"unknown alg HS256", "HS256", leftHalf(s256[:]), false},
		{"unknown alg none", "none", leftHalf(s256[:]), false},
		{"empty alg", "", leftHalf(s256[:]), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := accessTokenHashMatches(c.alg, c.atHash, accessToken); got != c.want {
				t.Errorf("accessTokenHashMatches(%q, %q) = %v, want %v", c.alg, c.atHash, got, c.want)
			}
		})
	}
}

// FuzzVerifyIDToken feeds arbitrary strings to verify: it must not panic,
// and it must accept nothing but what the OP's keys signed. The corpus is
// seeded with valid tokens, which the fuzzer mutates, and broken ones.
//
// An accepted input must have the header and payload (the signing input)
// of a seeded valid token. Its signature part may differ in encoding only:
// base64url decoding ignores "\r" and "\n" and the unused low bits of the
// last character, so "…Q" and "…R" can decode to the same signature. That
// re-encodes the OP's signature; it does not forge one.
func FuzzVerifyIDToken(f *testing.F) {
	k := testKeys()
	// Only the fixed keys (see testRSAKeyPEM): the same in every process.
	srv := newJWKSServer(f, pubJWK("rsa", k.rsa), pubJWK("p256", k.p256))
	v := newTestVerifier(srv, allAlgs)
	ctx := context.Background()

	var signed []string // the signing inputs of the valid tokens
	for _, tok := range []string{
		signToken(f, header(f, "RS256", "rsa"), claims(f, nil), "RS256", k.rsa),
		signToken(f, header(f, "PS512", ""), claims(f, map[string]any{"aud": []string{testClient}}), "PS512", k.rsa),
		signToken(f, header(f, "ES256", "p256"), claims(f, map[string]any{"nbf": testNowUnix}), "ES256", k.p256),
		signToken(f, header(f, "ES256", ""), claims(f, map[string]any{"azp": testClient}), "ES256", k.p256),
	} {
		// A corpus of tokens that do not verify would test little.
		if _, err := v.Verify(ctx, tok); err != nil {
			f.Fatalf("seed %s: %v", tok, err)
		}
		signed = append(signed, tok[:strings.LastIndex(tok, ".")])
		f.Add(tok)
	}
	for _, broken := range []string{
		"",
		".",
		"..",
		"....",
		b64(`{"alg":"none"}`) + "." + b64(claims(f, nil)) + ".",
		signToken(f, header(f, "RS256", "rsa"), claims(f, nil), "RS256", k.rsaOther),
		signToken(f, header(f, "ES256", "p256"), claims(f, map[string]any{"exp": testNowUnix - 1}), "ES256", k.p256),
		signToken(f, header(f, "RS256", "rsa"), `[]`, "RS256", k.rsa),
		signToken(f, `{"alg":"RS256","crit":["b64"]}`, claims(f, nil), "RS256", k.rsa),
	} {
		f.Add(broken)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := v.Verify(ctx, raw)
		if err != nil {
			if tok != nil {
				t.Errorf("a token returned with the error %v", err)
			}
			return
		}
		if tok == nil || tok.Claims == nil {
			t.Fatalf("no error and no claims for %q", raw)
		}
		i := strings.LastIndex(raw, ".")
		if i < 0 || !slices.Contains(signed, raw[:i]) {
			t.Fatalf("verified %q, whose header and payload no seeded token has", raw)
		}
	})
}

// FuzzDecodeClaims: no panic, and a nil error means a map, from a single
// JSON value.
func FuzzDecodeClaims(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"sub":"user","exp":1700003600.25,"aud":["a","b"],"x":{"y":null}}`,
		` {"a":1} ` + "\n",
		`{"a":1}{"a":2}`,
		`{"a":1} x`,
		`[]`,
		`null`,
		`"claims"`,
		`1e999`,
		`{"a":1e999}`,
		`{"a":"\ud800"}`,
		"{\"a\":\"\xff\"}",
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := decodeClaims(raw)
		if err != nil {
			if m != nil {
				t.Errorf("a map returned with the error %v", err)
			}
			return
		}
		if m == nil {
			t.Fatalf("no error and a nil map for %q", raw)
		}
		if !json.Valid(raw) {
			t.Errorf("accepted %q, which is not one JSON value", raw)
		}
	})
}

// headerCases are JWS headers, flat and not, well-formed and not.
var headerCases = []string{
	`{"alg":"RS256","kid":"k","typ":"JWT"}`,
	`{"alg":"RS256","crit":["b64"],"b64":false}`,
	`{"alg":"RS256","crit":null}`,
	`{"Alg":"none"}`,
	`{"alg":"RS256","ALG":"none"}`,
	`{"alg":"RS256","alg":"none"}`,
	`{"alg":"RS\u0032\u00356"}`,
	`{"alg":"RS256","x5c":["MIIB"],"jku":"https://op.example/jwks"}`,
	`{"alg":"RS256","jwk":{"kty":"RSA"}}`,
	`{"alg":"RS256"} x`,
	`{"alg":1}`,
	`{"alg":null}`,
	`[]`,
	``,
}

// readHeader reads what encoding/json reads, in one pass or not.
func TestReadHeader(t *testing.T) {
	for _, data := range headerCases {
		got, err := readHeader([]byte(data))
		var want jwsHeader
		wantErr := json.Unmarshal([]byte(data), &want)
		if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, %v; encoding/json %+v, %v", data, got, err, want, wantErr)
		}
	}
}

func FuzzReadHeader(f *testing.F) {
	for _, data := range headerCases {
		f.Add([]byte(data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := readHeader(data)
		var want jwsHeader
		wantErr := json.Unmarshal(data, &want)
		if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %+v, %v; encoding/json %+v, %v", data, got, err, want, wantErr)
		}
	})
}
