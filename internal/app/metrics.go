package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpassid/mpassid/internal/admin"
)

// expiryCollector exports, at each scrape, how many active integrations have
// SAML metadata or certificates that expire within admin.expiry_window (or
// have expired), so that an alert can fire before a school's logins break.
type expiryCollector struct {
	a    *App
	desc *prometheus.Desc
}

func newExpiryCollector(a *App) *expiryCollector {
	return &expiryCollector{a: a, desc: prometheus.NewDesc(
		"mpassid_integration_expiries",
		"Active integrations whose metadata or certificate expires within admin.expiry_window, by what expires and whether it already has.",
		[]string{"what", "expired"}, nil)}
}

func (c *expiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *expiryCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[[2]string]int{}
	for _, e := range admin.Expiring(c.a.broker.Catalog().Active(), time.Now(), c.a.cfg.Admin.ExpiryWindow) {
		expired := "false"
		if e.Expired {
			expired = "true"
		}
		counts[[2]string{e.What, expired}]++
	}
	for _, what := range []string{"metadata", "signingCertificate", "encryptionCertificate"} {
		for _, expired := range []string{"false", "true"} {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[[2]string{what, expired}]), what, expired)
		}
	}
}
