package loadtest

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	oidcconn "github.com/mpassid/mpassid/internal/connector/oidc"

	"github.com/beevik/etree"
)

// runner is one run's state.
type runner struct {
	opts          Options
	runID         string
	targets       []*url.URL
	brokerOrigins map[string]bool
	localIdPs     map[string]http.Handler
	setup         *http.Client
	direct        *http.Client
	admin         *adminClient
	redirectURI   string

	oidc    *oidcEndpoints
	sp      *samlSP
	idp     *samlIdPInfo
	samlIdP *samlIdP
	oidcOP  *oidcOP
	reg     registration
	sources map[string]*source

	samlVerified atomic.Uint64 // SAML Responses verified, for the cross-check
	ops          sigOps        // the broker's public-key operations
}

func (r *runner) usesFlow(f string) bool {
	for _, x := range r.opts.Flows {
		if x == f {
			return true
		}
	}
	return false
}

func (r *runner) usesSource(s string) bool {
	for _, x := range r.opts.Sources {
		if x == s {
			return true
		}
	}
	return false
}

// Run registers the tool's services and sources, waits until every target
// serves them, drives logins until the duration or count is reached,
// inactivates what it registered, and reports. Progress lines go to
// progress (nil for none).
func Run(ctx context.Context, opts Options, progress io.Writer) (*Report, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	r := &runner{opts: opts, runID: strings.ToLower(random(6))[:8], brokerOrigins: map[string]bool{}, localIdPs: map[string]http.Handler{}}
	r.runID = strings.NewReplacer("-", "x", "_", "y").Replace(r.runID)
	for _, t := range opts.Targets {
		u, err := url.Parse(strings.TrimSuffix(t, "/"))
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", t, err)
		}
		u.Path = ""
		r.targets = append(r.targets, u)
		r.brokerOrigins[origin(u)] = true
	}
	r.redirectURI = "http://127.0.0.1:9/loadtest/" + r.runID + "/oidc/callback"
	direct := newTransport(opts.AllowRemote, opts.RequestTimeout)
	setupRT := &router{targets: r.targets, broker: r.brokerOrigins, local: r.localIdPs, base: direct}
	r.setup = &http.Client{Transport: setupRT, Timeout: opts.RequestTimeout}
	// Each target itself, not routed: for its /metrics.
	r.direct = &http.Client{Transport: direct, Timeout: opts.RequestTimeout}

	if err := r.discover(ctx); err != nil {
		return nil, err
	}
	if r.usesSource(SourceSAMLUpstream) {
		idp, err := startSAMLIdP(r.runID, opts.RSAKeys, &r.ops)
		if err != nil {
			return nil, err
		}
		defer idp.close()
		r.samlIdP = idp
		r.localIdPs[idp.base] = idp
	}
	if r.usesSource(SourceOIDCUpstream) {
		op, err := startOIDCOP(r.runID, opts.RSAKeys, &r.ops)
		if err != nil {
			return nil, err
		}
		defer op.close()
		r.oidcOP = op
		r.localIdPs[op.issuer] = op
	}
	if r.usesFlow(FlowSAML) {
		kp, err := newKeyPair("mpassid loadtest SAML service "+r.runID, opts.RSAKeys)
		if err != nil {
			return nil, err
		}
		r.sp = &samlSP{kp: kp, entityID: "http://127.0.0.1:9/loadtest/" + r.runID + "/saml", acs: "http://127.0.0.1:9/loadtest/" + r.runID + "/saml/acs"}
	}

	adminBase := origin(r.targets[0])
	r.admin = &adminClient{c: r.setup, base: adminBase, token: opts.AdminToken}
	err := r.register(ctx, &r.reg)
	if !opts.Keep {
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if uerr := r.unregister(cctx, &r.reg); uerr != nil && progress != nil {
				fmt.Fprintf(progress, "loadtest: cleanup: %v\n", uerr)
			}
		}()
	}
	if err != nil {
		return nil, err
	}
	r.sources = map[string]*source{
		SourceTest: {name: SourceTest, flowName: opts.TestSourceFlow, id: strconv.FormatInt(r.reg.testSourceID, 10)},
	}
	if r.samlIdP != nil {
		r.sources[SourceSAMLUpstream] = &source{name: SourceSAMLUpstream, flowName: r.samlIdP.flowName, id: strconv.FormatInt(r.reg.samlIdPID, 10)}
	}
	if r.oidcOP != nil {
		r.sources[SourceOIDCUpstream] = &source{name: SourceOIDCUpstream, flowName: r.oidcOP.flowName, id: strconv.FormatInt(r.reg.oidcIdPID, 10)}
	}
	if r.oidc != nil {
		// The broker's ID tokens are checked with the upstream OIDC
		// connector's verifier, as its assertions are with the SAML
		// connector's: the code that verifies is not the code that signs.
		r.oidc.verifier = oidcconn.NewIDTokenVerifier(r.oidc.issuer, r.reg.clientID, r.oidc.jwks, []string{"RS256", "ES256"}, r.setup, nil)
		r.oidc.authorizeRequest = r.oidc.authorize + "?" + url.Values{
			"response_type": {"code"}, "client_id": {r.reg.clientID}, "redirect_uri": {r.redirectURI},
			"scope": {"openid profile"}, "code_challenge_method": {"S256"},
		}.Encode()
	}
	if err := r.ready(ctx, progress); err != nil {
		return nil, err
	}
	return r.measure(ctx, progress)
}

// discover reads the broker's OpenID configuration (its issuer is the
// public URL) and, for SAML, its IdP metadata.
func (r *runner) discover(ctx context.Context) error {
	var d struct {
		Issuer   string `json:"issuer"`
		Auth     string `json:"authorization_endpoint"`
		Token    string `json:"token_endpoint"`
		UserInfo string `json:"userinfo_endpoint"`
		JWKS     string `json:"jwks_uri"`
	}
	base := origin(r.targets[0])
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/.well-known/openid-configuration", nil)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	status, err := r.callJSON(r.setup, nil, req, &d, "discovery")
	if err != nil || status != http.StatusOK || d.Issuer == "" {
		return fmt.Errorf("read %s/.well-known/openid-configuration (is an mpassid broker running there?): status %d: %w", base, status, errors.Join(err, errors.New("no issuer")))
	}
	public := r.opts.PublicURL
	if public == "" {
		public = d.Issuer
	}
	pu, err := url.Parse(public)
	if err != nil || pu.Host == "" {
		return fmt.Errorf("public URL %q: not an absolute URL", public)
	}
	if err := checkTarget(origin(pu), r.opts.AllowRemote); err != nil {
		return fmt.Errorf("the broker's public URL: %w", err)
	}
	r.brokerOrigins[origin(pu)] = true
	if r.usesFlow(FlowOIDC) {
		if d.Auth == "" || d.Token == "" || d.UserInfo == "" || d.JWKS == "" {
			return errors.New("discovery: the broker's OpenID configuration lacks an endpoint")
		}
		r.oidc = &oidcEndpoints{issuer: d.Issuer, authorize: d.Auth, token: d.Token, userinfo: d.UserInfo, jwks: d.JWKS}
	}
	if r.usesFlow(FlowSAML) {
		doc, err := r.fetch(ctx, base+"/idp/metadata")
		if err != nil {
			return fmt.Errorf("the broker's SAML IdP metadata: %w", err)
		}
		r.idp, err = parseIdPMetadata(doc)
		if err != nil {
			return fmt.Errorf("the broker's SAML IdP metadata: %w", err)
		}
	}
	return nil
}

// fetch GETs a document through the setup client.
func (r *runner) fetch(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	resp, err := r.setup.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return data, nil
}

// parseIdPMetadata reads the entityID, the HTTP-Redirect SSO endpoint and
// the signing certificates of an IdP's metadata.
func parseIdPMetadata(doc []byte) (*samlIdPInfo, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	root := d.Root()
	if root == nil || root.Tag != "EntityDescriptor" {
		return nil, errors.New("not an EntityDescriptor")
	}
	var sso string
	for _, s := range root.FindElements("./IDPSSODescriptor/SingleSignOnService") {
		if s.SelectAttrValue("Binding", "") == bindingRedirect {
			sso = s.SelectAttrValue("Location", "")
		}
	}
	certs, err := signingCerts(root.FindElements("./IDPSSODescriptor/KeyDescriptor"))
	if err != nil {
		return nil, err
	}
	info := newSAMLIdPInfo(root.SelectAttrValue("entityID", ""), sso, certs)
	if info.entityID == "" || info.sso == "" || len(info.certs) == 0 {
		return nil, errors.New("no entityID, HTTP-Redirect SSO endpoint or signing certificate")
	}
	return info, nil
}

// signingCerts reads the certificates of KeyDescriptors for signing.
func signingCerts(kds []*etree.Element) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, kd := range kds {
		if use := kd.SelectAttrValue("use", ""); use != "" && use != "signing" {
			continue
		}
		for _, c := range kd.FindElements(".//X509Certificate") {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Text()), ""))
			if err != nil {
				return nil, fmt.Errorf("certificate: %w", err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("certificate: %w", err)
			}
			out = append(out, cert)
		}
	}
	return out, nil
}

// ready waits until every target serves the tool's integrations: the
// broker's SP metadata towards the upstream SAML IdP (whose certificate
// then verifies the AuthnRequests), and one successful login of each flow
// and source starting at each target. Instances pick configuration changes
// up within their poll interval.
func (r *runner) ready(ctx context.Context, progress io.Writer) error {
	deadline := time.Now().Add(r.opts.ReadyTimeout)
	if r.samlIdP != nil {
		var last error
		for _, t := range r.targets {
			for {
				doc, err := r.fetch(ctx, origin(t)+"/login/saml/"+r.sources[SourceSAMLUpstream].id+"/metadata")
				if err == nil {
					d := etree.NewDocument()
					if err = d.ReadFromBytes(doc); err == nil && d.Root() != nil {
						var certs []*x509.Certificate
						if certs, err = signingCerts(d.Root().FindElements(".//KeyDescriptor")); err == nil && len(certs) > 0 {
							r.samlIdP.spCerts.Store(&certs)
							break
						}
					}
				}
				last = err
				if err := sleepUntil(ctx, deadline, 300*time.Millisecond); err != nil {
					return fmt.Errorf("the broker at %s does not serve the SP metadata towards the tool's SAML IdP: %w (last: %v)", origin(t), err, last)
				}
			}
		}
	}
	for offset := range r.targets {
		v := newVU(r, offset)
		for _, flow := range r.opts.Flows {
			for _, name := range r.opts.Sources {
				for {
					v.b.rt.next.Store(uint64(offset))
					v.b.reset()
					err := r.login(ctx, v, flow, r.sources[name])
					if err == nil {
						break
					}
					if serr := sleepUntil(ctx, deadline, 300*time.Millisecond); serr != nil {
						return fmt.Errorf("warm-up %s login via %s starting at %s did not succeed: %w", flow, name, origin(r.targets[offset]), err)
					}
				}
			}
		}
	}
	if progress != nil {
		fmt.Fprintf(progress, "loadtest: ready: %d target(s), flows %s, sources %s\n", len(r.targets), strings.Join(r.opts.Flows, ","), strings.Join(r.opts.Sources, ","))
	}
	return nil
}

// sleepUntil sleeps d, or fails when that would pass the deadline.
func sleepUntil(ctx context.Context, deadline time.Time, d time.Duration) error {
	if time.Now().Add(d).After(deadline) {
		return errors.New("timed out")
	}
	if !waitUntil(ctx, time.Now().Add(d)) {
		return fmt.Errorf("waiting: %w", ctx.Err())
	}
	return nil
}

// waitUntil waits until t, or reports false if ctx ends first.
func waitUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// login runs one login of the flow.
func (r *runner) login(ctx context.Context, v *vu, flow string, src *source) error {
	if flow == FlowSAML {
		return r.samlLogin(ctx, v, src)
	}
	return r.oidcLogin(ctx, v, src)
}

// workerStats is what one virtual user measured.
type workerStats struct {
	latencies map[string][]time.Duration // by flow
	requests  map[string][]time.Duration // broker requests of completed logins, by flow
	endpoints map[string][]time.Duration // the same by endpoint
	errors    map[string]int             // by kind
	examples  []string
	failed    map[string]int // by flow
	abandoned int
}

// measure drives the logins and builds the report.
func (r *runner) measure(ctx context.Context, progress io.Writer) (*Report, error) {
	// The signature's cost is measured before and after the run, outside
	// it: a machine whose speed changes during the run (a virtual one with
	// busy neighbours) shows as a difference between the two.
	var sigBefore time.Duration
	if len(r.opts.PIDs) > 0 {
		var err error
		if sigBefore, err = signatureCost(200); err != nil {
			return nil, err
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if r.opts.Duration > 0 {
		runCtx, cancel = context.WithTimeout(ctx, r.opts.Duration)
		defer cancel()
	}
	before, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	opsBefore := r.ops.snapshot()
	var claimed, ok, failed atomic.Int64
	stats := make([]*workerStats, r.opts.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range r.opts.Concurrency {
		ws := &workerStats{latencies: map[string][]time.Duration{}, requests: map[string][]time.Duration{}, endpoints: map[string][]time.Duration{}, errors: map[string]int{}, failed: map[string]int{}}
		stats[i] = ws
		v := newVU(r, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer v.b.c.CloseIdleConnections()
			for runCtx.Err() == nil {
				n := claimed.Add(1)
				if r.opts.Count > 0 && n > int64(r.opts.Count) {
					return
				}
				// In an open loop the n-th login is due at a fixed time;
				// its latency counts from then, waiting included.
				var due time.Time
				if r.opts.Rate > 0 {
					due = start.Add(time.Duration(float64(n-1) / r.opts.Rate * float64(time.Second)))
					if !waitUntil(runCtx, due) {
						return // the run ended before it was due
					}
				}
				flow := r.opts.Flows[(n-1)%int64(len(r.opts.Flows))]
				src := r.sources[r.opts.Sources[((n-1)/int64(len(r.opts.Flows)))%int64(len(r.opts.Sources))]]
				if !r.opts.KeepSession {
					v.b.reset()
				}
				v.b.rt.answered = v.b.rt.answered[:0]
				t0 := time.Now()
				if !due.IsZero() {
					t0 = due
				}
				err := r.login(runCtx, v, flow, src)
				d := time.Since(t0)
				if err != nil && runCtx.Err() != nil {
					ws.abandoned++ // cut off by the end of the run
					return
				}
				if err != nil {
					failed.Add(1)
					ws.failed[flow]++
					ws.errors[kindOf(err)]++
					if len(ws.examples) < 3 {
						ws.examples = append(ws.examples, err.Error())
					}
					continue
				}
				ok.Add(1)
				ws.latencies[flow] = append(ws.latencies[flow], d)
				for _, a := range v.b.rt.answered {
					ws.requests[flow] = append(ws.requests[flow], a.took)
					ws.endpoints[a.endpoint] = append(ws.endpoints[a.endpoint], a.took)
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	r.progressLoop(done, progress, start, &ok, &failed)
	elapsed := time.Since(start)
	after, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	ops := r.ops.snapshot()
	for op, n := range opsBefore {
		ops[op] -= n
	}
	rep := r.report(stats, elapsed, before, after)
	rep.SignatureOps = signatureOps(ops, rep.Logins)
	if len(r.opts.PIDs) > 0 {
		// Same binary, so same crypto as the server. The pause lets the
		// servers finish the logins the end of the run cut off, which
		// would otherwise share the cores with the measurement.
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if rep.SignatureAfter, err = signatureCost(200); err != nil {
			return nil, err
		}
		rep.SignatureBefore = sigBefore
		rep.Signature = (sigBefore + rep.SignatureAfter) / 2
		rep.SignatureOpsPerLogin = measureSignatureOps(rep.SignatureOps, rep.Signature)
	}
	// Without PIDs the checks have no cost measured here, and only the
	// signatures count at the servers' own.
	rep.SignatureOpsInServer = signatureOpsInServer(rep.SignatureOps, rep.ServerSignatures)
	return rep, nil
}

// progressLoop writes a progress line every interval until done.
func (r *runner) progressLoop(done <-chan struct{}, w io.Writer, start time.Time, ok, failed *atomic.Int64) {
	if w == nil {
		<-done
		return
	}
	inline := false
	if f, isFile := w.(*os.File); isFile {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			inline = true
		}
	}
	t := time.NewTicker(r.opts.ProgressInterval)
	defer t.Stop()
	var last int64
	lastT := start
	for {
		select {
		case <-done:
			if inline {
				fmt.Fprintln(w)
			}
			return
		case now := <-t.C:
			n := ok.Load()
			rate := float64(n-last) / now.Sub(lastT).Seconds()
			last, lastT = n, now
			line := fmt.Sprintf("loadtest: %5.1fs  %7d logins  %7.1f/s now  %7.1f/s mean  %d errors",
				now.Sub(start).Seconds(), n, rate, float64(n)/now.Sub(start).Seconds(), failed.Load())
			if inline {
				fmt.Fprint(w, "\r"+line+"  ")
			} else {
				fmt.Fprintln(w, line)
			}
		}
	}
}
