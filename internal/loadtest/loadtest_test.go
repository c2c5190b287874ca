package loadtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/app"
	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry"
	"github.com/mpassid/mpassid/internal/registry/fakeopas"
	"github.com/mpassid/mpassid/internal/store"
)

// startDev runs a whole dev instance (SQLite, demo registry and
// integrations) on a free loopback port and returns it with its base URL.
// A copy of internal/app's e2e helper.
func startDev(t testing.TB) (*app.App, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	if _, err := keys.GenerateMasterKeyFile(filepath.Join(dir, "master.key")); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDev("", nil, dir, port)
	if err != nil {
		t.Fatal(err)
	}
	// Configuration changes (the tool's registrations) are picked up fast.
	cfg.Broker.ConfigPollInterval = 200 * time.Millisecond
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	src, err := registry.NewClient("http://organisaatio.invalid/", "test", fakeopas.HTTPClient(fakeopas.Generate(1, fakeopas.SizeDemo)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log, app.WithRegistrySource(src))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	return a, cfg.Server.PublicURL
}

// The tool completes logins of both flows through the test source and
// through its own upstream SAML IdP and OpenID provider, with zero errors,
// and cleans up after itself.
func TestLoginsAgainstDevInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole instance")
	}
	a, base := startDev(t)
	cases := []struct {
		name    string
		flows   []string
		sources []string
		count   int
		noHint  bool
		rsaKeys bool
		// requests is how many requests the logins send to the broker:
		// each one's latency is in the report.
		requests int
		// ops are the broker's public-key operations per login: it signs
		// ID tokens, assertions and AuthnRequests to the upstream SAML IdP
		// with its RSA-2048 keys, and checks the tool's services'
		// AuthnRequests and its upstream IdPs' assertions and ID tokens
		// (P-256, or RSA-2048 with rsaKeys).
		ops map[string]float64
	}{
		// authorize, the test source's page, its callback, token, userinfo
		{"oidc via test source", []string{FlowOIDC}, []string{SourceTest}, 50, false, false, 50 * 5,
			map[string]float64{"RSA-2048 sign": 1}},
		// SSO, the test source's page, its callback
		{"saml via test source", []string{FlowSAML}, []string{SourceTest}, 50, false, false, 50 * 3,
			map[string]float64{"RSA-2048 sign": 1, "P-256 check": 1}},
		// OIDC: authorize, callback, token, userinfo; SAML: SSO, ACS. A
		// quarter of the logins each: OIDC via SAML signs twice and checks
		// once, SAML via SAML twice and twice, OIDC via OIDC once and once,
		// SAML via OIDC once and twice.
		{"both via upstream SAML and OIDC", []string{FlowOIDC, FlowSAML}, []string{SourceSAMLUpstream, SourceOIDCUpstream}, 40, false, false, 20*4 + 20*2,
			map[string]float64{"RSA-2048 sign": 1.5, "P-256 check": 1.5}},
		// and the selection page and the choice made on it
		{"both via the selection page", []string{FlowOIDC, FlowSAML}, []string{SourceTest, SourceSAMLUpstream}, 8, true, false, 44,
			map[string]float64{"RSA-2048 sign": 1.5, "P-256 check": 1}},
		{"saml via upstream SAML, RSA keys", []string{FlowSAML}, []string{SourceSAMLUpstream}, 10, false, true, 10 * 2,
			map[string]float64{"RSA-2048 sign": 2, "RSA-2048 check": 2}},
		// authorize, callback, token, userinfo; an RS256 ID token checked
		{"oidc via upstream OIDC, RSA keys", []string{FlowOIDC}, []string{SourceOIDCUpstream}, 10, false, true, 10 * 4,
			map[string]float64{"RSA-2048 sign": 1, "RSA-2048 check": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var progress bytes.Buffer
			rep, err := Run(context.Background(), Options{
				Targets: []string{base}, Flows: tc.flows, Sources: tc.sources, NoHint: tc.noHint, RSAKeys: tc.rsaKeys,
				Concurrency: 4, Count: tc.count, Duration: time.Minute,
				AdminToken: a.Demo().AdminToken, ReadyTimeout: 20 * time.Second, ProgressInterval: 100 * time.Millisecond,
			}, &progress)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, progress.String())
			}
			var out strings.Builder
			rep.Format(&out)
			t.Log("\n" + out.String())
			// The dev instance (embedded SQLite) exports its write
			// transactions, so the report knows the writes per login; and
			// its process's CPU time, which gives the CPU per login
			// without --pid (here the test process's, the tool's too).
			if rep.DBWrites <= 0 || rep.DBWritesPerLogin > 4 {
				t.Errorf("database writes %d (%.2f per login) from %s", rep.DBWrites, rep.DBWritesPerLogin, rep.DBWritesSource)
			}
			if rep.ServerCPU <= 0 || !strings.Contains(rep.ServerCPUSource, processCPUMetric) || rep.ServerResident <= 0 {
				t.Errorf("server CPU %v from %q, resident %d: not from the instance's metrics", rep.ServerCPU, rep.ServerCPUSource, rep.ServerResident)
			}
			// Logins that all succeed leave nothing in the broker's log
			// worth a look, also for those the end of the run cut off.
			if rep.ServerWarnings != 0 || rep.ServerErrors != 0 {
				t.Errorf("the instance logged %d warnings and %d errors during the run", rep.ServerWarnings, rep.ServerErrors)
			}
			if rep.Errors != 0 || rep.Logins != tc.count {
				t.Errorf("want %d logins and no errors, got %d logins, %d errors: %v", tc.count, rep.Logins, rep.Errors, rep.ErrorKinds)
			}
			for _, f := range tc.flows {
				if rep.PerFlow[f].Logins == 0 {
					t.Errorf("no %s logins", f)
				}
			}
			if r := rep.Requests; r.Count != tc.requests || r.P50 <= 0 || r.P50 > r.P99 || r.P99 > r.Max {
				t.Errorf("broker requests %+v, want %d of them with ordered percentiles", r, tc.requests)
			}
			n := 0
			for e, l := range rep.PerEndpoint {
				n += l.Count
				if !strings.HasPrefix(e, "GET /") && !strings.HasPrefix(e, "POST /") {
					t.Errorf("endpoint %q", e)
				}
			}
			if n != tc.requests {
				t.Errorf("the endpoints count %d requests, want %d", n, tc.requests)
			}
			ops := map[string]float64{}
			for _, op := range rep.SignatureOps {
				ops[op.Op] = op.PerLogin
			}
			if !maps.Equal(ops, tc.ops) {
				t.Errorf("public-key operations per login %v, want %v", ops, tc.ops)
			}
			// The server counts the same signatures the tool does.
			for _, op := range rep.SignatureOps {
				kind, isSign := strings.CutSuffix(op.Op, " sign")
				if !isSign {
					continue
				}
				if got, want := rep.ServerSignatures[kind].Count, int64(math.Round(op.PerLogin*float64(rep.Logins))); got != want {
					t.Errorf("the server counted %d %s signatures, the tool %d", got, kind, want)
				}
			}
		})
	}
	// In an open loop logins start at the rate, not when others end: none
	// starts before it is due, so the run lasts at least count-1 intervals.
	t.Run("open loop", func(t *testing.T) {
		const count, rate = 12, 40.0
		rep, err := Run(context.Background(), Options{
			Targets: []string{base}, Flows: []string{FlowOIDC, FlowSAML}, Sources: []string{SourceTest},
			Concurrency: 4, Rate: rate, Count: count, Duration: time.Minute,
			AdminToken: a.Demo().AdminToken, ReadyTimeout: 20 * time.Second,
		}, nil)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		var out strings.Builder
		rep.Format(&out)
		t.Log("\n" + out.String())
		if rep.Errors != 0 || rep.Logins != count {
			t.Errorf("want %d logins and no errors, got %d logins, %d errors: %v", count, rep.Logins, rep.Errors, rep.ErrorKinds)
		}
		if least := time.Duration(float64(count-1) / rate * float64(time.Second)); rep.Elapsed < least {
			t.Errorf("run took %v: logins started before they were due (at least %v)", rep.Elapsed, least)
		}
		if !strings.Contains(out.String(), "open loop:") {
			t.Error("the report does not say the run was an open loop")
		}
	})
	// Everything the tool registered is inactive again.
	active, _, err := a.Store().ListIntegrations(context.Background(), store.IntegrationFilter{Status: model.StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range active {
		if strings.HasPrefix(strings.ToLower(in.Name()), "mpassid loadtest") || strings.HasPrefix(in.Name(), "Loadtest") {
			t.Errorf("integration %d %q is still active", in.ID, in.Name())
		}
	}
}

// The tool reads the samples of the targets' /metrics: the write
// transactions of embedded SQLite and the signatures of each kind of key.
func TestReadMetrics(t *testing.T) {
	const body = `# HELP mpassid_db_write_transactions_total Write transactions.
# TYPE mpassid_db_write_transactions_total counter
mpassid_db_write_transactions_total_other 9
mpassid_db_write_transactions_total 1234
mpassid_signatures_total{key="P-256"} 0
mpassid_signatures_total{key="RSA-2048"} 1.5e+06
mpassid_signature_cpu_seconds_total{key="RSA-2048"} 1087.5
mpassid_signature_cpu_seconds_total{key="P-256"} 0
go_info{version="go 1.26"} 1
http_seconds_bucket{le="+Inf",path="/a b"} 7 1700000000000
bad_value NaN
negative -1
no_value
too many fields 1 2 3
`
	series := readMetrics(strings.NewReader(body))
	want := map[string]float64{
		"mpassid_db_write_transactions_total_other":           9,
		"mpassid_db_write_transactions_total":                 1234,
		`mpassid_signatures_total{key="P-256"}`:               0,
		`mpassid_signatures_total{key="RSA-2048"}`:            1.5e6,
		`mpassid_signature_cpu_seconds_total{key="RSA-2048"}`: 1087.5,
		`mpassid_signature_cpu_seconds_total{key="P-256"}`:    0,
		`go_info{version="go 1.26"}`:                          1,
		`http_seconds_bucket{le="+Inf",path="/a b"}`:          7,
	}
	if !maps.Equal(series, want) {
		t.Errorf("series:\n got %v\nwant %v", series, want)
	}
	sigs, ok := signaturesOf(series)
	wantSigs := map[string]ServerSigning{
		"RSA-2048": {Count: 1_500_000, CPU: 1087500 * time.Millisecond},
		"P-256":    {},
	}
	if !ok || !maps.Equal(sigs, wantSigs) {
		t.Errorf("signatures %v %v, want %v", sigs, ok, wantSigs)
	}
	if _, ok := signaturesOf(map[string]float64{"go_goroutines": 7, `mpassid_signatures_total{key="a\"b"}`: 1}); ok {
		t.Error("signatures found where none are exported")
	}
}

// Whatever a target's /metrics holds, reading it neither fails nor yields
// a value a counter cannot have, and the signatures read are the series'.
func FuzzReadMetrics(f *testing.F) {
	f.Add("mpassid_signatures_total{key=\"RSA-2048\"} 12\nmpassid_signature_cpu_seconds_total{key=\"RSA-2048\"} 0.0084\n")
	f.Add("# HELP x y\nx 1 1700000000\n")
	f.Add("a{b=\"}\"} 1\n{} 2\n} 3\n")
	f.Fuzz(func(t *testing.T, body string) {
		series := readMetrics(strings.NewReader(body))
		for name, v := range series {
			if !(v >= 0 && v <= math.MaxInt64) {
				t.Fatalf("%q = %v", name, v)
			}
		}
		sigs, ok := signaturesOf(series)
		if ok != (len(sigs) > 0) {
			t.Fatalf("found %v with %d kinds", ok, len(sigs))
		}
		for kind, s := range sigs {
			if s.Count != int64(series[signaturesMetric+`{key="`+kind+`"}`]) || s.CPU < 0 {
				t.Fatalf("%s: %+v", kind, s)
			}
		}
	})
}

// The tool sums what every target exports, once per instance however often
// it is named, and knows no figure that one of them lacks.
func TestScrapeTargets(t *testing.T) {
	serve := func(body string) *url.URL {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/metrics" {
				http.NotFound(w, r)
				return
			}
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		u, err := url.Parse(srv.URL + "/some/path")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	a := serve("process_cpu_seconds_total 12.5\nprocess_resident_memory_bytes 6.4e+07\n" +
		"mpassid_log_messages_total{level=\"warn\"} 3\nmpassid_log_messages_total{level=\"error\"} 1\n" +
		"mpassid_signatures_total{key=\"RSA-2048\"} 100\nmpassid_signature_cpu_seconds_total{key=\"RSA-2048\"} 0.07\n")
	b := serve("process_cpu_seconds_total 2.25\nprocess_resident_memory_bytes 3.2e+07\nmpassid_db_write_transactions_total 40\n" +
		"mpassid_log_messages_total{level=\"warn\"} 2\nmpassid_log_messages_total{level=\"error\"} 0\n" +
		"mpassid_signatures_total{key=\"RSA-2048\"} 50\nmpassid_signature_cpu_seconds_total{key=\"RSA-2048\"} 0.04\n")
	bare := serve("go_goroutines 9\n")
	r := &runner{direct: &http.Client{Timeout: 5 * time.Second}}

	r.targets = []*url.URL{a, b, a}
	got := r.scrapeTargets(t.Context())
	if got.processCPU != 14750*time.Millisecond || got.resident != 96_000_000 {
		t.Errorf("process CPU %v, resident %d; want 14.75 s and 96000000 bytes", got.processCPU, got.resident)
	}
	if want := (ServerSigning{Count: 150, CPU: 110 * time.Millisecond}); got.signatures["RSA-2048"] != want {
		t.Errorf("signatures %+v, want %+v", got.signatures["RSA-2048"], want)
	}
	if got.writeTransactions != -1 {
		t.Errorf("write transactions %d, though one target exports none", got.writeTransactions)
	}
	if got.warnings != 5 || got.errors != 1 {
		t.Errorf("logged %d warnings and %d errors, want 5 and 1", got.warnings, got.errors)
	}

	r.targets = []*url.URL{a, bare}
	if got := r.scrapeTargets(t.Context()); got.processCPU != -1 || got.resident != -1 || got.signatures != nil || got.warnings != -1 {
		t.Errorf("a target without the figures gave %+v", got)
	}
	down := serve("")
	r.targets = []*url.URL{a, down}
	down.Host = "127.0.0.1:1"
	if got := r.scrapeTargets(t.Context()); got.processCPU != -1 || got.resident != -1 || got.writeTransactions != -1 || got.signatures != nil {
		t.Errorf("an unreachable target gave %+v", got)
	}
}
