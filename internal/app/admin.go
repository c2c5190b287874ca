package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mpassid/mpassid/internal/admin"
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
	return nil
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
