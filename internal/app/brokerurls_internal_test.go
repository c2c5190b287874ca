package app

import (
	"testing"

	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/model"
)

// The URLs the management UI tells an education provider to give its
// login system are those the broker serves the source at: the callback
// its OIDC connector sends as redirect_uri, the SAML SP's metadata.
func TestBrokerURLs(t *testing.T) {
	cfg := &config.Config{}
	cfg.Server.PublicURL = "https://mpass.example.fi/"
	a := &App{cfg: cfg}
	idp := func(id int64, typ model.IdPType) *model.Integration {
		return &model.Integration{ID: id, Role: model.RoleIdP, IdP: &model.IdP{Type: typ}}
	}
	cases := []struct {
		name                 string
		in                   *model.Integration
		redirect, spMetadata string
	}{
		{"OpenID provider", idp(7, model.IdPOIDC), "https://mpass.example.fi/login/callback/7", ""},
		{"Entra ID (SAML)", idp(8, model.IdPAzure), "", "https://mpass.example.fi/login/saml/8/metadata"},
		{"generic SAML", idp(9, model.IdPSAML), "", "https://mpass.example.fi/login/saml/9/metadata"},
		{"Wilma", idp(10, model.IdPWilma), "", ""},
		{"not yet saved", idp(0, model.IdPOIDC), "", ""},
		{"a service", &model.Integration{ID: 11, Role: model.RoleSP, SP: &model.SP{}}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			redirect, md := a.brokerURLs(tc.in)
			if redirect != tc.redirect || md != tc.spMetadata {
				t.Errorf("got %q, %q; want %q, %q", redirect, md, tc.redirect, tc.spMetadata)
			}
		})
	}
}
