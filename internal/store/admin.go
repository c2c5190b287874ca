package store

import (
	"context"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// APIToken is a management-API token for automation. Only a hash of the
// token is stored; Groups are the role groups (APP_MPASSID_...) it acts with.
type APIToken struct {
	ID        string
	Name      string
	Hash      string
	Groups    []string
	CreatedBy string
	CreatedAt time.Time
	// ExpiresAt is nil for a token that does not expire.
	ExpiresAt *time.Time
}

// Logo is the discovery-page logo uploaded for an integration.
type Logo struct {
	IntegrationID int64
	ContentType   string
	Data          []byte
	UpdatedAt     time.Time
}

// Admin persists what the management service keeps besides integrations:
// logos, API tokens and the provisioning runs of the national proxy.
type Admin interface {
	// PutLogo stores (or replaces) the logo of an integration.
	PutLogo(ctx context.Context, l Logo) error
	// GetLogo returns the logo of an integration; ErrNotFound if none.
	GetLogo(ctx context.Context, integrationID int64) (*Logo, error)

	// InsertAPIToken adds a token; ErrDuplicate if the id or hash exists.
	InsertAPIToken(ctx context.Context, t APIToken) error
	// APITokenByHash finds a live (unexpired) token by hash; ErrNotFound
	// otherwise.
	APITokenByHash(ctx context.Context, hash string, now time.Time) (*APIToken, error)
	// ListAPITokens lists every token, newest first.
	ListAPITokens(ctx context.Context) ([]APIToken, error)
	// DeleteAPIToken revokes a token; ErrNotFound if there is none.
	DeleteAPIToken(ctx context.Context, id string) error

	// RecordProvisioning records a provisioning run of a deployment phase.
	RecordProvisioning(ctx context.Context, phase model.DeploymentPhase, at time.Time) error
	// LastProvisioning returns the last recorded run of each phase that
	// has one.
	LastProvisioning(ctx context.Context) (map[model.DeploymentPhase]time.Time, error)
}
