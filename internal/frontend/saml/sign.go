package saml

import (
	"bytes"
	"compress/flate"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/mpassid/mpassid/internal/keys"
)

// signingContext returns a goxmldsig context that signs with k: RSA-SHA256,
// exclusive canonicalization without an inclusive prefix list, the
// certificate in KeyInfo.
func signingContext(k *keys.SigningKey) (*dsig.SigningContext, error) {
	if _, ok := k.Signer.Public().(*rsa.PublicKey); !ok {
		return nil, errors.New("the SAML signing key is not RSA")
	}
	ctx, err := dsig.NewSigningContext(k.CountedSigner(), [][]byte{k.Certificate.Raw})
	if err != nil {
		return nil, fmt.Errorf("signing context: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	ctx.IdAttribute = "ID"
	ctx.Prefix = "ds"
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, fmt.Errorf("signing context: %w", err)
	}
	return ctx, nil
}

// signEnveloped adds an enveloped signature to el (which must have an ID
// attribute and carry its own namespace declarations), placed right after
// its Issuer child as the SAML schema wants, or first when there is none.
// It returns the signed copy.
func signEnveloped(el *etree.Element, k *keys.SigningKey) (*etree.Element, error) {
	ctx, err := signingContext(k)
	if err != nil {
		return nil, err
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", el.Tag, err)
	}
	out := el.Copy()
	pos := 0
	for i, t := range out.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == "Issuer" {
			pos = i + 1
			break
		}
	}
	out.InsertChildAt(pos, sig)
	return out, nil
}

// serialize writes el as a document without an XML declaration.
func serialize(el *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.SetRoot(el)
	doc.WriteSettings.CanonicalEndTags = false
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("serialize %s: %w", el.Tag, err)
	}
	return b, nil
}

// redirectURL returns endpoint with message (SAMLRequest or SAMLResponse)
// encoded for the HTTP-Redirect binding and signed with k over the query
// string, as the bindings specification says.
func redirectURL(endpoint, param string, message []byte, relayState string, k *keys.SigningKey) (string, error) {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", fmt.Errorf("deflate: %w", err)
	}
	if _, err := fw.Write(message); err != nil {
		return "", fmt.Errorf("deflate: %w", err)
	}
	if err := fw.Close(); err != nil {
		return "", fmt.Errorf("deflate: %w", err)
	}
	q := param + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	q += "&SigAlg=" + url.QueryEscape(sigRSASHA256)
	digest := sha256.Sum256([]byte(q))
	sig, err := k.Sign(digest[:])
	if err != nil {
		return "", fmt.Errorf("sign redirect: %w", err)
	}
	q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return endpoint + sep + q, nil
}
