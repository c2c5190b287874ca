package admin_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/admin/exchange"
	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/store"
	"github.com/mpassid/mpassid/internal/store/postgres"
	"github.com/mpassid/mpassid/internal/testenv"
)

// pgSchema creates a schema dropped at the end of the test and returns a
// DSN selecting it.
func pgSchema(t *testing.T) string {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	schema := "t_" + strings.ToLower(rand.Text())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openPG(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLiveAcrossInstances: the API of one instance saves a change; a
// broker of another instance on the same PostgreSQL, polling the
// configuration version, serves it within 2 s, and never sees half of it.
func TestLiveAcrossInstances(t *testing.T) {
	dsn := pgSchema(t)
	stA, stB := openPG(t, dsn), openPG(t, dsn)
	ctx := t.Context()
	reg := registry.NewRegistry(registry.NewLookup(organisations()))
	sealer, _ := keys.NewSealer(make([]byte, keys.MasterKeySize))
	api, err := admin.New(admin.Config{PublicURL: "https://a.example.fi"}, admin.Deps{Store: stA, Registry: reg, Sealer: sealer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := api.CreateToken(ctx, "t", []string{"APP_MPASSID_TALLENTAJA_" + ownOrg}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, api: api, h: api, tokens: map[string]string{"editor": tok.Token}}

	b, err := broker.New(broker.Config{BaseURL: "https://b.example.fi"}, broker.Deps{Store: stB, Registry: reg, Logger: slog.New(slog.DiscardHandler), Sealer: sealer,
		Connectors: func(context.Context, *model.Integration) (connector.Connector, error) { return nil, errors.New("none") }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	// The broker instance polls as the app's job does.
	pollCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for pollCtx.Err() == nil {
			b.Reload(pollCtx)
			time.Sleep(50 * time.Millisecond)
		}
	}()

	setID := idOf(t, e.want(e.do("editor", "POST", base+"/integration", setRecord(ownOrg, "S")), 201))
	idpID := idOf(t, e.want(e.do("editor", "POST", base+"/integration", wilmaRecord(ownOrg, "wilma_live", "00001")), 201))
	var rec exchange.Record
	e.want(e.do("editor", "POST", base+"/integration", oidcSPRecord(ownOrg, setID)), 201).json(t, &rec)
	saved := time.Now()
	clientID := rec.ConfigurationEntity.SP.Metadata.ClientID

	waitFor := func(what string, ok func(*broker.Catalog) bool) {
		t.Helper()
		for time.Since(saved) < 2*time.Second {
			if ok(b.Catalog()) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: not seen by the other instance within 2 s", what)
	}
	waitFor("new service", func(c *broker.Catalog) bool {
		svc, ok := c.ServiceByClientID(clientID)
		if !ok {
			return false
		}
		// Atomic: the service arrives with its set and its sources.
		if svc.Set == nil || len(c.SourcesFor(svc)) != 1 {
			t.Fatalf("half a configuration: set %v, sources %d", svc.Set, len(c.SourcesFor(svc)))
		}
		return true
	})

	// Restricting the source to another set takes the service's login
	// source away, live.
	otherSet := idOf(t, e.want(e.do("editor", "POST", base+"/integration", setRecord(ownOrg, "T")), 201))
	path := base + "/integration/" + strconv.FormatInt(idpID, 10)
	var idp exchange.Record
	e.want(e.do("editor", "GET", path, nil), 200).json(t, &idp)
	idp.Permissions = []int64{otherSet}
	e.want(e.do("editor", "PUT", path, idp), 200)
	saved = time.Now()
	waitFor("permission change", func(c *broker.Catalog) bool {
		svc, ok := c.ServiceByClientID(clientID)
		return ok && len(c.SourcesFor(svc)) == 0
	})
	if v, _ := stB.ConfigVersion(ctx); v != b.Catalog().Version {
		t.Errorf("catalog version %d, store %d", b.Catalog().Version, v)
	}
	var _ store.Store = stB
}
