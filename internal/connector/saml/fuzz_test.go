package saml

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/connector"
)

// alwaysFresh is a ReplayCache that never reports a replay (benchmarks,
// fuzzing).
type alwaysFresh struct{}

func (alwaysFresh) MarkUsed(context.Context, string, string, time.Time) (bool, error) {
	return true, nil
}

// offlineConnector is a Connector for a test IdP whose metadata is an
// uploaded document, with no HTTP servers (benchmarks, fuzzing).
// mod, if given, adjusts the Config.
func offlineConnector(tb testing.TB, idp *testIdP, cache connector.ReplayCache, mod ...func(*Config)) (*Connector, *testKey, *testKey) {
	tb.Helper()
	now := time.Now()
	spKey := newTestKey(tb, 1, "sp-signing", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	encKey := newTestKey(tb, 2, "sp-encryption", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	idp.spCert, idp.spEncCert = spKey.cert, encKey.cert
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	src, err := NewMetadataSource(MetadataOptions{Document: idp.metadata(metadataOpts{}), AllowLoopbackHTTP: true, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Config{
		Preset: PresetAzure, EntityID: testSPEntityID, ACSURL: fuzzACS,
		SigningKey: spKey.key, SigningCert: spKey.cert, EncryptionKey: encKey.key, EncryptionCert: encKey.cert,
		IdPEntityID: idp.entityID, Metadata: src, ReplayCache: cache, Logger: quiet,
	}
	for _, f := range mod {
		f(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c, spKey, encKey
}

const (
	fuzzACS       = "https://mpass.example.fi/saml/acs/azure_t"
	fuzzRequestID = "id-fuzz-request"
)

// FuzzVerifyResponse feeds arbitrary bytes, as the decoded SAMLResponse, to
// the response checks and verifier. It must never panic, every error must be
// one of the connector errors, and an accepted response can only be the
// test IdP's genuinely signed one.
func FuzzVerifyResponse(f *testing.F) {
	idp := newTestIdP(f)
	c, _, _ := offlineConnector(f, idp, alwaysFresh{})
	good := idp.response(respOpts{requestID: fuzzRequestID, acs: fuzzACS})
	f.Add(good)
	f.Add(idp.response(respOpts{requestID: fuzzRequestID, acs: fuzzACS, signResponse: true, unsignedAssertion: true}))
	f.Add(idp.response(respOpts{requestID: fuzzRequestID, acs: fuzzACS, encrypt: true}))
	f.Add(idp.response(respOpts{requestID: fuzzRequestID, acs: fuzzACS, status: []string{"urn:oasis:names:tc:SAML:2.0:status:Responder", "urn:oasis:names:tc:SAML:2.0:status:NoPassive"}}))
	f.Add(idp.response(respOpts{requestID: fuzzRequestID, acs: fuzzACS, mutateResponse: func(r, a *etree.Element) {
		ev := a.Copy()
		ev.FindElement("./Subject/NameID").SetText("admin")
		r.AddChild(ev)
	}}))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`))
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`))
	ctx := context.Background()
	m, err := c.metadata()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := c.verify(ctx, base64.StdEncoding.EncodeToString(data), fuzzRequestID, m)
		if err != nil {
			if id != nil {
				t.Fatal("identity with error")
			}
			if !errors.Is(err, connector.ErrInvalidResponse) && !errors.Is(err, connector.ErrExpired) &&
				!errors.Is(err, connector.ErrCancelled) && !errors.Is(err, connector.ErrReplay) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if id.NameID != idp.nameID {
			t.Fatalf("accepted a response for %q", id.NameID)
		}
	})
}

// FuzzParseMetadata feeds arbitrary bytes to the metadata parser. It must
// never panic, and accepted metadata always has an entityID, a signing
// certificate and an https (or test loopback) SSO endpoint.
func FuzzParseMetadata(f *testing.F) {
	idp := newTestIdP(f)
	now := time.Now()
	idp.extraCerts = []*testKey{newTestKey(f, 3, "rollover", now.Add(-time.Hour), now.Add(time.Hour))}
	f.Add(idp.metadata(metadataOpts{}))
	f.Add(idp.metadata(metadataOpts{validUntil: now.Add(time.Hour)}))
	f.Add(idp.metadata(metadataOpts{signWith: idp.key}))
	one := string(stripBOM(idp.metadata(metadataOpts{})))
	one = one[strings.Index(one, "<EntityDescriptor"):]
	f.Add([]byte(`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` + one + `</EntitiesDescriptor>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&a;"/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMetadata(data, parseOptions{now: now, allowLoopback: true})
		if err != nil {
			if !errors.Is(err, ErrInvalidMetadata) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if m.info.EntityID == "" || len(m.signingCerts) == 0 ||
			(m.info.SSORedirectURL == "" && m.info.SSOPostURL == "") {
			t.Fatalf("accepted incomplete metadata: %+v", m.info)
		}
		for _, u := range []string{m.info.SSORedirectURL, m.info.SSOPostURL} {
			if u != "" && checkEndpointURL(u, true) != nil {
				t.Fatalf("accepted SSO URL %q", u)
			}
		}
	})
}
