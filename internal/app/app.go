// Package app builds the program's object graph from a validated
// configuration and runs it: it opens the store (retrying while the database
// is not there yet), migrates, makes sure signing keys exist, seeds the demo
// system in dev mode, mounts the HTTP rooms of the configured roles, runs the
// background jobs and shuts everything down gracefully.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/admin/ui"
	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/connector/testidp"
	oidcop "github.com/mpassid/mpassid/internal/frontend/oidc"
	samlidp "github.com/mpassid/mpassid/internal/frontend/saml"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/web"
)

// App is one running instance of mpassid.
type App struct {
	cfg    *config.Config
	log    *slog.Logger
	store  store.Store
	sealer *keys.Sealer
	keys   *keys.Manager
	// keySet is the current signing-key snapshot; frontends read it on
	// every response, the config watcher and key rotation replace it.
	keySet  atomic.Pointer[keys.KeySet]
	metrics *prometheus.Registry
	// signMeter counts the signatures of the broker's keys, for metrics.
	signMeter *keys.SignMeter
	// logCounts counts the lines the instance logs, by level, for metrics.
	logCounts *logCounts
	// httpMetrics counts and times every request (web.Logging).
	httpMetrics *web.HTTPMetrics
	// upstream is the HTTP client of the broker's own calls to other
	// servers (newUpstreamClient), its connections kept for reuse.
	upstream *http.Client
	// registry is the in-memory organisation registry the login path reads.
	registry *registry.Registry
	syncer   *registry.Syncer
	// loadedStamp identifies the registry content New loaded (see
	// registryStamp).
	loadedStamp int64
	broker      *broker.Broker
	testIdP     *testidp.Connector
	samlIdP     *samlidp.IdP
	oidcOP      *oidcop.Provider
	admin       *admin.API
	adminUI     *ui.UI
	// bgCtx lives as long as the app: background work started outside
	// Serve (SAML metadata refresh) stops with it.
	bgCtx      context.Context
	bgCancel   context.CancelFunc
	refreshMu  sync.Mutex
	refreshers map[int64]context.CancelFunc
	handler    http.Handler
	// demo describes the seeded demo system in dev mode, for the start-up
	// banner and the home page.
	demo *DemoInfo
}

// New opens the store, migrates it, loads the master key and signing keys,
// seeds demo data in dev mode and builds the HTTP handler. Everything it
// opened is closed again if it fails.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (a *App, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// Every line the instance logs is counted by level, for /metrics.
	counts := &logCounts{}
	log = slog.New(countingHandler{next: log.Handler(), counts: counts})
	a = &App{cfg: cfg, log: log, logCounts: counts, registry: registry.NewRegistry(nil), refreshers: map[int64]context.CancelFunc{},
		upstream: newUpstreamClient()}
	a.bgCtx, a.bgCancel = context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		if err != nil {
			a.Close()
		}
	}()

	masterKey, err := keys.LoadMasterKey(cfg.Keys.MasterKeyFile, cfg.Keys.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("load master key: %w", err)
	}
	if a.sealer, err = keys.NewSealer(masterKey); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}

	if a.store, err = OpenStore(ctx, cfg, log); err != nil {
		return nil, err
	}
	if err := a.store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate %s database: %w", a.store.Dialect(), err)
	}

	a.signMeter = keys.NewSignMeter()
	a.keys, err = keys.NewManager(a.store, a.sealer, keys.Options{
		RSABits:    cfg.Keys.RSABits,
		CommonName: certificateSubject(cfg),
		Locker:     a.store,
		Meter:      a.signMeter,
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	if err := a.keys.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}

	// The registry's stamp is read before it is loaded: a sync landing in
	// between is then seen as new by the configuration watch.
	if a.loadedStamp, err = a.registryStamp(ctx); err != nil {
		return nil, err
	}
	if err := a.registry.Load(ctx, a.store); err != nil {
		return nil, fmt.Errorf("load organisation registry: %w", err)
	}
	a.syncer, err = NewSyncer(cfg, a.store, log, o.registrySource, func(l *registry.Lookup) { a.registry.Swap(l) })
	if err != nil {
		return nil, err
	}
	if cfg.Dev.Enabled {
		// The dev registry comes from the built-in fake and is synced before
		// serving, so the demo schools are there from the first page.
		// A failed dev sync keeps the last good registry, as in production.
		if run, err := a.syncer.Run(ctx); err != nil {
			log.Warn("organisation registry sync failed; keeping the last good data", slog.Any("error", err))
		} else {
			if run.Outcome == model.SyncOK {
				a.loadedStamp = run.ID // the registry now holds this run's result
			}
			log.Info("organisation registry synced", slog.String("outcome", run.Outcome), slog.Int("organisations", run.Total),
				slog.Int("added", run.Added), slog.Int("changed", run.Changed), slog.Int("removed", run.Removed))
		}
	}

	if err := a.reloadKeys(ctx); err != nil {
		return nil, err
	}

	if cfg.Dev.Enabled && cfg.Dev.Demo {
		if a.demo, err = SeedDemo(ctx, a.store, a.sealer, a.registry.Current(), cfg, log); err != nil {
			return nil, fmt.Errorf("seed demo data: %w", err)
		}
	}

	if err := a.newBroker(ctx, masterKey); err != nil {
		return nil, err
	}

	if err := a.newAdmin(); err != nil {
		return nil, err
	}
	if a.demo != nil {
		if a.demo.AdminToken, err = a.demoAdminToken(ctx); err != nil {
			return nil, err
		}
	}

	a.metrics = newMetrics()
	a.metrics.MustRegister(newExpiryCollector(a), newSignatureCollector(a.signMeter), newLogCollector(a.logCounts))
	if wt, ok := a.store.(interface{ WriteTransactions() int64 }); ok {
		// Embedded SQLite: its writes are invisible from outside otherwise
		// (PostgreSQL has pg_stat_database and transaction ids).
		a.metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "mpassid_db_write_transactions_total",
			Help: "Write transactions committed to the embedded SQLite database by this instance.",
		}, func() float64 { return float64(wt.WriteTransactions()) }))
	}
	if a.httpMetrics, err = web.NewHTTPMetrics(a.metrics); err != nil {
		return nil, err
	}
	a.handler = a.routes()
	return a, nil
}

// reloadKeys loads the signing keys into the in-memory snapshot.
func (a *App) reloadKeys(ctx context.Context) error {
	ks, err := a.keys.Load(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	a.keySet.Store(ks)
	return nil
}

// KeySet returns the current signing-key snapshot.
func (a *App) KeySet() *keys.KeySet { return a.keySet.Load() }

// Store returns the instance's store (for subcommands and tests).
func (a *App) Store() store.Store { return a.store }

// Handler returns the instance's root HTTP handler (for tests).
func (a *App) Handler() http.Handler { return a.handler }

// Registry returns the in-memory organisation registry.
func (a *App) Registry() *registry.Registry { return a.registry }

// SyncRegistry runs one registry sync now.
func (a *App) SyncRegistry(ctx context.Context) (model.SyncRun, error) { return a.syncer.Run(ctx) }

// Demo returns what the demo seeding created, or nil outside dev mode.
func (a *App) Demo() *DemoInfo { return a.demo }

// Close releases the store. It is safe to call more than once.
func (a *App) Close() {
	if a.bgCancel != nil {
		a.bgCancel()
	}
	if a.upstream != nil {
		a.upstream.CloseIdleConnections()
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.log.Warn("closing store", slog.Any("error", err))
		}
		a.store = nil
	}
}

// Listen opens the configured listener. It is separate from Serve so that
// `mpassid dev` can print the real address before serving and tests can ask
// for port 0.
func (a *App) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.cfg.Server.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on server.listen %s: %w", a.cfg.Server.Listen, err)
	}
	return ln, nil
}

// Serve serves HTTP on ln and runs the background jobs until ctx is done,
// then stops taking requests, lets running ones finish within the shutdown
// timeout, and waits for the jobs to end.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: a.cfg.Server.ReadHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	jobsCtx, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	var jobs sync.WaitGroup
	for _, job := range a.backgroundJobs() {
		jobs.Add(1)
		go func() {
			defer jobs.Done()
			job(jobsCtx)
		}()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.log.Info("serving", slog.String("address", ln.Addr().String()), slog.Any("roles", a.cfg.Roles), slog.String("database", a.store.Dialect()))

	var err error
	select {
	case err = <-serveErr:
		err = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		a.log.Info("shutting down", slog.Duration("timeout", a.cfg.Server.ShutdownTimeout))
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.Server.ShutdownTimeout)
		defer cancel()
		if serr := srv.Shutdown(shutdownCtx); serr != nil {
			err = fmt.Errorf("graceful shutdown: %w", serr)
		}
		if e := <-serveErr; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
	}
	stopJobs()
	jobs.Wait()
	a.log.Info("stopped")
	return err
}

// hasRole reports whether this instance runs the named role.
func (a *App) hasRole(role string) bool {
	for _, r := range a.cfg.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// certificateSubject names the signing certificates after the public host,
// so that an SP administrator can tell whose certificate they pinned.
func certificateSubject(cfg *config.Config) string {
	if u, err := url.Parse(cfg.Server.PublicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return keys.DefaultCommonName
}
