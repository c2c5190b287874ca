package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/app"
	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/logbuf"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/registry/fakeopas"
	"github.com/mpassid/mpassid/internal/store"
)

// loadConfig loads a production configuration; any problem is a usage error
// (exit code 2) that names the field.
func loadConfig(env *environment, path string, roles string) (*config.Config, error) {
	cfg, err := config.Load(path, env.environ)
	if err != nil {
		return nil, usageError{fmt.Errorf("invalid configuration:\n%w", err)}
	}
	if roles != "" {
		cfg.Roles = splitList(roles)
		if err := cfg.Validate(); err != nil {
			return nil, usageError{fmt.Errorf("invalid configuration:\n%w", err)}
		}
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "serve", "[--config FILE] [--roles broker,admin,orgsync]", `
Runs the service for production on PostgreSQL: the broker (SAML IdP and
OpenID provider for services), the management service, and the organisation
registry sync, or the subset named by --roles. Configuration comes from the
YAML file and MPASSID_* environment variables (see config.example.yaml).
Serves /healthz, /readyz and /metrics; stops gracefully on SIGTERM or Ctrl-C.`)
	configPath := fs.String("config", "", "path of the YAML configuration file (default: none; environment only)")
	roles := fs.String("roles", "", "comma-separated roles to run: broker, admin, orgsync (default: from configuration, all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env, *configPath, *roles)
	if err != nil {
		return err
	}
	out := heldLog(env)
	defer out.Close()
	log := app.NewLogger(cfg.Log, out)
	log.Info("starting", "version", app.Version())
	tuneGC(env, log)
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := a.Listen()
	if err != nil {
		return err
	}
	return a.Serve(ctx, ln)
}

func runDev(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "dev", "[--data-dir DIR] [--port N] [--config FILE]", `
Runs the whole system on this machine: embedded SQLite, a generated master
key, demo organisations and schools, a built-in test identity source with test
pupils and teachers, a demo SAML service and a demo OpenID Connect client.
Everything is kept in the data directory, so a second start reuses it; delete
the directory to start over. Listens on 127.0.0.1 only.`)
	dataDir := fs.String("data-dir", "mpassid-data", "directory for the database, the master key and demo secrets")
	registrySize := fs.String("registry", "demo", "built-in organisation registry: demo (a few schools) or national (about 15,000 organisations)")
	port := fs.Int("port", 8080, "port to listen on at 127.0.0.1 (0 picks a free one)")
	configPath := fs.String("config", "", "optional YAML file overriding the dev defaults")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *port < 0 || *port > 65535 {
		return usageError{fmt.Errorf("--port: must be between 0 and 65535")}
	}
	var dataset *fakeopas.Dataset
	switch *registrySize {
	case "demo":
		dataset = fakeopas.Generate(1, fakeopas.SizeDemo)
	case "national":
		dataset = fakeopas.Generate(1, fakeopas.SizeNational)
	default:
		return usageError{fmt.Errorf("--registry: must be demo or national")}
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return usageError{fmt.Errorf("--data-dir: %w", err)}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	keyFile := filepath.Join(dir, "master.key")
	if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
		if _, err := keys.GenerateMasterKeyFile(keyFile); err != nil {
			return fmt.Errorf("create master key: %w", err)
		}
	}
	// Port 0 is resolved before the configuration is built, because the
	// public URL (issuer, redirect URIs of the demo clients) contains the port.
	if *port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("find a free port: %w", err)
		}
		*port = ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
	}
	cfg, err := config.LoadDev(*configPath, env.environ, dir, *port)
	if err != nil {
		return usageError{fmt.Errorf("invalid configuration:\n%w", err)}
	}
	out := heldLog(env)
	defer out.Close()
	log := app.NewLogger(cfg.Log, out)
	tuneGC(env, log)

	registryClient, err := registry.NewClient("http://organisaatio.dev.invalid/", cfg.Registry.CallerID, fakeopas.HTTPClient(dataset),
		registry.WithLogger(log))
	if err != nil {
		return fmt.Errorf("built-in registry: %w", err)
	}
	a, err := app.New(ctx, cfg, log, app.WithRegistrySource(registryClient))
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := a.Listen()
	if err != nil {
		return err
	}
	printDevBanner(env, cfg, a.Demo())
	return a.Serve(ctx, ln)
}

func printDevBanner(env *environment, cfg *config.Config, demo *app.DemoInfo) {
	base := strings.TrimSuffix(cfg.Server.PublicURL, "/")
	w := env.stdout
	fmt.Fprintln(w)
	fmt.Fprintln(w, "MPASSid is running (dev mode, embedded SQLite). Open:")
	fmt.Fprintf(w, "  %s/            start page: what is here\n", base)
	if demo != nil {
		fmt.Fprintf(w, "  %s/demo/oidc/  log in to the demo service by OpenID Connect\n", base)
		fmt.Fprintf(w, "  %s/demo/saml/  log in to the demo service by SAML\n", base)
	}
	fmt.Fprintf(w, "  %s/healthz     liveness\n", base)
	fmt.Fprintf(w, "  %s/readyz      readiness\n", base)
	fmt.Fprintf(w, "  %s/metrics     Prometheus metrics\n", base)
	if demo != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Demo OIDC client: client_id=%s client_secret=%s\n", demo.OIDCClientID, demo.OIDCClientSecret)
		fmt.Fprintf(w, "Demo SAML service: entityID=%s\n", demo.SAMLEntityID)
		fmt.Fprintf(w, "Management API: %s/api/v2 (try: curl -H 'Authorization: Bearer %s' %s/api/v2/integration/search)\n", base, demo.AdminToken, base)
	}
	fmt.Fprintf(w, "Data directory: %s (delete it to start over)\n", cfg.Dev.DataDir)
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
	fmt.Fprintln(w)
}

func runMigrate(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "migrate", "[--config FILE]", `
Brings the database schema up to date with this binary and exits. Safe to
run while other instances start or run: migrations take a database lock.
'mpassid serve' also migrates at start; this command lets a deployment do it
as a separate step.`)
	configPath := fs.String("config", "", "path of the YAML configuration file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, _, st, err := openMigrated(ctx, env, *configPath)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(env.stdout, "database schema is current (%s)\n", st.Dialect())
	return nil
}

// openMigrated loads the configuration, opens its database and brings the
// schema up to date: the common start of the one-shot commands.
func openMigrated(ctx context.Context, env *environment, configPath string) (*config.Config, *slog.Logger, store.Store, error) {
	cfg, err := loadConfig(env, configPath, "")
	if err != nil {
		return nil, nil, nil, err
	}
	log := app.NewLogger(cfg.Log, env.stderr)
	st, err := app.OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, nil, nil, fmt.Errorf("migrate: %w", err)
	}
	return cfg, log, st, nil
}

func runVersion(_ context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "version", "", "Prints the version of this binary.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, app.Version())
	return nil
}

func runOrgsync(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "orgsync", "[--config FILE]", `
Synchronises the organisation registry from Organisaatiopalvelu
(registry.base_url) now and prints what changed. Only one instance syncs at a
time; a failed, empty or truncated fetch, or one that would remove more than
registry.max_removal_share of the organisations, keeps the last good data and
exits with code 1. Running instances pick the new registry up within seconds.`)
	configPath := fs.String("config", "", "path of the YAML configuration file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, log, st, err := openMigrated(ctx, env, *configPath)
	if err != nil {
		return err
	}
	defer st.Close()
	syncer, err := app.NewSyncer(cfg, st, log, nil, nil)
	if err != nil {
		return err
	}
	run, err := syncer.Run(ctx)
	if err != nil {
		return fmt.Errorf("sync failed, the registry keeps its last good data: %w", err)
	}
	fmt.Fprintf(env.stdout, "registry sync %s: %d organisations, %d added, %d changed, %d removed\n",
		run.Outcome, run.Total, run.Added, run.Changed, run.Removed)
	return nil
}

// heldLogInterval is how long a serving process holds its info lines
// before writing them out together (logbuf): what a crash can lose of them.
const heldLogInterval = 100 * time.Millisecond

// heldLog gathers a serving process's log lines and writes them out
// together, a system call every heldLogInterval instead of one a line;
// warnings and errors go out at once (app.NewLogger). Close writes out the
// rest.
func heldLog(env *environment) *logbuf.Writer {
	return logbuf.New(env.stderr, heldLogInterval)
}

// serverGCPercent is the garbage collector's target for a serving process
// when GOGC is not set. A broker's live heap is small (tens of megabytes)
// and nearly everything a login allocates dies with its request, so the
// default 100 % collects very often: at 400 % the server used 8-10 % less
// CPU per login in the load test, for about 20 MB more peak memory.
const serverGCPercent = 400

// tuneGC sets serverGCPercent unless the operator chose with GOGC.
func tuneGC(env *environment, log *slog.Logger) {
	for _, kv := range env.environ {
		if strings.HasPrefix(kv, "GOGC=") {
			log.Info("garbage collector target from GOGC", "gogc", strings.TrimPrefix(kv, "GOGC="))
			return
		}
	}
	debug.SetGCPercent(serverGCPercent)
}
