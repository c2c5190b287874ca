package saml

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/mpassid/mpassid/internal/web"
	"github.com/mpassid/mpassid/internal/xmlsafe"
	dsig "github.com/russellhaering/goxmldsig"
)

// Size limits of inbound messages.
const (
	// MaxRedirectParam caps the raw (URL-encoded, base64, deflated)
	// SAMLRequest or SAMLResponse parameter of the HTTP-Redirect binding.
	MaxRedirectParam = 16 << 10
	// MaxInflated caps the inflated message: a deflate bomb stops here.
	MaxInflated = 64 << 10
	// MaxPOSTBody caps the body of an HTTP-POST binding request.
	MaxPOSTBody = 256 << 10
	// MaxRelayState caps RelayState. The bindings specification says 80
	// bytes; real services send longer URLs, as Shibboleth tolerates.
	MaxRelayState = 2048
)

// Signature algorithms (SigAlg and SignatureMethod).
const (
	sigRSASHA1   = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	sigRSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	sigRSASHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	sigRSASHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	sigECSHA256  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
)

// sigAlgs maps the accepted signature algorithms to their hash;
// constant-like. SHA-1 is accepted only with Config.AllowSHA1.
var sigAlgs = map[string]crypto.Hash{
	sigRSASHA1:   crypto.SHA1,
	sigRSASHA256: crypto.SHA256,
	sigRSASHA384: crypto.SHA384,
	sigRSASHA512: crypto.SHA512,
	sigECSHA256:  crypto.SHA256,
}

// Errors of inbound message decoding, matched with errors.Is.
var (
	errBadBinding    = errors.New("malformed binding message")
	errTooLarge      = errors.New("message too large")
	errBadSignature  = errors.New("signature does not verify")
	errNoSignature   = errors.New("signature required but absent")
	errSHA1Forbidden = errors.New("SHA-1 signature algorithm not accepted")
)

// inbound is a SAML protocol message as a binding delivered it.
type inbound struct {
	binding    string
	xml        []byte
	relayState string
	hasRelay   bool
	// HTTP-Redirect signature: the algorithm, the signature and the octets
	// it covers.
	sigAlg     string
	signature  []byte
	signedPart []byte
}

// decodeRedirect reads param (SAMLRequest or SAMLResponse) of the
// HTTP-Redirect binding from rawQuery. The signature, if any, is kept with
// the exact octets it covers (the parameters as received, in the order the
// bindings specification fixes).
func decodeRedirect(rawQuery, param string, inf *inflater) (*inbound, error) {
	if len(rawQuery) > MaxRedirectParam+MaxRelayState*3+8192 {
		return nil, fmt.Errorf("%w: query string of %d bytes", errTooLarge, len(rawQuery))
	}
	raw := map[string]string{}
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("%w: bad parameter name", errBadBinding)
		}
		switch key {
		case param, "RelayState", "SigAlg", "Signature":
			if _, dup := raw[key]; dup {
				return nil, fmt.Errorf("%w: %s given twice", errBadBinding, key)
			}
			raw[key] = v
		}
	}
	msg, ok := raw[param]
	if !ok || msg == "" {
		return nil, fmt.Errorf("%w: no %s parameter", errBadBinding, param)
	}
	if len(msg) > MaxRedirectParam {
		return nil, fmt.Errorf("%w: %s parameter of %d bytes (limit %d)", errTooLarge, param, len(msg), MaxRedirectParam)
	}
	in := &inbound{binding: BindingRedirect}
	val, err := url.QueryUnescape(msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not URL-encoded", errBadBinding, param)
	}
	deflated, err := xmlsafe.DecodeBase64(val)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64", errBadBinding, param)
	}
	in.xml, err = inf.inflate(deflated)
	if err != nil {
		return nil, err
	}
	if rs, ok := raw["RelayState"]; ok {
		v, err := url.QueryUnescape(rs)
		if err != nil {
			return nil, fmt.Errorf("%w: RelayState is not URL-encoded", errBadBinding)
		}
		if len(v) > MaxRelayState {
			return nil, fmt.Errorf("%w: RelayState of %d bytes", errTooLarge, len(v))
		}
		in.relayState, in.hasRelay = v, true
	}
	sigAlg, hasAlg := raw["SigAlg"]
	sig, hasSig := raw["Signature"]
	if hasAlg != hasSig {
		return nil, fmt.Errorf("%w: SigAlg and Signature must come together", errBadBinding)
	}
	if hasSig {
		if in.sigAlg, err = url.QueryUnescape(sigAlg); err != nil {
			return nil, fmt.Errorf("%w: SigAlg is not URL-encoded", errBadBinding)
		}
		s, err := url.QueryUnescape(sig)
		if err != nil {
			return nil, fmt.Errorf("%w: Signature is not URL-encoded", errBadBinding)
		}
		if in.signature, err = xmlsafe.DecodeBase64(s); err != nil || len(in.signature) == 0 {
			return nil, fmt.Errorf("%w: Signature is not base64", errBadBinding)
		}
		signed := param + "=" + msg
		if rs, ok := raw["RelayState"]; ok {
			signed += "&RelayState=" + rs
		}
		signed += "&SigAlg=" + sigAlg
		in.signedPart = []byte(signed)
	}
	return in, nil
}

// inflater decompresses the HTTP-Redirect binding's DEFLATE streams. It
// keeps its decompressors, for which a new one allocates its tables (with
// the output's growth from 512 bytes, 0.04 ms of a brokered SAML login);
// the zero value is ready to use.
type inflater struct{ readers sync.Pool }

// inflate decompresses a DEFLATE stream, refusing more than MaxInflated
// bytes of output.
func (f *inflater) inflate(b []byte) ([]byte, error) {
	src := bytes.NewReader(b)
	fr, _ := f.readers.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(src)
	} else if err := fr.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, fmt.Errorf("%w: inflate: %v", errBadBinding, err)
	}
	defer f.readers.Put(fr)
	var out bytes.Buffer
	// A SAML message deflates to about a third of its size.
	out.Grow(min(4*len(b)+512, MaxInflated+1))
	if _, err := out.ReadFrom(io.LimitReader(fr, MaxInflated+1)); err != nil {
		return nil, fmt.Errorf("%w: inflate: %v", errBadBinding, err)
	}
	if out.Len() > MaxInflated {
		return nil, fmt.Errorf("%w: inflates to more than %d bytes", errTooLarge, MaxInflated)
	}
	return out.Bytes(), nil
}

// decodePOST reads param of the HTTP-POST binding from the form body.
func decodePOST(w http.ResponseWriter, r *http.Request, param string) (*inbound, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxPOSTBody)
	if err := web.ParseForm(r); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: body over %d bytes", errTooLarge, MaxPOSTBody)
		}
		return nil, fmt.Errorf("%w: form: %v", errBadBinding, err)
	}
	vals := r.PostForm[param]
	if len(vals) != 1 || vals[0] == "" {
		return nil, fmt.Errorf("%w: expected one %s field", errBadBinding, param)
	}
	in := &inbound{binding: BindingPOST}
	var err error
	if in.xml, err = xmlsafe.DecodeBase64(vals[0]); err != nil {
		return nil, fmt.Errorf("%w: %s is not base64", errBadBinding, param)
	}
	if rs := r.PostForm["RelayState"]; len(rs) > 0 {
		if len(rs) > 1 {
			return nil, fmt.Errorf("%w: RelayState given twice", errBadBinding)
		}
		if len(rs[0]) > MaxRelayState {
			return nil, fmt.Errorf("%w: RelayState of %d bytes", errTooLarge, len(rs[0]))
		}
		in.relayState, in.hasRelay = rs[0], true
	}
	return in, nil
}

// parseCertificate parses one base64 DER certificate.
func parseCertificate(b64 string) (*x509.Certificate, error) {
	der, err := xmlsafe.DecodeBase64(b64)
	if err != nil {
		return nil, errors.New("not base64")
	}
	return x509.ParseCertificate(der)
}

// maxCachedCerts bounds certCache; a full cache starts over.
const maxCachedCerts = 20000

// certCache keeps the services' certificates parsed, keyed by their
// registered base64 text: parsing one on every AuthnRequest, and giving
// the crypto library a new public key object each time, was 0.05 ms of a
// SAML login. A changed registration has a new text, so nothing goes stale.
type certCache struct {
	mu sync.Mutex
	m  map[string]*x509.Certificate
}

// certificates returns b64's certificates parsed, from the cache when it
// has them. Certificates are never modified after parsing.
func (c *certCache) certificates(b64 []string) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(b64))
	for i, s := range b64 {
		c.mu.Lock()
		cert, ok := c.m[s]
		c.mu.Unlock()
		if !ok {
			var err error
			if cert, err = parseCertificate(s); err != nil {
				return nil, fmt.Errorf("certificate %d: %w", i, err)
			}
			c.mu.Lock()
			if c.m == nil || len(c.m) >= maxCachedCerts {
				c.m = make(map[string]*x509.Certificate)
			}
			c.m[s] = cert
			c.mu.Unlock()
		}
		out = append(out, cert)
	}
	return out, nil
}

// verifyRedirectSignature verifies the query-string signature of an
// HTTP-Redirect message against each certificate.
func verifyRedirectSignature(in *inbound, certs []*x509.Certificate, allowSHA1 bool) error {
	h, ok := sigAlgs[in.sigAlg]
	if !ok {
		return fmt.Errorf("%w: unsupported SigAlg %q", errBadSignature, truncate(in.sigAlg, 80))
	}
	if h == crypto.SHA1 && !allowSHA1 {
		return errSHA1Forbidden
	}
	if len(certs) == 0 {
		return fmt.Errorf("%w: the service has no signing certificate", errBadSignature)
	}
	hh := h.New()
	hh.Write(in.signedPart)
	digest := hh.Sum(nil)
	for _, c := range certs {
		switch pub := c.PublicKey.(type) {
		case *rsa.PublicKey:
			if in.sigAlg == sigECSHA256 {
				continue
			}
			if rsa.VerifyPKCS1v15(pub, h, digest, in.signature) == nil {
				return nil
			}
		case *ecdsa.PublicKey:
			if in.sigAlg != sigECSHA256 {
				continue
			}
			if ecdsa.VerifyASN1(pub, digest, in.signature) || verifyECDSARaw(pub, digest, in.signature) {
				return nil
			}
		}
	}
	return errBadSignature
}

// verifyECDSARaw verifies an r||s ECDSA signature (the XML Signature form).
func verifyECDSARaw(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	n := (pub.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*n {
		return false
	}
	var rr, ss = new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
	return ecdsa.Verify(pub, digest, rr, ss)
}

// signatureOf returns the ds:Signature child of el, or nil.
func signatureOf(el *etree.Element) *etree.Element { return child(el, nsDSig, "Signature") }

// verifyEnveloped verifies the enveloped signature of el with goxmldsig
// against each certificate on its own, and returns what the signature
// covers: callers read only that. Certificate validity periods are
// ignored: trust comes from the service's registration, and services'
// self-signed certificates are routinely long expired, as Shibboleth
// tolerates.
func verifyEnveloped(el *etree.Element, certs []*x509.Certificate, now time.Time, allowSHA1 bool) (*etree.Element, error) {
	sig := signatureOf(el)
	if sig == nil {
		return nil, errNoSignature
	}
	for _, m := range sig.FindElements(".//SignatureMethod") {
		alg := attrValue(m, "Algorithm")
		h, ok := sigAlgs[alg]
		if !ok {
			return nil, fmt.Errorf("%w: unsupported SignatureMethod %q", errBadSignature, truncate(alg, 80))
		}
		if h == crypto.SHA1 && !allowSHA1 {
			return nil, errSHA1Forbidden
		}
	}
	for _, m := range sig.FindElements(".//DigestMethod") {
		if attrValue(m, "Algorithm") == "http://www.w3.org/2000/09/xmldsig#sha1" && !allowSHA1 {
			return nil, errSHA1Forbidden
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: the service has no signing certificate", errBadSignature)
	}
	var firstErr error
	for _, cert := range certs {
		cp := *cert
		cp.NotBefore, cp.NotAfter = time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{&cp}})
		ctx.IdAttribute = "ID"
		ctx.Clock = dsig.NewFakeClockAt(now)
		// Verify against this certificate alone: without KeyInfo goxmldsig
		// uses the single root.
		c := el.Copy()
		if s := signatureOf(c); s != nil {
			if ki := child(s, nsDSig, "KeyInfo"); ki != nil {
				s.RemoveChild(ki)
			}
		}
		signed, err := ctx.Validate(c)
		if err == nil {
			return signed, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("%w: %v", errBadSignature, firstErr)
}
