package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpassid/mpassid/internal/admin"
	"github.com/mpassid/mpassid/internal/keys"
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

// signatureCollector exports the signatures made with the broker's keys
// and the CPU they took, by kind of key: most of a login's CPU, so the
// share an operator sizes instances by, and what the load tool compares a
// login's other CPU with (docs/performance.md).
type signatureCollector struct {
	meter *keys.SignMeter
	count *prometheus.Desc
	cpu   *prometheus.Desc
}

func newSignatureCollector(m *keys.SignMeter) *signatureCollector {
	return &signatureCollector{
		meter: m,
		count: prometheus.NewDesc("mpassid_signatures_total",
			"Signatures made with the broker's signing keys (ID tokens, assertions, AuthnRequests, logout messages, metadata), by kind of key.",
			[]string{"key"}, nil),
		cpu: prometheus.NewDesc("mpassid_signature_cpu_seconds_total",
			"CPU time of those signatures, on the threads that made them, by kind of key: estimated from one signature in eight of each kind, timed.",
			[]string{"key"}, nil),
	}
}

func (c *signatureCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.count; ch <- c.cpu }

func (c *signatureCollector) Collect(ch chan<- prometheus.Metric) {
	for kind, s := range c.meter.Snapshot() {
		ch <- prometheus.MustNewConstMetric(c.count, prometheus.CounterValue, float64(s.Count), kind)
		ch <- prometheus.MustNewConstMetric(c.cpu, prometheus.CounterValue, s.CPU.Seconds(), kind)
	}
}
