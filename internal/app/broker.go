package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/connector"
	upstreamoidc "github.com/mpassid/mpassid/internal/connector/oidc"
	"github.com/mpassid/mpassid/internal/connector/opinsys"
	upstreamsaml "github.com/mpassid/mpassid/internal/connector/saml"
	"github.com/mpassid/mpassid/internal/connector/testidp"
	"github.com/mpassid/mpassid/internal/connector/wilma"
	oidcop "github.com/mpassid/mpassid/internal/frontend/oidc"
	samlidp "github.com/mpassid/mpassid/internal/frontend/saml"
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
	a.testIdP, err = testidp.New(testidp.Config{Key: deriveKey(masterKey, "testidp"), Logger: a.log}, a.store, nil)
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
	}, broker.Deps{Store: a.store, Registry: a.registry, Connectors: a.buildConnector, Logger: a.log, Sealer: a.sealer})
	if err != nil {
		return err
	}
	if _, err := a.broker.Reload(ctx); err != nil {
		return fmt.Errorf("load configuration: %w", err)
	}
	a.samlIdP, err = samlidp.New(samlidp.Config{
		EntityID: a.cfg.Broker.SAMLEntityID,
		BaseURL:  a.cfg.Server.PublicURL,
	}, samlidp.Deps{Flow: a.broker, Keys: a.KeySet, Runtime: a.store, Logger: a.log, Sealer: a.sealer})
	if err != nil {
		return fmt.Errorf("SAML IdP: %w", err)
	}
	a.broker.SetResponder(broker.ProtocolSAML, a.samlIdP)
	a.broker.SetFrontChannel(broker.ProtocolSAML, a.samlIdP)

	a.oidcOP, err = oidcop.New(oidcop.Config{
		Issuer:              a.cfg.Broker.Issuer,
		CodeLifetime:        a.cfg.Broker.CodeLifetime,
		AccessTokenLifetime: a.cfg.Broker.AccessTokenLifetime,
		// The pairwise salt must be the same on every instance and secret:
		// derived from the master key.
		PairwiseSalt: deriveKey(masterKey, "oidc-pairwise-subject"),
	}, oidcop.Deps{
		Flow: a.broker, Keys: a.KeySet, Runtime: a.store, Logger: a.log,
		OpenSecret: a.sealer.OpenString,
		Sealer:     a.sealer,
		HTTPClient: a.upstream,
	})
	if err != nil {
		return fmt.Errorf("OpenID provider: %w", err)
	}
	a.broker.SetResponder(broker.ProtocolOIDC, a.oidcOP)
	a.broker.SetBackChannel(broker.ProtocolOIDC, a.oidcOP)
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
	case model.IdPAzure, model.IdPADFS, model.IdPGSuite, model.IdPSAML:
		return a.samlConnector(src)
	case model.IdPOIDC:
		secret, err := a.openIdPSecret(src, "clientSecret", src.IdP.ClientSecret)
		if err != nil {
			return nil, err
		}
		return upstreamoidc.New(upstreamoidc.Config{
			Preset: upstreamoidc.PresetGeneric, Issuer: src.IdP.Issuer, TenantID: src.IdP.TenantID,
			ClientID: src.IdP.ClientID, ClientSecret: secret, UserInfo: true, Logger: a.log,
			HTTPClient: a.upstream,
		}, a.store, nil)
	default:
		return nil, fmt.Errorf("source %d: connector type %q is not available in this build", src.ID, src.IdP.Type)
	}
}

// openIdPSecret unseals a secret of an IdP integration.
func (a *App) openIdPSecret(src *model.Integration, field, sealed string) (string, error) {
	if sealed == "" {
		return "", fmt.Errorf("source %d: %s is not set", src.ID, field)
	}
	secret, err := a.sealer.OpenString(sealed, src.IdP.SecretContext(field))
	if err != nil {
		return "", fmt.Errorf("source %d: open %s: %w", src.ID, field, err)
	}
	return secret, nil
}

var _ broker.ConnectorFactory = (*App)(nil).buildConnector

// samlPresets maps IdP types to the SAML connector's presets.
var samlPresets = map[model.IdPType]upstreamsaml.Preset{
	model.IdPAzure: upstreamsaml.PresetAzure, model.IdPADFS: upstreamsaml.PresetADFS,
	model.IdPGSuite: upstreamsaml.PresetGSuite, model.IdPSAML: upstreamsaml.PresetGeneric,
}

// samlSPPath is where the broker's SP towards one SAML source lives; its
// metadata is at samlSPPath + id + "/metadata", the entityID without it.
const samlSPPath = "/login/saml/"

// samlConnector builds the SP towards a SAML source: the broker's current
// SAML signing key signs AuthnRequests and decrypts assertions; the IdP
// metadata is loaded now and, for a URL, refreshed in the background until
// the connector is replaced or the app stops.
func (a *App) samlConnector(src *model.Integration) (connector.Connector, error) {
	ctx := a.bgCtx
	ks, err := a.keys.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("source %d: signing keys: %w", src.ID, err)
	}
	sk, err := ks.SAMLSigningKey()
	if err != nil {
		return nil, fmt.Errorf("source %d: %w", src.ID, err)
	}
	opts, err := upstreamsaml.MetadataOptionsFor(src.IdP)
	if err != nil {
		return nil, fmt.Errorf("source %d: %w", src.ID, err)
	}
	md, err := upstreamsaml.NewMetadataSource(opts)
	if err != nil {
		return nil, fmt.Errorf("source %d: metadata: %w", src.ID, err)
	}
	if err := md.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("source %d: load metadata: %w", src.ID, err)
	}
	base := strings.TrimSuffix(a.cfg.Server.PublicURL, "/")
	id := strconv.FormatInt(src.ID, 10)
	c, err := upstreamsaml.New(upstreamsaml.Config{
		Preset:      samlPresets[src.IdP.Type],
		EntityID:    base + samlSPPath + id,
		ACSURL:      base + broker.CallbackPath + id,
		SigningKey:  sk.Signer,
		Signer:      sk.CountedSigner(),
		SigningCert: sk.Certificate,
		IdPEntityID: src.IdP.EntityID,
		Metadata:    md,
		ReplayCache: a.store,
		Logger:      a.log,
	})
	if err != nil {
		return nil, fmt.Errorf("source %d: %w", src.ID, err)
	}
	if opts.URL != "" {
		a.refreshMetadata(src.ID, md)
	}
	return c, nil
}

// refreshMetadata runs the metadata refresh of one SAML source, stopping the
// refresh of the connector it replaces.
func (a *App) refreshMetadata(srcID int64, md *upstreamsaml.MetadataSource) {
	ctx, cancel := context.WithCancel(a.bgCtx)
	a.refreshMu.Lock()
	if old := a.refreshers[srcID]; old != nil {
		old()
	}
	a.refreshers[srcID] = cancel
	a.refreshMu.Unlock()
	go md.Run(ctx, metadataRefreshInterval)
}

const metadataRefreshInterval = 6 * time.Hour

// samlSPMetadata serves the broker's SP metadata towards one SAML source,
// for the school's IdP administrator to register.
func (a *App) samlSPMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	c, err := a.broker.ConnectorFor(r.Context(), id)
	sp, ok := c.(interface{ SPMetadata() ([]byte, error) })
	if err != nil || !ok {
		http.NotFound(w, r)
		return
	}
	doc, err := sp.SPMetadata()
	if err != nil {
		a.log.Error("SP metadata", "source", id, "error", err)
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(doc)
}
