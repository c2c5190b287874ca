package loadtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Flows the tool can drive.
const (
	FlowOIDC = "oidc"
	FlowSAML = "saml"
	FlowBoth = "both"
)

// Sources the logins can authenticate at.
const (
	SourceTest         = "test"
	SourceSAMLUpstream = "saml-upstream"
	SourceOIDCUpstream = "oidc-upstream"
)

// DefaultOrganisation is the demo education provider of `mpassid dev`'s
// built-in registry; the tool's integrations belong to it when no
// organisation is given and no test source names one.
const DefaultOrganisation = "1.2.246.562.10.99900000001"

// DefaultTestSourceFlow is the flowName of the demo test source that
// `mpassid dev` seeds.
const DefaultTestSourceFlow = "Testi"

// Options configure one run.
type Options struct {
	// Targets are the base URLs of the broker instances. Every request of
	// a virtual user goes to the next one in turn, so that the steps of one
	// login land on different instances.
	Targets []string
	// PublicURL is the brokers' configured public URL (the issuer), when it
	// is not one of Targets; requests to it are sent to the targets too.
	// "" takes the issuer from the first target's discovery document.
	PublicURL string
	// AllowRemote lets Targets be other than loopback addresses: the
	// operator states that they own them.
	AllowRemote bool

	// Flows are FlowOIDC and/or FlowSAML; a login uses the next in turn.
	Flows []string
	// Sources are the sources to log in at (SourceTest, ...), in turn.
	Sources []string
	// Concurrency is the number of virtual users.
	Concurrency int
	// Rate, when positive, starts logins at that many per second (an open
	// loop: arrivals do not wait for answers, as pupils do not) instead of
	// each virtual user starting its next login when the last ended. A
	// login's latency is then counted from when it was due, so a login
	// that waited for a free virtual user counts its wait.
	Rate float64
	// Duration bounds the run; Count, when positive, stops it after that
	// many logins (whichever comes first). One of them must be set.
	Duration time.Duration
	Count    int
	// NoHint makes the services ask for no particular source, so that
	// logins go through the broker's selection page, instead of naming the
	// source (acr_values / RequestedAuthnContext).
	NoHint bool
	// RSAKeys makes the tool's SAML service, upstream SAML IdP and
	// upstream OpenID provider sign with RSA-2048 (RS256 ID tokens), as real
	// ones do, instead of P-256: the broker then verifies RSA signatures
	// (cheaper for it), and the tool pays an RSA signature for each (dearer
	// for it).
	RSAKeys bool
	// KeepSession keeps each virtual user's cookies between logins, so that
	// logins after the first are answered from the SSO session. By default
	// every login starts in a fresh browser.
	KeepSession bool
	// TestSourceFlow is the flowName of the built-in test source.
	TestSourceFlow string
	// TestUser is the test source's user to log in as; "" takes the first.
	TestUser string

	// AdminToken is a management API token allowed to create integrations
	// in Organisation; "" takes the organisation of the test source (see
	// TestSourceFlow), or else DefaultOrganisation.
	AdminToken   string
	Organisation string
	// Keep leaves the tool's integrations active after the run (for
	// inspection); by default they are inactivated.
	Keep bool

	// PIDs are the server processes on this machine whose CPU time and
	// peak memory are reported, and the cost of the public-key operations
	// measured here compared with. Without them the targets' own process
	// metrics give the CPU time, wherever the targets run.
	PIDs []int
	// PostgresDSN, when set, is read for the next transaction id before
	// and after the run: write transactions per login (server-wide).
	PostgresDSN string
	// CommitCounter, when set, returns the number of database commits so
	// far (an in-process SQLite server hooked by the caller).
	CommitCounter func() int64

	// RequestTimeout bounds each HTTP request; 0 is 30 s.
	RequestTimeout time.Duration
	// ReadyTimeout bounds the wait for the tool's integrations to be live
	// on every target; 0 is 30 s.
	ReadyTimeout time.Duration
	// ProgressInterval is how often the progress line is written; 0 is 1 s.
	ProgressInterval time.Duration
}

func (o *Options) setDefaults() {
	if len(o.Flows) == 0 {
		o.Flows = []string{FlowOIDC}
	}
	if len(o.Sources) == 0 {
		o.Sources = []string{SourceTest}
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	if o.TestSourceFlow == "" {
		o.TestSourceFlow = DefaultTestSourceFlow
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 30 * time.Second
	}
	if o.ProgressInterval == 0 {
		o.ProgressInterval = time.Second
	}
}

// ParseFlows reads "oidc", "saml" or "both".
func ParseFlows(s string) ([]string, error) {
	switch strings.TrimSpace(s) {
	case FlowOIDC:
		return []string{FlowOIDC}, nil
	case FlowSAML:
		return []string{FlowSAML}, nil
	case FlowBoth:
		return []string{FlowOIDC, FlowSAML}, nil
	}
	return nil, fmt.Errorf("flow %q: must be oidc, saml or both", s)
}

// ParseSources reads a comma-separated list of sources.
func ParseSources(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		switch p = strings.TrimSpace(p); p {
		case SourceTest, SourceSAMLUpstream, SourceOIDCUpstream:
			out = append(out, p)
		case "":
		default:
			return nil, fmt.Errorf("source %q: must be test, saml-upstream or oidc-upstream", p)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no source given")
	}
	return out, nil
}

// validate checks the options after defaults.
func (o *Options) validate() error {
	if len(o.Targets) == 0 {
		return errors.New("no target given")
	}
	for _, t := range o.Targets {
		if err := checkTarget(t, o.AllowRemote); err != nil {
			return err
		}
	}
	if o.PublicURL != "" {
		if err := checkTarget(o.PublicURL, o.AllowRemote); err != nil {
			return fmt.Errorf("public URL: %w", err)
		}
	}
	for _, f := range o.Flows {
		if f != FlowOIDC && f != FlowSAML {
			return fmt.Errorf("flow %q: must be oidc or saml", f)
		}
	}
	for _, s := range o.Sources {
		if s != SourceTest && s != SourceSAMLUpstream && s != SourceOIDCUpstream {
			return fmt.Errorf("source %q: must be test, saml-upstream or oidc-upstream", s)
		}
	}
	if o.Concurrency < 1 || o.Concurrency > 4096 {
		return fmt.Errorf("concurrency %d: must be 1 to 4096", o.Concurrency)
	}
	if o.Duration <= 0 && o.Count <= 0 {
		return errors.New("give a duration or a count: every run must stop by itself")
	}
	if !(o.Rate >= 0 && o.Rate <= 1e6) { // also NaN
		return fmt.Errorf("rate %v: must be 0 (closed loop) to 1000000 logins/s", o.Rate)
	}
	if o.Duration < 0 || o.Count < 0 {
		return errors.New("duration and count must not be negative")
	}
	if o.AdminToken == "" {
		return errors.New("an admin token is required to register the tool's services and sources")
	}
	return nil
}

// checkTarget accepts an http(s) base URL on a loopback address, or any
// host when allowRemote.
func checkTarget(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("target %q: must be an absolute http(s) URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("target %q: must be a base URL without user, query or fragment", raw)
	}
	if allowRemote {
		return nil
	}
	if !isLoopback(u.Hostname()) {
		return fmt.Errorf("target %q is not a loopback address: load is only sent elsewhere with --allow-remote, by the operator who owns the target", raw)
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback IP. Names
// other than localhost are not resolved: a name may change under a run.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
