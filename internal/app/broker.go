package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/connector"
	upstreamoidc "github.com/mpassid/mpassid/internal/connector/oidc"
	"github.com/mpassid/mpassid/internal/connector/opinsys"
	"github.com/mpassid/mpassid/internal/connector/testidp"
	"github.com/mpassid/mpassid/internal/connector/wilma"
	"github.com/mpassid/mpassid/internal/identity"
	"github.com/mpassid/mpassid/internal/model"
)

// deriveKey derives a purpose-specific key from the master key, so that every
// instance of an installation agrees on it without another secret to
// distribute, and no two purposes share a key.
func deriveKey(masterKey []byte, purpose string) []byte {
	m := hmac.New(sha256.New, masterKey)
	m.Write([]byte("mpassid key derivation: " + purpose))
	return m.Sum(nil)
}

// newBroker builds the login flow and the connectors it uses.
func (a *App) newBroker(ctx context.Context, masterKey []byte) error {
	// One test source serves every test-type integration; it refuses
	// production integrations in buildConnector.
	var err error
	a.testIdP, err = testidp.New(testidp.Config{Key: deriveKey(masterKey, "testidp")}, a.store, nil)
	if err != nil {
		return fmt.Errorf("test identity source: %w", err)
	}
	a.broker, err = broker.New(broker.Config{
		BaseURL:             a.cfg.Server.PublicURL,
		TransactionLifetime: a.cfg.Broker.TransactionLifetime,
		SessionLifetime:     a.cfg.Broker.SessionLifetime,
		SessionIdleTimeout:  a.cfg.Broker.SessionIdleTimeout,
		DefaultLanguage:     a.cfg.Broker.DefaultLanguage,
		Policy:              identity.DefaultPolicy(),
	}, broker.Deps{Store: a.store, Registry: a.registry, Connectors: a.buildConnector, Logger: a.log})
	if err != nil {
		return err
	}
	if _, err := a.broker.Reload(ctx); err != nil {
		return fmt.Errorf("load configuration: %w", err)
	}
	return nil
}

// buildConnector builds the connector of one IdP integration.
func (a *App) buildConnector(_ context.Context, src *model.Integration) (connector.Connector, error) {
	switch src.IdP.Type {
	case model.IdPTest:
		// It authenticates nobody: never for production integrations.
		if src.DeploymentPhase == model.PhaseProduction {
			return nil, fmt.Errorf("source %d: %w", src.ID, testidp.ErrProduction)
		}
		return a.testIdP, nil
	case model.IdPWilma:
		secret, err := a.openIdPSecret(src, "sharedSecret", src.IdP.SharedSecret)
		if err != nil {
			return nil, err
		}
		return wilma.New(wilma.Config{Hostname: src.IdP.Hostname, SharedSecret: secret, Logger: a.log}, a.store, nil)
	case model.IdPOpinsys:
		secret, err := a.openIdPSecret(src, "sharedSecret", src.IdP.SharedSecret)
		if err != nil {
			return nil, err
		}
		return opinsys.New(opinsys.Config{TenantHost: src.IdP.TenantID, SharedSecret: secret, Logger: a.log}, a.store, nil)
	case model.IdPOIDC:
		secret, err := a.openIdPSecret(src, "clientSecret", src.IdP.ClientSecret)
		if err != nil {
			return nil, err
		}
		return upstreamoidc.New(upstreamoidc.Config{
			Preset: upstreamoidc.PresetGeneric, Issuer: src.IdP.Issuer, TenantID: src.IdP.TenantID,
			ClientID: src.IdP.ClientID, ClientSecret: secret, UserInfo: true, Logger: a.log,
		}, a.store, nil)
	default:
		return nil, fmt.Errorf("source %d: connector type %q is not available in this build", src.ID, src.IdP.Type)
	}
}

// IdPSecretContext is the associated data an IdP integration's secret is
// sealed with: bound to the source and the field, so a sealed value copied
// elsewhere does not open.
func IdPSecretContext(idpID, field string) string { return "idp:" + idpID + ":" + field }

// openIdPSecret unseals a secret of an IdP integration.
func (a *App) openIdPSecret(src *model.Integration, field, sealed string) (string, error) {
	if sealed == "" {
		return "", fmt.Errorf("source %d: %s is not set", src.ID, field)
	}
	secret, err := a.sealer.OpenString(sealed, IdPSecretContext(src.IdP.IdPID, field))
	if err != nil {
		return "", fmt.Errorf("source %d: open %s: %w", src.ID, field, err)
	}
	return secret, nil
}

var _ broker.ConnectorFactory = (*App)(nil).buildConnector
