package saml

import (
	"errors"
	"strings"
	"testing"
)

func spMetadataXML(k *spKey, acs, slo string, extra string) string {
	return `<?xml version="1.0"?>
<!-- comments are fine in metadata -->
<md:EntityDescriptor xmlns:md="` + nsMetadata + `" xmlns:ds="` + nsDSig + `" entityID="https://sp.example.fi/shibboleth">
 <md:SPSSODescriptor protocolSupportEnumeration="` + nsProtocol + `" AuthnRequestsSigned="true" WantAssertionsSigned="1">
  <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + k.b64() + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
` + k.b64() + `
  </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:SingleLogoutService Binding="` + BindingRedirect + `" Location="` + slo + `"/>
  <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://sp.example.fi/soap"/>
  <md:AssertionConsumerService Binding="` + BindingPOST + `" Location="` + acs + `" index="1"/>
  <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://sp.example.fi/art" index="2"/>
  ` + extra + `
 </md:SPSSODescriptor>
</md:EntityDescriptor>`
}

func TestParseSPMetadata(t *testing.T) {
	k := newSPKey(t)
	md, info, err := ParseSPMetadata([]byte(spMetadataXML(k, "https://sp.example.fi/acs", "https://sp.example.fi/slo", "")))
	if err != nil {
		t.Fatal(err)
	}
	if md.EntityID != "https://sp.example.fi/shibboleth" || !md.AuthnRequestsSigned || !md.WantAssertionsSigned {
		t.Errorf("%+v", md)
	}
	if len(md.ACS) != 1 || md.ACS[0].Location != "https://sp.example.fi/acs" || md.ACS[0].Index != 1 {
		t.Errorf("ACS %+v", md.ACS)
	}
	if len(md.SingleLogout) != 1 || md.SingleLogout[0].Binding != BindingRedirect {
		t.Errorf("SLO %+v", md.SingleLogout)
	}
	if len(md.SigningCertificates) != 1 || len(md.EncryptionCertificates) != 1 || md.SigningCertificates[0] != k.b64() {
		t.Errorf("certificates %d %d", len(md.SigningCertificates), len(md.EncryptionCertificates))
	}
	if len(info.Certificates) != 2 || !info.Certificates[0].NotAfter.Equal(k.cert.NotAfter) {
		t.Errorf("certificate info %+v", info.Certificates)
	}
	if len(info.Warnings) != 2 {
		t.Errorf("warnings %q", info.Warnings)
	}
}

func TestParseSPMetadataRejects(t *testing.T) {
	k := newSPKey(t)
	good := "https://sp.example.fi/x"
	for name, doc := range map[string]string{
		"http ACS":           spMetadataXML(k, "http://sp.example.fi/acs", good, ""),
		"javascript ACS":     spMetadataXML(k, "javascript:alert(1)", good, ""),
		"fragment ACS":       spMetadataXML(k, "https://sp.example.fi/acs#x", good, ""),
		"userinfo ACS":       spMetadataXML(k, "https://u:p@sp.example.fi/acs", good, ""),
		"relative ACS":       spMetadataXML(k, "/acs", good, ""),
		"http SLO":           spMetadataXML(k, good, "http://sp.example.fi/slo", ""),
		"loopback no option": spMetadataXML(k, "http://127.0.0.1:8080/acs", good, ""),
		"DTD":                `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + strings.TrimPrefix(spMetadataXML(k, good, good, ""), `<?xml version="1.0"?>`),
		"duplicate index":    spMetadataXML(k, good, good, `<md:AssertionConsumerService Binding="`+BindingPOST+`" Location="`+good+`" index="1"/>`),
		"not metadata":       `<x/>`,
		"bad certificate":    strings.Replace(spMetadataXML(k, good, good, ""), k.b64(), "AAAA", 1),
		"no SPSSODescriptor": `<md:EntityDescriptor xmlns:md="` + nsMetadata + `" entityID="x"/>`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := ParseSPMetadata([]byte(doc)); !errors.Is(err, ErrSPMetadata) {
				t.Errorf("accepted or wrong error: %v", err)
			}
		})
	}
	if _, _, err := ParseSPMetadataOptions([]byte(spMetadataXML(k, "http://127.0.0.1:8080/acs", "http://localhost/slo", "")), SPMetadataOptions{AllowHTTPLoopback: true}); err != nil {
		t.Errorf("loopback with the option: %v", err)
	}
	if _, _, err := ParseSPMetadataOptions([]byte(spMetadataXML(k, "http://sp.example.fi/acs", good, "")), SPMetadataOptions{AllowHTTPLoopback: true}); err == nil {
		t.Error("http on a public host accepted with the loopback option")
	}
}
