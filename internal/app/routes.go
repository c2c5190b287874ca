package app

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/connector/testidp"
	"github.com/mpassid/mpassid/internal/demo"
	"github.com/mpassid/mpassid/internal/web"
)

// newMetrics builds this instance's Prometheus registry. It is per instance,
// not the global default registry, so that tests can run several instances in
// one process.
func newMetrics() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	return reg
}

// routes mounts the rooms of the configured roles on one mux.
func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", web.Healthz())
	mux.Handle("GET /readyz", web.Readyz(3*time.Second,
		web.Check{Name: "database", Fn: a.store.Ping},
		web.Check{Name: "migrations", Fn: a.checkMigrations},
		web.Check{Name: "signing_keys", Fn: a.checkKeys},
	))
	if a.cfg.Metrics.Enabled {
		mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{Registry: a.metrics}))
	}
	mux.Handle("GET /{$}", a.homePage())
	if a.hasRole(config.RoleBroker) {
		a.broker.Routes(mux)
		mux.HandleFunc("GET "+samlSPPath+"{id}/metadata", a.samlSPMetadata)
		a.samlIdP.Routes(mux)
		a.oidcOP.Routes(mux)
		if a.testIdP != nil {
			mux.Handle(testidp.DefaultPagePath, a.testIdP.Handler())
		}
	}
	if a.hasRole(config.RoleAdmin) {
		a.admin.Routes(mux)
		a.adminUI.Routes(mux)
	}
	if a.demo != nil {
		if err := a.demoRoutes(mux); err != nil {
			a.log.Error("demo services unavailable", "error", err)
		}
	}

	var h http.Handler = web.SecurityHeaders(mux)
	h = web.Logging(a.log, a.httpMetrics, h)
	h = web.Recover(a.log, h)
	return h
}

func (a *App) checkMigrations(ctx context.Context) error {
	ok, err := a.store.MigrationsCurrent(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("database schema is behind this binary: run 'mpassid migrate'")
	}
	return nil
}

func (a *App) checkKeys(ctx context.Context) error {
	ks, err := a.keys.Load(ctx)
	if err != nil {
		return err
	}
	_, err = ks.Signer("RS256")
	return err
}

var homeTemplate = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>MPASSid</title></head>
<body>
<main>
<h1>MPASSid</h1>
<p>This is an MPASSid education identity broker ({{.Version}}).</p>
{{with .Demo}}
<h2>Try a login</h2>
<ul>
<li><a href="/demo/oidc/">Demo service using OpenID Connect</a></li>
<li><a href="/demo/saml/">Demo service using SAML 2.0</a></li>
</ul>
<p>Both send you to MPASSid, where the built-in test source lets you log in as a test pupil or teacher, and then show exactly what the service received.</p>
<h2>Demo data</h2>
<p>The demo data below was created in <code>{{.DataDir}}</code> on first start.</p>
<ul>
{{range .Integrations}}<li>{{.}}</li>
{{end}}</ul>
{{end}}
<h2>For services</h2>
<ul>
<li><a href="/.well-known/openid-configuration">OpenID Connect discovery</a></li>
<li><a href="/idp/metadata">SAML IdP metadata</a></li>
</ul>
<h2>Management service</h2>
<ul>
<li><a href="/admin/">Management UI</a>{{if .Demo}} (sign in as a demo user of any role){{end}}</li>
<li><a href="/api/v2/openapi.json">REST API description (OpenAPI 3.1)</a></li>
</ul>
{{with .Demo}}<p>The demo admin's API token is in <code>{{.DataDir}}/demo-admin-token</code>; send it as <code>Authorization: Bearer</code>.</p>{{end}}
<h2>Operations</h2>
<ul>
<li><a href="/healthz">/healthz</a>: liveness</li>
<li><a href="/readyz">/readyz</a>: readiness (database, migrations, signing keys)</li>
<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
</ul>
</main>
</body>
</html>
`))

func (a *App) homePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		data := struct {
			Version string
			Demo    *DemoInfo
		}{Version: Version(), Demo: a.demo}
		if err := homeTemplate.Execute(w, data); err != nil {
			a.log.ErrorContext(r.Context(), "render home page", "error", err)
		}
	})
}

// demoRoutes mounts the dev demo services: an OIDC client and a SAML
// service that log in through this broker over loopback and show what they
// received.
func (a *App) demoRoutes(mux *http.ServeMux) error {
	base := strings.TrimSuffix(a.cfg.Server.PublicURL, "/")
	client := &http.Client{Timeout: 10 * time.Second}
	demo.NewOIDCClient(demo.OIDCConfig{
		Issuer: a.cfg.Broker.Issuer, BaseURL: base + "/demo/oidc",
		ClientID: a.demo.OIDCClientID, ClientSecret: a.demo.OIDCClientSecret,
		HTTPClient: client, Logger: a.log,
	}).Routes(mux, "/demo/oidc")
	sp, err := demo.NewSAMLService(demo.SAMLConfig{
		BaseURL: a.demo.SAMLEntityID, IdPMetadataURL: base + "/idp/metadata",
		Key: a.demo.SAMLKey, Certificate: a.demo.SAMLCertificate, HTTPClient: client, Logger: a.log,
	})
	if err != nil {
		return err
	}
	sp.Routes(mux, "/demo/saml")
	return nil
}
