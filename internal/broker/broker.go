package broker

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpassid/mpassid/internal/audit"
	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/identity"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/store"
)

// Paths the broker serves.
const (
	SelectPath   = "/login/select"
	CallbackPath = "/login/callback/"
)

// Cookie names. The transaction cookie binds a login transaction to the
// browser that started it; the SSO cookie carries the SSO session.
const (
	// txCookie prefixes the cookie that carries one login transaction,
	// sealed; its name ends with the start of the transaction id, so that
	// logins in several tabs do not overwrite each other.
	txCookie  = "mpassid_tx_"
	ssoCookie = "mpassid_sso"
)

// Config is the broker's part of the configuration.
type Config struct {
	// BaseURL is the public base URL, without a trailing slash.
	BaseURL             string
	TransactionLifetime time.Duration
	SessionLifetime     time.Duration
	SessionIdleTimeout  time.Duration
	DefaultLanguage     string
	// Policy maps and allows role names for the identity pipeline.
	Policy identity.Policy
	Now    func() time.Time
}

// ConnectorFactory builds the connector of an IdP integration. The app
// provides it, so the broker need not know the connector packages.
type ConnectorFactory func(ctx context.Context, src *model.Integration) (connector.Connector, error)

// Deps are the broker's collaborators.
type Deps struct {
	Store      store.Store
	Registry   *registry.Registry
	Connectors ConnectorFactory
	Logger     *slog.Logger
	// Sealer seals the login transaction into the browser's cookie.
	Sealer *keys.Sealer
}

// Broker runs logins. It is safe for concurrent use.
type Broker struct {
	cfg      Config
	st       store.Store
	registry *registry.Registry
	newConn  ConnectorFactory
	log      *slog.Logger
	audit    *audit.Logger
	sealer   *keys.Sealer

	// pending holds sessions created by a callback until the frontend has
	// answered, so that the session and its first participant are stored in
	// one write.
	pendingMu  sync.Mutex
	pending    map[string]*pendingSession
	catalog    atomic.Pointer[Catalog]
	responders map[Protocol]Responder
	// backChannels log out services of a protocol without the browser.
	backChannels map[Protocol]BackChannelLogout
	// frontChannels log out services of a protocol through the browser.
	frontChannels map[Protocol]FrontChannelLogout

	connMu     sync.Mutex
	connectors map[int64]builtConnector
	building   map[int64]*sync.Mutex

	// pages caches the selection page's index (pages.go).
	pages pageState
}

// New builds a broker; call Reload before serving and SetResponder for each
// frontend.
func New(cfg Config, deps Deps) (*Broker, error) {
	if deps.Store == nil || deps.Registry == nil || deps.Connectors == nil || deps.Logger == nil || deps.Sealer == nil {
		return nil, errors.New("broker: store, registry, connector factory, logger and sealer are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DefaultLanguage == "" {
		cfg.DefaultLanguage = "fi"
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	b := &Broker{
		cfg: cfg, st: deps.Store, registry: deps.Registry, newConn: deps.Connectors, log: deps.Logger, audit: audit.New(deps.Logger),
		sealer: deps.Sealer, pending: map[string]*pendingSession{},
		responders: map[Protocol]Responder{}, connectors: map[int64]builtConnector{}, building: map[int64]*sync.Mutex{},
		backChannels: map[Protocol]BackChannelLogout{}, frontChannels: map[Protocol]FrontChannelLogout{},
	}
	b.catalog.Store(NewCatalog(0, nil))
	return b, nil
}

// SetResponder registers the frontend that answers services of protocol p.
// Call it before serving.
func (b *Broker) SetResponder(p Protocol, r Responder) { b.responders[p] = r }

// SetBackChannel registers the frontend that logs out services of protocol
// p without the browser. Call it before serving.
func (b *Broker) SetBackChannel(p Protocol, bc BackChannelLogout) { b.backChannels[p] = bc }

// SetFrontChannel registers the frontend that logs out services of
// protocol p through the browser. Call it before serving.
func (b *Broker) SetFrontChannel(p Protocol, fc FrontChannelLogout) { b.frontChannels[p] = fc }

// Catalog returns the current configuration snapshot.
func (b *Broker) Catalog() *Catalog { return b.catalog.Load() }

// Reload rebuilds the catalog from the store if the configuration version
// moved, and swaps it in atomically. It returns whether it changed.
func (b *Broker) Reload(ctx context.Context) (bool, error) {
	v, err := b.st.ConfigVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("broker: configuration version: %w", err)
	}
	if cur := b.catalog.Load(); cur.Version == v && v != 0 {
		return false, nil
	}
	all, _, err := b.st.ListIntegrations(ctx, store.IntegrationFilter{})
	if err != nil {
		return false, fmt.Errorf("broker: load integrations: %w", err)
	}
	b.catalog.Store(NewCatalog(v, all))
	return true, nil
}

// Routes mounts the selection page and the connectors' callback.
func (b *Broker) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+SelectPath, b.handleSelectPage)
	mux.HandleFunc("POST "+SelectPath, b.handleSelect)
	mux.HandleFunc("GET "+CallbackPath+"{source}", b.handleCallback)
	mux.HandleFunc("POST "+CallbackPath+"{source}", b.handleCallback)
	b.StaticRoutes(mux)
}

// transaction is what the broker keeps between a service's request and its
// answer.
type transaction struct {
	Request        Request   `json:"request"`
	SourceID       int64     `json:"sourceId,omitempty"`
	ConnectorState []byte    `json:"connectorState,omitempty"`
	Language       string    `json:"language"`
	CreatedAt      time.Time `json:"createdAt"`
}

// pendingSession is an SSO session not yet stored.
type pendingSession struct {
	rec  store.Session
	data sessionData
}

// sessionData is what an SSO session holds.
type sessionData struct {
	User         *model.User   `json:"user"`
	SourceID     int64         `json:"sourceId"`
	Source       string        `json:"source"`
	AuthnInstant time.Time     `json:"authnInstant"`
	Participants []Participant `json:"participants,omitempty"`
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Begin starts or, with a usable SSO session, at once completes a login.
func (b *Broker) Begin(w http.ResponseWriter, r *http.Request, req Request) {
	ctx := r.Context()
	cat := b.Catalog()
	svc, ok := cat.Service(req.ServiceID)
	if !ok {
		b.errorPage(w, r, http.StatusBadRequest, msgUnknownService, "", "service not in catalog", slog.Int64("service", req.ServiceID))
		return
	}
	lang := b.language(r, req.Language)
	sources := b.allowedSources(cat, svc, req.Sources)
	if len(sources) == 0 {
		b.respond(w, r, &Result{Request: req, Service: svc, Err: b.loginError(ctx, ErrCodeNoSource, "no identity source available for this service", svc, "", nil)})
		return
	}

	if sess, data := b.usableSession(r, req, sources); sess != nil {
		b.audit.LoggedIn(ctx, audit.Login{Service: svc.ID(), Source: sess.Source, UID: data.User.UID, Result: audit.ResultSSO})
		b.respond(w, r, &Result{Request: req, Service: svc, User: data.User, Session: *sess})
		return
	}
	if req.Passive {
		b.respond(w, r, &Result{Request: req, Service: svc, Err: b.loginError(ctx, ErrCodeNoPassive, "no active session and passive login requested", svc, "", nil)})
		return
	}

	tx := transaction{Request: req, Language: lang, CreatedAt: b.cfg.Now()}
	txID := randomToken()
	b.pruneTransactions(w, r, maxOpenTransactions-1)
	if err := b.putTransaction(w, r, txID, &tx); err != nil {
		b.errorPage(w, r, http.StatusInternalServerError, msgTechnical, lang, "seal transaction", slog.Any("error", err))
		return
	}
	if len(sources) == 1 {
		b.startSource(w, r, txID, &tx, svc, sources[0])
		return
	}
	http.Redirect(w, r, SelectPath+"?tx="+txID, http.StatusSeeOther)
}

// allowedSources returns the sources the service may use, narrowed to the
// flowNames it asked for.
func (b *Broker) allowedSources(cat *Catalog, svc *Service, want []string) []*model.Integration {
	all := cat.SourcesFor(svc)
	if len(want) == 0 {
		return all
	}
	var out []*model.Integration
	for _, src := range all {
		for _, w := range want {
			if strings.EqualFold(src.IdP.FlowName, w) {
				out = append(out, src)
				break
			}
		}
	}
	return out
}

// usableSession returns the browser's SSO session if it may answer req
// without a new upstream login.
func (b *Broker) usableSession(r *http.Request, req Request, sources []*model.Integration) (*Session, *sessionData) {
	if req.ForceAuthn {
		return nil, nil
	}
	sess, data, err := b.loadSession(r)
	if err != nil {
		// The user logs in again, which is right whatever the cause; but a
		// store that fails, or records this version cannot read (after a
		// rollback past a format change), should not pass unseen. A read
		// cut short by the browser leaving is routine.
		if connector.ClientGone(r.Context(), err) {
			b.log.InfoContext(r.Context(), "SSO session not read: the client went away", slog.Any("error", err), slog.Bool("client_gone", true))
		} else {
			b.log.WarnContext(r.Context(), "SSO session unreadable: a new login instead", slog.Any("error", err))
		}
		return nil, nil
	}
	if sess == nil {
		return nil, nil
	}
	if req.HasMaxAge && b.cfg.Now().Sub(sess.AuthnInstant) > req.MaxAge {
		return nil, nil
	}
	for _, src := range sources {
		if src.ID == sess.SourceID {
			return sess, data
		}
	}
	return nil, nil
}

// putTransaction seals the transaction into its cookie. The transaction
// lives only there: no database write, any instance can continue it, and
// only the browser that holds the cookie can. Single use of the upstream
// answer is the connectors' replay cache's job.
func (b *Broker) putTransaction(w http.ResponseWriter, r *http.Request, id string, tx *transaction) error {
	sealed, err := b.sealer.SealString(string(encodeTransaction(tx)), txCookieName(id))
	if err != nil {
		return fmt.Errorf("seal transaction: %w", err)
	}
	remaining := tx.CreatedAt.Add(b.cfg.TransactionLifetime).Sub(b.cfg.Now())
	b.setCookie(w, r, txCookieName(id), sealed, remaining)
	return nil
}

// txCookieName names the cookie of transaction id; the name is also the
// seal's associated data, so a transaction cannot be moved to another
// transaction's cookie.
func txCookieName(id string) string {
	if len(id) > 16 {
		id = id[:16]
	}
	return txCookie + id
}

// errNoTransaction: the browser holds no live transaction of that id
// (another browser, expired, finished, or forged).
var errNoTransaction = errors.New("no such login transaction in this browser")

// loadTransaction opens the transaction from this browser's cookie.
func (b *Broker) loadTransaction(r *http.Request, id string) (*transaction, error) {
	if id == "" {
		return nil, errNoTransaction
	}
	c, err := r.Cookie(txCookieName(id))
	if err != nil {
		return nil, errNoTransaction
	}
	data, err := b.sealer.OpenString(c.Value, c.Name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoTransaction, err)
	}
	// A sealed transaction that does not decode (one of a newer version,
	// met during a rollback) is as unusable as one that does not open:
	// the user starts again, rather than seeing a technical error.
	tx, err := decodeTransaction([]byte(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoTransaction, err)
	}
	if !b.cfg.Now().Before(tx.CreatedAt.Add(b.cfg.TransactionLifetime)) {
		return nil, fmt.Errorf("%w: expired", errNoTransaction)
	}
	return tx, nil
}

// maxOpenTransactions bounds the login transactions one browser keeps: each
// is a cookie of about a kilobyte, and a child who clicks "log in" in many
// tabs must not grow the Cookie header past what proxies accept.
const maxOpenTransactions = 4

// pruneTransactions clears all but the newest keep transaction cookies of
// the request (and any that do not open).
func (b *Broker) pruneTransactions(w http.ResponseWriter, r *http.Request, keep int) {
	type open struct {
		name    string
		created time.Time
	}
	var live []open
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, txCookie) {
			continue
		}
		// An unreadable or expired transaction just goes.
		created, ok := b.peekCreated(c)
		if !ok {
			b.clearCookie(w, r, c.Name)
			continue
		}
		live = append(live, open{c.Name, created})
	}
	if len(live) <= keep {
		return
	}
	sort.Slice(live, func(i, j int) bool { return live[i].created.After(live[j].created) })
	for _, o := range live[keep:] {
		b.clearCookie(w, r, o.name)
	}
}

// peekCreated opens a transaction cookie and returns when its transaction
// began, or false if it does not open or has expired.
func (b *Broker) peekCreated(c *http.Cookie) (time.Time, bool) {
	data, err := b.sealer.OpenString(c.Value, c.Name)
	if err != nil {
		return time.Time{}, false
	}
	tx, err := decodeTransaction([]byte(data))
	if err != nil || !b.cfg.Now().Before(tx.CreatedAt.Add(b.cfg.TransactionLifetime)) {
		return time.Time{}, false
	}
	return tx.CreatedAt, true
}

// endTransaction clears the transaction's cookie.
func (b *Broker) endTransaction(w http.ResponseWriter, r *http.Request, id string) {
	b.clearCookie(w, r, txCookieName(id))
}

// startSource sends the browser to the chosen source.
func (b *Broker) startSource(w http.ResponseWriter, r *http.Request, txID string, tx *transaction, svc *Service, src *model.Integration) {
	ctx := r.Context()
	conn, err := b.connector(ctx, src)
	if err != nil {
		b.respond(w, r, &Result{Request: tx.Request, Service: svc, Err: b.loginError(ctx, ErrCodeFailed, "identity source unavailable", svc, src.IdP.FlowName, err)})
		return
	}
	lreq := b.connectorRequest(txID, tx, src)
	started, err := conn.Start(ctx, lreq)
	if err != nil {
		b.respond(w, r, &Result{Request: tx.Request, Service: svc, Err: b.loginError(ctx, ErrCodeFailed, "identity source unavailable", svc, src.IdP.FlowName, err)})
		return
	}
	tx.SourceID = src.ID
	tx.ConnectorState = started.State
	if err := b.putTransaction(w, r, txID, tx); err != nil {
		b.errorPage(w, r, http.StatusInternalServerError, msgTechnical, tx.Language, "update transaction", slog.Any("error", err))
		return
	}
	if started.Redirect.Form != nil {
		autoPost(w, started.Redirect.URL, started.Redirect.Form, tx.Language)
		return
	}
	http.Redirect(w, r, started.Redirect.URL, http.StatusSeeOther)
}

func (b *Broker) connectorRequest(txID string, tx *transaction, src *model.Integration) connector.LoginRequest {
	return connector.LoginRequest{
		TransactionID: txID,
		CallbackURL:   b.cfg.BaseURL + CallbackPath + strconv.FormatInt(src.ID, 10),
		ForceAuthn:    tx.Request.ForceAuthn,
		Passive:       tx.Request.Passive,
		Language:      tx.Language,
	}
}

// ConnectorFor returns the connector of the active source with the id (for
// its metadata, say).
func (b *Broker) ConnectorFor(ctx context.Context, sourceID int64) (connector.Connector, error) {
	src, ok := b.Catalog().Source(sourceID)
	if !ok {
		return nil, fmt.Errorf("no active source %d", sourceID)
	}
	return b.connector(ctx, src)
}

// connector returns the connector of src, built once per version of that
// integration: a change to another integration keeps it (a SAML source's
// connector fetched its IdP metadata when built). It is built without
// holding the shared lock, so one slow source cannot stall the others'
// logins; a per-source lock makes logins racing on a new version build once.
func (b *Broker) connector(ctx context.Context, src *model.Integration) (connector.Connector, error) {
	b.connMu.Lock()
	cached, ok := b.connectors[src.ID]
	building := b.building[src.ID]
	if building == nil {
		building = &sync.Mutex{}
		b.building[src.ID] = building
	}
	b.connMu.Unlock()
	if ok && cached.version == src.Version {
		return cached.c, nil
	}
	building.Lock()
	defer building.Unlock()
	b.connMu.Lock()
	cached, ok = b.connectors[src.ID]
	b.connMu.Unlock()
	if ok && cached.version == src.Version {
		return cached.c, nil // built by the login that held the lock
	}
	c, err := b.newConn(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("build connector for source %d: %w", src.ID, err)
	}
	b.connMu.Lock()
	b.connectors[src.ID] = builtConnector{version: src.Version, c: c}
	b.connMu.Unlock()
	return c, nil
}

// builtConnector is a connector with the integration version it was built
// from.
type builtConnector struct {
	version int64
	c       connector.Connector
}

func (b *Broker) handleSelect(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxCallbackBody)
	if err := r.ParseForm(); err != nil {
		b.errorPage(w, r, http.StatusBadRequest, msgBadRequest, "", "parse selection form", slog.Any("error", err))
		return
	}
	txID := r.PostForm.Get("tx")
	tx, err := b.loadTransaction(r, txID)
	if err != nil {
		b.transactionError(w, r, err)
		return
	}
	cat := b.Catalog()
	svc, ok := cat.Service(tx.Request.ServiceID)
	if !ok {
		b.errorPage(w, r, http.StatusBadRequest, msgUnknownService, tx.Language, "service gone during login")
		return
	}
	choice := r.PostForm.Get("source")
	srcID, _ := parseChoice(choice)
	for _, src := range b.allowedSources(cat, svc, tx.Request.Sources) {
		if src.ID == srcID {
			b.rememberChoice(w, r, choice)
			b.startSource(w, r, txID, tx, svc, src)
			return
		}
	}
	b.errorPage(w, r, http.StatusBadRequest, msgBadRequest, tx.Language, "selected source not allowed", slog.Int64("source", srcID))
}

// maxCallbackBody caps what a callback or selection POST may send; a SAML
// response with an encrypted assertion is tens of kilobytes.
const maxCallbackBody = 1 << 20

func (b *Broker) handleCallback(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxCallbackBody)
	ctx := r.Context()
	srcID, err := strconv.ParseInt(r.PathValue("source"), 10, 64)
	cat := b.Catalog()
	src, ok := cat.Source(srcID)
	if err != nil || !ok {
		b.errorPage(w, r, http.StatusNotFound, msgBadRequest, "", "callback for unknown source", slog.String("source", r.PathValue("source")))
		return
	}
	conn, err := b.connector(ctx, src)
	if err != nil {
		b.errorPage(w, r, http.StatusInternalServerError, msgTechnical, "", "connector", slog.Any("error", err))
		return
	}
	txID, err := conn.TransactionID(r)
	if err != nil {
		b.errorPage(w, r, http.StatusBadRequest, msgExpired, "", "callback without transaction", slog.Any("error", err))
		return
	}
	tx, err := b.loadTransaction(r, txID)
	if err != nil {
		b.transactionError(w, r, err)
		return
	}
	svc, ok := cat.Service(tx.Request.ServiceID)
	if !ok || tx.SourceID != src.ID {
		b.errorPage(w, r, http.StatusBadRequest, msgBadRequest, tx.Language, "callback does not match the transaction", slog.Int64("source", src.ID))
		return
	}
	ident, err := conn.Callback(ctx, r, b.connectorRequest(txID, tx, src), tx.ConnectorState)
	if err != nil {
		code := ErrCodeFailed
		if errors.Is(err, connector.ErrCancelled) {
			code = ErrCodeCancelled
		}
		b.endTransaction(w, r, txID)
		b.respond(w, r, &Result{Request: tx.Request, Service: svc, Err: b.loginError(ctx, code, "upstream login failed", svc, src.IdP.FlowName, err)})
		return
	}
	idpCfg, err := identity.IdPConfigOf(src)
	if err != nil {
		b.errorPage(w, r, http.StatusInternalServerError, msgTechnical, tx.Language, "source configuration", slog.Any("error", err))
		return
	}
	built, err := identity.Build(identity.Input{IdP: idpCfg, Raw: ident.Attributes, Registry: b.registry.Current(), Policy: b.cfg.Policy})
	// The transaction ends here whatever the outcome.
	b.endTransaction(w, r, txID)
	if err != nil {
		b.respond(w, r, &Result{Request: tx.Request, Service: svc, Err: b.loginError(ctx, ErrCodeFailed, "the identity source did not identify the user", svc, src.IdP.FlowName, err)})
		return
	}
	for _, d := range built.Dropped {
		b.log.InfoContext(ctx, "attribute value not released", slog.Int64("source", src.ID), slog.String("reason", string(d.Reason)), slog.String("detail", d.Message))
	}
	built.User.Source = src.IdP.FlowName
	sess, err := b.startSession(w, r, built.User, src, ident.AuthnInstant)
	if err != nil {
		b.errorPage(w, r, http.StatusInternalServerError, msgTechnical, tx.Language, "create session", slog.Any("error", err))
		return
	}
	b.audit.LoggedIn(ctx, audit.Login{Service: svc.ID(), Source: src.IdP.FlowName, UID: built.User.UID, Result: audit.ResultUpstream})
	b.respond(w, r, &Result{Request: tx.Request, Service: svc, User: built.User, Session: *sess})
	// Stored once, with the participant the frontend recorded while
	// answering; the answer is still in the server's buffer until this
	// handler returns.
	// Not the request's context: the answer is written, and a browser that
	// has gone away must not leave its session half made.
	if err := b.storeSession(context.WithoutCancel(ctx), sess.ID); err != nil {
		b.log.ErrorContext(ctx, "store SSO session", slog.Any("error", err))
	}
}

func (b *Broker) respond(w http.ResponseWriter, r *http.Request, res *Result) {
	resp, ok := b.responders[res.Request.Protocol]
	if !ok {
		b.errorPage(w, r, http.StatusInternalServerError, msgTechnical, "", "no responder for protocol", slog.String("protocol", string(res.Request.Protocol)))
		return
	}
	resp.Respond(w, r, res)
}

// loginError logs why a login failed, with a reference code the user can
// quote, and returns the error for the service.
func (b *Broker) loginError(ctx context.Context, code ErrorCode, desc string, svc *Service, source string, cause error) *LoginError {
	ref := reference()
	b.audit.LoginFailed(ctx, audit.Failure{Service: svc.ID(), Source: source, Result: string(code), Reference: ref, Detail: desc, Cause: cause,
		ClientGone: connector.ClientGone(ctx, cause)})
	return &LoginError{Code: code, Description: desc, Reference: ref}
}

func (b *Broker) transactionError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errNoTransaction):
		b.errorPage(w, r, http.StatusBadRequest, msgExpired, "", "login transaction missing, expired, finished or of another browser", slog.Any("error", err))
	default:
		b.errorPage(w, r, http.StatusInternalServerError, msgTechnical, "", "load transaction", slog.Any("error", err))
	}
}

// reference returns a short code that finds a failure in the logs.
// It is read aloud over the phone and typed from a screenshot, so its
// alphabet leaves out letters and digits that look alike (0/O, 1/I/L, 5/S,
// 2/Z, 8/B) and anything that needs escaping.
func reference() string {
	const alphabet = "ACDEFGHJKMNPQRTUVWXY34679"
	b := make([]byte, 7)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (b *Broker) cookieSecure() bool { return strings.HasPrefix(b.cfg.BaseURL, "https://") }

// setCookie sets a host-only, HTTP-only cookie. Over https it is
// SameSite=None, since upstream SAML sources answer with a cross-site POST;
// over plain http (dev, tests on 127.0.0.1, where every port is the same
// site) Lax.
func (b *Broker) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	if !plainCookieValue(value) || maxAge < time.Second {
		c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, MaxAge: int(maxAge.Seconds())}
		if b.cookieSecure() {
			c.Secure, c.SameSite = true, http.SameSiteNoneMode
		} else {
			c.SameSite = http.SameSiteLaxMode
		}
		http.SetCookie(w, c)
		return
	}
	// The values are sealed tokens, which need no quoting;
	// writing the header directly, in the order http.SetCookie uses,
	// spares net/http's byte-by-byte sanitising of a kilobyte-long value
	// on every step of every login.
	flags := "; HttpOnly; SameSite=Lax"
	if b.cookieSecure() {
		flags = "; HttpOnly; Secure; SameSite=None"
	}
	w.Header().Add("Set-Cookie", name+"="+value+"; Path=/; Max-Age="+strconv.Itoa(int(maxAge.Seconds()))+flags)
}

// plainCookieValue reports whether v is non-empty and made only of bytes
// net/http writes as they are: printable ASCII except space, '"', ',',
// ';' and '\\' (which it quotes or drops). Sealed tokens ("v1:" and
// base64url) are.
func plainCookieValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

func (b *Broker) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	c := &http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, MaxAge: -1}
	if b.cookieSecure() {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	http.SetCookie(w, c)
}
