package saml

import (
	"context"
	"crypto"
	"encoding/base64"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/mpassid/mpassid/internal/connector"
)

// TestSignAuthnRequests checks, for each preset, with and without
// WantAuthnRequestsSigned in the IdP metadata and with Config
// SignAuthnRequests unset, true and false, that Start signs the
// AuthnRequest (or not) in both bindings, that SPMetadata says so, and that
// the login goes through the test IdP (which verifies any signature).
func TestSignAuthnRequests(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		preset      Preset
		wantSigned  bool // metadata WantAuthnRequestsSigned="true"
		cfg         *bool
		expectSign  bool
		description string
	}{
		{PresetADFS, false, nil, true, "adfs default on"},
		{PresetGeneric, false, nil, true, "generic default on"},
		{"", false, nil, true, "no preset (generic) default on"},
		{PresetAzure, false, nil, false, "azure default off"},
		{PresetGSuite, false, nil, false, "gsuite default off"},
		{PresetAzure, true, nil, true, "azure, metadata wants signed"},
		{PresetGSuite, true, nil, true, "gsuite, metadata wants signed"},
		{PresetAzure, false, &yes, true, "azure, configured on"},
		{PresetGSuite, false, &yes, true, "gsuite, configured on"},
		{PresetADFS, false, &no, false, "adfs, configured off"},
		{PresetGeneric, false, &no, false, "generic, configured off"},
		{PresetADFS, true, &no, true, "adfs configured off, metadata wants signed"},
		{PresetAzure, true, &no, true, "azure configured off, metadata wants signed"},
	} {
		for _, postOnly := range []bool{false, true} {
			name := tc.description
			if postOnly {
				name += ", POST"
			}
			t.Run(name, func(t *testing.T) {
				idp := newTestIdP(t)
				idp.unsignedRequestsOK = !tc.wantSigned
				idp.postOnly = postOnly
				b := newTestBroker(t, idp, func(c *Config) {
					c.Preset = tc.preset
					c.SignAuthnRequests = tc.cfg
					c.RequireEncryptedAssertions = false
				})
				if tc.preset == PresetADFS {
					idp.encrypt = true
				}
				_, _, s := b.start(connector.LoginRequest{})
				if got := startedSigned(t, s, postOnly); got != tc.expectSign {
					t.Errorf("AuthnRequest signed = %v, want %v", got, tc.expectSign)
				}
				md, err := b.c.SPMetadata()
				if err != nil {
					t.Fatal(err)
				}
				d := etree.NewDocument()
				if err := d.ReadFromBytes(md); err != nil {
					t.Fatal(err)
				}
				sp := childElem(d.Root(), nsMetadata, "SPSSODescriptor")
				want := map[bool]string{true: "true", false: "false"}[tc.expectSign]
				if sp == nil || attr(sp, "AuthnRequestsSigned") != want {
					t.Errorf("SP metadata AuthnRequestsSigned = %q, want %q", attr(sp, "AuthnRequestsSigned"), want)
				}
				if sp != nil && len(sp.SelectElements("KeyDescriptor")) != 2 {
					t.Errorf("SP metadata does not advertise both certificates")
				}
				res := login(t, b, connector.LoginRequest{})
				if res.err != nil {
					t.Fatalf("login: %v", res.err)
				}
				idp.mu.Lock()
				defer idp.mu.Unlock()
				if idp.lastSigned != tc.expectSign {
					t.Errorf("the IdP saw signed = %v, want %v", idp.lastSigned, tc.expectSign)
				}
			})
		}
	}
}

// startedSigned reports whether the AuthnRequest of s carries a signature:
// the Signature query parameter (Redirect) or an enveloped ds:Signature
// (POST); the other form must be absent.
func startedSigned(t *testing.T, s *connector.Started, post bool) bool {
	t.Helper()
	if !post {
		u, err := url.Parse(s.Redirect.URL)
		if err != nil {
			t.Fatal(err)
		}
		if s.Redirect.Form != nil {
			t.Fatalf("expected the Redirect binding, got a form")
		}
		q := u.Query()
		if q.Has("Signature") != q.Has("SigAlg") {
			t.Errorf("Signature and SigAlg not both present or absent: %s", u.RawQuery)
		}
		return q.Has("Signature")
	}
	raw, err := base64.StdEncoding.DecodeString(s.Redirect.Form.Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	return childElem(d.Root(), nsDSig, "Signature") != nil
}

// countingSigner is a key behind a crypto.Signer that counts its
// signatures, as keys.SigningKey.CountedSigner is.
type countingSigner struct {
	crypto.Signer
	n *int
}

func (s countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	*s.n++
	return s.Signer.Sign(r, digest, opts)
}

// Config.Signer makes the AuthnRequests' signatures in both bindings, and
// must be SigningKey's.
func TestConfigSigner(t *testing.T) {
	for _, postOnly := range []bool{false, true} {
		idp := newTestIdP(t)
		idp.postOnly = postOnly
		n := 0
		yes := true
		c, _, _ := offlineConnector(t, idp, alwaysFresh{}, func(cfg *Config) {
			cfg.SignAuthnRequests = &yes
			cfg.Signer = countingSigner{Signer: cfg.SigningKey, n: &n}
		})
		s, err := c.Start(context.Background(), connector.LoginRequest{TransactionID: "tx"})
		if err != nil {
			t.Fatal(err)
		}
		if !startedSigned(t, s, postOnly) || n != 1 {
			t.Errorf("post %v: signed %v by Config.Signer %d times, want once", postOnly, startedSigned(t, s, postOnly), n)
		}
	}

	other := newTestKey(t, 3, "another", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	idp := newTestIdP(t)
	cfg := Config{}
	offlineConnector(t, idp, alwaysFresh{}, func(c *Config) { cfg = *c })
	cfg.Signer = other.key
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "Signer") {
		t.Errorf("a Signer of another key: %v", err)
	}
}
