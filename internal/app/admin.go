package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/admin/ui"
	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/model"
)

// demoAdminTokenFile keeps the dev admin's API token across restarts.
const demoAdminTokenFile = "demo-admin-token"

// newAdmin builds the management service API.
func (a *App) newAdmin() error {
	var err error
	a.admin, err = admin.New(admin.Config{
		PublicURL:             a.cfg.Server.PublicURL,
		Dev:                   a.cfg.Dev.Enabled,
		Issuer:                a.cfg.Admin.OIDCIssuer,
		ClientID:              a.cfg.Admin.OIDCClientID,
		ClientSecret:          a.cfg.Admin.OIDCClientSecret,
		GroupsClaim:           a.cfg.Admin.GroupsClaim,
		CASURL:                a.cfg.Admin.CASURL,
		CASGroupsAttribute:    a.cfg.Admin.CASGroupsAttribute,
		SessionLifetime:       a.cfg.Broker.SessionLifetime,
		ProvisioningUser:      a.cfg.Admin.ProvisioningUser,
		ProvisioningPassword:  a.cfg.Admin.ProvisioningPassword,
		ExpiryWindow:          a.cfg.Admin.ExpiryWindow,
		AllowLoopbackMetadata: a.cfg.Dev.Enabled,
	}, admin.Deps{Store: a.store, Registry: a.registry, Sealer: a.sealer, Logger: a.log})
	if err != nil {
		return fmt.Errorf("management service: %w", err)
	}
	a.adminUI, err = ui.New(ui.Config{Dev: a.cfg.Dev.Enabled, TestLoginURL: a.testLoginURL, BrokerURLs: a.brokerURLs},
		ui.Deps{API: a.admin, Registry: a.registry, Logger: a.log})
	if err != nil {
		return fmt.Errorf("management UI: %w", err)
	}
	return nil
}

// testLoginURL is where the management UI's test-login link of an
// integration leads: in dev, the demo service that shows what a login
// releases; elsewhere none, and the UI explains how to test.
func (a *App) testLoginURL(in *model.Integration) string {
	if a.demo == nil {
		return ""
	}
	switch in.ID {
	case DemoOIDCID:
		return "/demo/oidc/"
	case DemoSAMLID:
		return "/demo/saml/"
	}
	if in.Role == model.RoleIdP && in.IdP != nil && in.IdP.FlowName != "" {
		// The demo OIDC service can ask for this source by name.
		return "/demo/oidc/login?source=" + url.QueryEscape(in.IdP.FlowName)
	}
	return ""
}

// brokerURLs are what the login system of an identity-provider
// integration is given of the broker: an OpenID provider the redirect URI
// of the broker's client, a SAML IdP the broker's SP metadata.
func (a *App) brokerURLs(in *model.Integration) (redirectURI, spMetadataURL string) {
	if in.Role != model.RoleIdP || in.IdP == nil || in.ID == 0 {
		return "", ""
	}
	base := strings.TrimSuffix(a.cfg.Server.PublicURL, "/")
	id := strconv.FormatInt(in.ID, 10)
	switch {
	case in.IdP.Type == model.IdPOIDC:
		return base + broker.CallbackPath + id, ""
	case in.IdP.Type.IsSAML():
		return "", base + samlSPPath + id + "/metadata"
	}
	return "", ""
}

// demoAdminToken returns the dev admin's API token (an editor of the admin
// organisation, who may do everything), creating it on first start.
func (a *App) demoAdminToken(ctx context.Context) (string, error) {
	path := filepath.Join(a.cfg.Dev.DataDir, demoAdminTokenFile)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read demo admin token: %w", err)
	}
	info, err := a.admin.CreateToken(ctx, "demo admin (mpassid dev)",
		[]string{"APP_MPASSID_TALLENTAJA_" + model.RootOID}, demoActor, nil)
	if err != nil {
		return "", fmt.Errorf("create demo admin token: %w", err)
	}
	if err := os.WriteFile(path, []byte(info.Token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write demo admin token: %w", err)
	}
	return info.Token, nil
}
