// Package store defines the persistence the broker and the management service
// need: configuration (integrations with their revision history, the
// organisation registry), runtime state with expiry (login transactions, SSO
// sessions, OIDC refresh tokens, the replay cache) and signing keys.
//
// Two implementations live below it: sqlite (embedded, the default of
// `mpassid dev`) and postgres (production). Both pass the one conformance
// suite in storetest. Callers depend on the interfaces here only.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// Errors every implementation returns (possibly wrapped); test with errors.Is.
var (
	// ErrNotFound: no such record, or it has expired.
	ErrNotFound = errors.New("not found")
	// ErrConflict: an update named a version that is no longer current.
	ErrConflict = errors.New("version conflict")
	// ErrDuplicate: a unique value (SAML entityID, OIDC client_id, id) is
	// already used by another active integration, or a key already exists.
	ErrDuplicate = errors.New("duplicate")
	// ErrAlreadyUsed: a single-use value (code, transaction, refresh token)
	// was consumed before. The caller may need to revoke what it issued.
	ErrAlreadyUsed = errors.New("already used")
	// ErrLocked: a named lock is held by another holder.
	ErrLocked = errors.New("locked")
)

// DuplicateError says which unique field collided; it matches ErrDuplicate.
type DuplicateError struct {
	Field string // "entityId", "client_id", "id"
	Value string
}

func (e *DuplicateError) Error() string { return "duplicate " + e.Field + " " + e.Value }

// Is makes errors.Is(err, ErrDuplicate) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// Store is everything persistent. Implementations are safe for concurrent use.
type Store interface {
	Integrations
	Organisations
	Runtime
	Keys
	Locker
	Admin

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Migrate brings the schema up to date. It is safe when several
	// instances start at once.
	Migrate(ctx context.Context) error
	// MigrationsCurrent reports whether every embedded migration is applied.
	MigrationsCurrent(ctx context.Context) (bool, error)
	// Dialect is "sqlite" or "postgres".
	Dialect() string
	Close() error
}

// IntegrationFilter selects integrations for a search. Zero values do not
// filter.
type IntegrationFilter struct {
	// Query matches name, organisation OID, id, entityID or client_id
	// (case-insensitive substring; an exact id for digits).
	Query           string
	Role            model.Role
	Type            string
	DeploymentPhase *model.DeploymentPhase
	Status          model.Status
	// OrganisationOIDs limits to these organisations (nil = all).
	OrganisationOIDs []string
	// Sort is one of "id", "name", "updatedAt"; prefix "-" for descending.
	Sort   string
	Offset int
	Limit  int // 0 = no limit
}

// Revision is one saved state of an integration.
type Revision struct {
	IntegrationID int64
	Version       int64
	Actor         string
	CreatedAt     time.Time
	// Integration is the full state as saved at that version.
	Integration *model.Integration
}

// Integrations persists the integration configuration. Every create and
// update stores a revision, and bumps the configuration version that brokers
// poll to reload their snapshot.
type Integrations interface {
	// CreateIntegration stores a new integration at version 1. When in.ID is
	// 0, it allocates the next free id of the role's and phase's national
	// range. CreatedAt/UpdatedAt are set by the store.
	CreateIntegration(ctx context.Context, in *model.Integration, actor string) (*model.Integration, error)
	// UpdateIntegration saves in if in.Version is the current version, and
	// returns the saved integration with the next version; ErrConflict if
	// the version is stale, ErrNotFound if there is no such id.
	UpdateIntegration(ctx context.Context, in *model.Integration, actor string) (*model.Integration, error)
	GetIntegration(ctx context.Context, id int64) (*model.Integration, error)
	// ListIntegrations returns one page of the matching integrations and the
	// total number that match.
	ListIntegrations(ctx context.Context, f IntegrationFilter) ([]*model.Integration, int, error)
	// FindByEntityID and FindByClientID find the active service with that
	// SAML entityID or OIDC client_id.
	FindByEntityID(ctx context.Context, entityID string) (*model.Integration, error)
	FindByClientID(ctx context.Context, clientID string) (*model.Integration, error)
	// Revisions lists the saved versions of an integration, newest first.
	Revisions(ctx context.Context, id int64) ([]Revision, error)
	GetRevision(ctx context.Context, id, version int64) (*Revision, error)
	// ConfigVersion is a counter that grows with every configuration change
	// (integrations, organisations, keys); brokers poll it to reload.
	ConfigVersion(ctx context.Context) (int64, error)
}

// SyncCounts tells what a registry replacement changed.
type SyncCounts struct {
	Added, Changed, Removed, Total int
}

// Organisations persists the organisation registry and its sync history.
type Organisations interface {
	// ReplaceOrganisations makes orgs the whole registry in one transaction:
	// readers see either the old or the new registry, never a mix. It
	// returns what changed.
	ReplaceOrganisations(ctx context.Context, orgs []model.Organisation) (SyncCounts, error)
	ListOrganisations(ctx context.Context) ([]model.Organisation, error)
	GetOrganisation(ctx context.Context, oid string) (*model.Organisation, error)
	CountOrganisations(ctx context.Context) (int, error)
	// RecordSyncRun stores a run (ID 0 inserts, otherwise updates) and
	// returns its id.
	RecordSyncRun(ctx context.Context, run model.SyncRun) (int64, error)
	// SyncRuns lists the latest runs, newest first.
	SyncRuns(ctx context.Context, limit int) ([]model.SyncRun, error)
}

// Transaction is a login transaction: the state between a service's request
// and the broker's answer. Data is opaque to the store.
type Transaction struct {
	ID        string
	Data      []byte
	ExpiresAt time.Time
}

// Session is an SSO session. SubjectHash lets logout find sessions without
// storing the uid in clear.
type Session struct {
	ID          string
	SubjectHash string
	Data        []byte
	CreatedAt   time.Time
	// ExpiresAt is the absolute end; IdleExpiresAt moves on each use.
	ExpiresAt     time.Time
	IdleExpiresAt time.Time
}

// TokenKind tells access tokens and refresh tokens apart.
type TokenKind string

const (
	AccessToken  TokenKind = "access"
	RefreshToken TokenKind = "refresh"
)

// Token is an issued OIDC access or refresh token, stored by hash.
type Token struct {
	Hash      string
	Kind      TokenKind
	ClientID  string
	GrantID   string
	Data      []byte
	ExpiresAt time.Time
}

// Runtime is short-lived state with expiry. Expired records behave as absent
// and are removed by DeleteExpired.
type Runtime interface {
	PutTransaction(ctx context.Context, t Transaction) error
	GetTransaction(ctx context.Context, id string) (*Transaction, error)
	// UpdateTransaction replaces Data and ExpiresAt of a live transaction.
	UpdateTransaction(ctx context.Context, t Transaction) error
	// ConsumeTransaction returns the transaction and ends it atomically:
	// of concurrent callers exactly one succeeds; later ones get
	// ErrAlreadyUsed (or ErrNotFound once it is collected).
	ConsumeTransaction(ctx context.Context, id string) (*Transaction, error)

	PutSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, id string) (*Session, error)
	// TouchSession updates Data and moves IdleExpiresAt.
	TouchSession(ctx context.Context, id string, data []byte, idleExpiresAt time.Time) error
	DeleteSession(ctx context.Context, id string) error

	PutToken(ctx context.Context, t Token) error
	GetToken(ctx context.Context, hash string) (*Token, error)
	// ConsumeToken is the single-use read for refresh-token rotation.
	ConsumeToken(ctx context.Context, hash string) (*Token, error)
	// RevokeGrant deletes every token of a grant and returns how many.
	RevokeGrant(ctx context.Context, grantID string) (int, error)

	// MarkUsed records a single-use value (a SAML assertion or request ID, a
	// Wilma nonce, an Opinsys JWT id, a client-assertion jti) in namespace
	// ns until expiresAt. It returns false if the value was already recorded
	// and is still live: a replay.
	MarkUsed(ctx context.Context, ns, value string, expiresAt time.Time) (bool, error)
	// Marked reports whether value is recorded and live in namespace ns: a
	// read of the same records (a denylist check, say). A value this store
	// marked is seen at once; one marked through another store on the same
	// database (another process) at once on PostgreSQL, and within a second
	// on SQLite, which answers from a copy in memory.
	Marked(ctx context.Context, ns, value string) (bool, error)

	// DeleteExpired removes runtime records that expired before now and
	// returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// KeyState is a signing key's place in rotation.
type KeyState string

const (
	// KeyNext is published (JWKS, metadata) but does not sign yet.
	KeyNext KeyState = "next"
	// KeyCurrent signs.
	KeyCurrent KeyState = "current"
	// KeyPrevious no longer signs but is still published, so that what it
	// signed can be verified until it expires.
	KeyPrevious KeyState = "previous"
	// KeyRetired is neither published nor used; kept for audit.
	KeyRetired KeyState = "retired"
)

// KeyRecord is a stored signing key. The private key is sealed (encrypted)
// by package keys before it reaches the store.
type KeyRecord struct {
	ID        string
	Algorithm string // "RS256" or "ES256"
	State     KeyState
	// SealedPrivateKey is the AEAD-sealed PKCS#8 private key.
	SealedPrivateKey []byte
	// CertificateDER is the self-signed certificate published in SAML
	// metadata.
	CertificateDER []byte
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Keys persists signing keys.
type Keys interface {
	// InsertKey adds a key; ErrDuplicate if the id exists.
	InsertKey(ctx context.Context, k KeyRecord) error
	ListKeys(ctx context.Context) ([]KeyRecord, error)
	// SetKeyStates changes the states of several keys in one transaction
	// (a rotation step), so that there is never a moment without a current
	// key.
	SetKeyStates(ctx context.Context, states map[string]KeyState) error
}

// Locker gives cluster-wide singletons (registry sync, key rotation) a named
// lock: a PostgreSQL advisory lock, or on SQLite a lock file beside the
// database, which holds across the processes that share the file.
type Locker interface {
	// TryLock takes the named lock if it is free. It returns ErrLocked if
	// another holder has it. The returned release must be called.
	TryLock(ctx context.Context, name string) (release func(), err error)
}
