package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/store"
)

// BasePath is where the API is mounted.
const BasePath = "/api/v2"

// Config configures the API.
type Config struct {
	// PublicURL is the external base URL of the service (https://host); it
	// is the origin browser requests must come from, and the base of the
	// sign-in redirect and of logo URLs.
	PublicURL string
	// Dev relaxes what only a development installation may: API tokens
	// created without an admin-organisation user.
	Dev bool

	// Issuer, ClientID and ClientSecret configure browser sign-in with
	// OpenID Connect; an empty Issuer disables it. GroupsClaim names the
	// claim with the role groups (default "groups").
	Issuer       string
	ClientID     string
	ClientSecret string
	// CASURL is the CAS 3.0 server (the national staff login) offered as an
	// alternative sign-in at /auth/cas/login; empty turns it off.
	CASURL string
	// CASGroupsAttribute is the CAS attribute that lists the role groups
	// (default "roles").
	CASGroupsAttribute string
	GroupsClaim        string
	// SessionLifetime bounds a browser session (default 8 h).
	SessionLifetime time.Duration

	// ProvisioningUser and ProvisioningPassword protect the provisioning
	// interface with HTTP Basic; an empty password disables it.
	ProvisioningUser     string
	ProvisioningPassword string

	// ExpiryWindow is the default window of the expiry watch (30 days).
	ExpiryWindow time.Duration
	// MaxLogoSize limits uploaded logos (default 256 KiB).
	MaxLogoSize int64
	// MaxMetadataSize limits uploaded SAML metadata (default 4 MiB).
	MaxMetadataSize int64
	// HTTPClient talks to the OIDC issuer and fetches metadata URLs.
	HTTPClient *http.Client
	// AllowLoopbackMetadata lets metadata URLs be http://127.0.0.1 (tests).
	AllowLoopbackMetadata bool
}

// Store is what the API needs of the store.
type Store interface {
	store.Integrations
	store.Admin
}

// Deps are the API's collaborators.
type Deps struct {
	Store Store
	// Registry supplies the organisations and schools that validation
	// checks against.
	Registry *registry.Registry
	// Sealer seals integration secrets and browser sessions.
	Sealer *keys.Sealer
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// API is the management REST API. It is safe for concurrent use.
type API struct {
	cfg  Config
	st   Store
	reg  *registry.Registry
	seal *keys.Sealer
	log  *slog.Logger
	now  func() time.Time

	oidcMu sync.Mutex
	oidc   *oidcClient
}

// New returns the API. It does not contact the OIDC issuer; that happens
// on the first sign-in.
func New(cfg Config, deps Deps) (*API, error) {
	if deps.Store == nil {
		return nil, errors.New("admin: no store")
	}
	if deps.Sealer == nil {
		return nil, errors.New("admin: no sealer")
	}
	if deps.Registry == nil {
		deps.Registry = registry.NewRegistry(nil)
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.CASGroupsAttribute == "" {
		cfg.CASGroupsAttribute = "roles"
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 8 * time.Hour
	}
	if cfg.ExpiryWindow <= 0 {
		cfg.ExpiryWindow = 30 * 24 * time.Hour
	}
	if cfg.MaxLogoSize <= 0 {
		cfg.MaxLogoSize = 256 << 10
	}
	if cfg.MaxMetadataSize <= 0 {
		cfg.MaxMetadataSize = 4 << 20
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Issuer != "" && (cfg.ClientID == "" || cfg.PublicURL == "") {
		return nil, errors.New("admin: OIDC sign-in needs ClientID and PublicURL")
	}
	return &API{cfg: cfg, st: deps.Store, reg: deps.Registry, seal: deps.Sealer, log: deps.Logger, now: deps.Now}, nil
}

// access says who may call a route.
type access int

const (
	accessPublic       access = iota // anyone
	accessPrincipal                  // a signed-in user or an API token
	accessProvisioning               // HTTP Basic of the provisioning interface
)

// route is one registered endpoint. The OpenAPI test walks this table.
type route struct {
	method, pattern string
	access          access
	handle          func(w http.ResponseWriter, r *http.Request, p *Principal)
}

func (a *API) routes() []route {
	b := BasePath
	return []route{
		{"GET", b + "/openapi.json", accessPublic, a.handleOpenAPI},

		{"GET", b + "/integration/search", accessPrincipal, a.handleSearch},
		{"GET", b + "/integration", accessPrincipal, a.handleTemplate},
		{"POST", b + "/integration", accessPrincipal, a.handleCreate},
		{"GET", b + "/integration/{id}", accessPrincipal, a.handleGet},
		{"PUT", b + "/integration/{id}", accessPrincipal, a.handleUpdate},
		{"DELETE", b + "/integration/{id}/inactive", accessPrincipal, a.handleInactivate},
		{"GET", b + "/integration/discoveryinformation", accessPrincipal, a.handleDiscoveryInformation},
		{"POST", b + "/integration/{id}/discoveryinformation/logo", accessPrincipal, a.handleLogoUpload},
		{"GET", b + "/integration/{id}/discoveryinformation/logo", accessPublic, a.handleLogoGet},
		{"GET", b + "/integration/{id}/history", accessPrincipal, a.handleHistory},
		{"POST", b + "/integration/{id}/history/{version}/restore", accessPrincipal, a.handleRestore},
		{"GET", b + "/integration/expiring", accessPrincipal, a.handleExpiring},
		{"POST", b + "/idp/saml/metadata/{id}", accessPrincipal, a.handleMetadataUpload},
		{"GET", b + "/idp/saml/metadata/{id}", accessPrincipal, a.handleMetadataGet},
		{"GET", b + "/idp/types", accessPrincipal, a.handleIdPTypes},
		{"GET", b + "/sp/types", accessPrincipal, a.handleSPTypes},
		{"GET", b + "/sp/{key...}", accessPrincipal, a.handleSPLookup},
		{"GET", b + "/attribute/names", accessPrincipal, a.handleAttributeNames},

		{"GET", b + "/tokens", accessPrincipal, a.handleListTokens},
		{"POST", b + "/tokens", accessPrincipal, a.handleCreateToken},
		{"DELETE", b + "/tokens/{id}", accessPrincipal, a.handleDeleteToken},

		{"GET", b + "/auth/login", accessPublic, a.handleLogin},
		{"GET", b + "/auth/callback", accessPublic, a.handleCallback},
		{"POST", b + "/auth/logout", accessPublic, a.handleLogout},
		{"GET", b + "/auth/me", accessPrincipal, a.handleMe},
		{"GET", b + "/auth/cas/login", accessPublic, a.handleCASLogin},
		{"GET", b + "/auth/cas/callback", accessPublic, a.handleCASCallback},

		{"GET", b + "/provisioning/identityproviders", accessProvisioning, a.handleProvisioningIdPs},
		{"GET", b + "/provisioning/serviceproviders", accessProvisioning, a.handleProvisioningSPs},
		{"GET", b + "/provisioning/configuration/status", accessProvisioning, a.handleProvisioningStatus},
		{"PUT", b + "/provisioning", accessProvisioning, a.handleProvisioningRecord},
	}
}

// Routes registers the API on mux under BasePath.
func (a *API) Routes(mux *http.ServeMux) {
	for _, rt := range a.routes() {
		mux.Handle(rt.method+" "+rt.pattern, a.wrap(rt))
	}
}

// ServeHTTP serves the API on its own mux, for tests and simple mounting.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mux := http.NewServeMux()
	a.Routes(mux)
	mux.ServeHTTP(w, r)
}

func (a *API) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch rt.access {
		case accessPublic:
			rt.handle(w, r, nil)
		case accessProvisioning:
			if !a.provisioningAuth(r) {
				w.Header().Set("WWW-Authenticate", `Basic realm="mpassid provisioning"`)
				a.fail(w, r, http.StatusUnauthorized, "authentication required")
				return
			}
			rt.handle(w, r, &Principal{Subject: "provisioning", Via: "basic"})
		case accessPrincipal:
			p, err := a.authenticate(r)
			if err != nil {
				var he *httpError
				if errors.As(err, &he) {
					a.fail(w, r, he.status, he.msg)
					return
				}
				a.fail(w, r, http.StatusUnauthorized, "authentication required")
				return
			}
			rt.handle(w, r, p)
		}
	})
}

// httpError is an error with the status to answer.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// ErrorBody is every error answer: {status, timestamp, message}, and for
// validation the field errors.
type ErrorBody struct {
	Status    int                `json:"status"`
	Timestamp time.Time          `json:"timestamp"`
	Message   string             `json:"message"`
	Errors    []model.FieldError `json:"errors,omitempty"`
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, status int, msg string, fields ...model.FieldError) {
	a.writeJSON(w, status, ErrorBody{Status: status, Timestamp: a.now().UTC(), Message: msg, Errors: fields})
}

// failErr answers err: store and validation errors with their status, and
// anything else as a logged 500 without details.
func (a *API) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var fe *model.FieldError
	var de *store.DuplicateError
	var he *httpError
	var ve *validationError
	switch {
	case errors.As(err, &he):
		a.fail(w, r, he.status, he.msg)
	case errors.As(err, &ve):
		a.fail(w, r, http.StatusBadRequest, "validation failed", ve.fields...)
	case errors.As(err, &de):
		a.fail(w, r, http.StatusConflict, "duplicate "+de.Field, model.FieldError{Field: duplicateField(de.Field), Message: fmt.Sprintf("%q is already used by another active integration", de.Value)})
	case errors.Is(err, store.ErrConflict):
		a.fail(w, r, http.StatusConflict, "the integration was changed by someone else; reload it")
	case errors.Is(err, store.ErrNotFound):
		a.fail(w, r, http.StatusNotFound, "not found")
	case errors.As(err, &fe):
		a.fail(w, r, http.StatusBadRequest, "validation failed", *fe)
	default:
		a.log.ErrorContext(r.Context(), "admin api", "path", r.URL.Path, "error", err)
		a.fail(w, r, http.StatusInternalServerError, "internal error")
	}
}

func duplicateField(f string) string {
	switch f {
	case "entityId":
		return "configurationEntity.sp.metadata.entityId"
	case "client_id":
		return "configurationEntity.sp.metadata.client_id"
	}
	return f
}

func (a *API) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		a.log.Warn("admin api: write response", "error", err)
	}
}

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 1 << 20

// readBody reads at most limit bytes of the body; more is a 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", limit)}
		}
		return nil, &httpError{http.StatusBadRequest, "cannot read the body"}
	}
	return data, nil
}

// decodeJSON reads a JSON body into v, refusing unknown fields.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := readBody(w, r, maxJSONBody)
	if err != nil {
		return err
	}
	return decodeStrict(data, v)
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &httpError{http.StatusBadRequest, "invalid JSON: " + err.Error()}
	}
	if dec.More() {
		return &httpError{http.StatusBadRequest, "invalid JSON: trailing data"}
	}
	return nil
}

// forbidden is the answer to a principal without the role for an action.
func forbidden() error { return &httpError{http.StatusForbidden, "forbidden"} }

func badRequest(msg string) error { return &httpError{http.StatusBadRequest, msg} }

// actor names the principal in revisions and logs.
func actor(p *Principal) string {
	if p.Name != "" {
		return p.Name + " (" + p.Subject + ")"
	}
	return p.Subject
}

func (a *API) lookup() *registry.Lookup { return a.reg.Current() }

func (a *API) organisation(oid string) (*model.Organisation, bool) { return a.lookup().ByOID(oid) }
