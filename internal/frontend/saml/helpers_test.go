package saml

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/mpassid/mpassid/internal/broker"
	"github.com/mpassid/mpassid/internal/keys"
	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store/sqlite"
	"github.com/mpassid/mpassid/internal/testenv"
)

const testSetID = 6000001

// testUser is the user of the data model 1.4 example response.
func testUser() *model.User {
	level, charge := 9, 1
	return &model.User{
		UID:       "MPASSOID.c81e733db4339edc21efd486c27af2d624b13975",
		GivenName: "Testi1", Surname: "Oppilas1", Nickname: "Kutsumanimi1",
		LearnerID: "1.2.246.562.24.20000000018",
		Roles: []model.UserRole{{
			ProviderOID: "1.2.246.562.99.00000000001", ProviderName: "Mansikkalan testi kunta",
			SchoolCode: "30076", SchoolOID: "1.2.246.562.99.00000000002", SchoolName: "Mansikkalan testi peruskoulu",
			Group: "9F", RoleName: "Oppilas", RoleCode: 1, LearningMaterialsCharge: &charge,
		}},
		ClassLevel:     &level,
		OriginalIssuer: "1.2.246.562.99.00000000001",
		Source:         "ShibLdap",
	}
}

// fakeFlow is a broker.Flow that logs in at once: Begin answers through
// the IdP's Respond with testUser, or with ErrCodeNoPassive for a passive
// request without a session.
type fakeFlow struct {
	mu           sync.Mutex
	integrations []*model.Integration
	catalog      *broker.Catalog
	responder    broker.Responder
	hasSession   bool
	sessionID    string
	now          func() time.Time
	begun        []broker.Request
	participants map[string][]broker.Participant
	ended        []string
	// result, when set, replaces the default outcome.
	result func(req broker.Request) *broker.Result
}

func newFakeFlow(now func() time.Time) *fakeFlow {
	f := &fakeFlow{now: now, sessionID: "broker-session-1", participants: map[string][]broker.Participant{}}
	f.integrations = []*model.Integration{{
		ID: testSetID, Role: model.RoleSet, Status: model.StatusActive, DeploymentPhase: model.PhaseTest,
		Set: &model.Set{Name: "Test set", AllowTestLearnerID: true},
	}}
	f.catalog = broker.NewCatalog(1, f.integrations)
	return f
}

func (f *fakeFlow) addService(id int64, md *model.SAMLMetadata) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.integrations = append(f.integrations, &model.Integration{
		ID: id, Role: model.RoleSP, Status: model.StatusActive, DeploymentPhase: model.PhaseTest,
		SP: &model.SP{Type: model.SPTypeSAML, Name: fmt.Sprintf("service %d", id), SetID: testSetID, SAML: md},
	})
	f.catalog = broker.NewCatalog(f.catalog.Version+1, f.integrations)
}

func (f *fakeFlow) Catalog() *broker.Catalog {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.catalog
}

func (f *fakeFlow) Begin(w http.ResponseWriter, r *http.Request, req broker.Request) {
	f.mu.Lock()
	f.begun = append(f.begun, req)
	svc, _ := f.catalog.Service(req.ServiceID)
	var res *broker.Result
	switch {
	case f.result != nil:
		res = f.result(req)
	case req.Passive && !f.hasSession:
		res = &broker.Result{Err: &broker.LoginError{Code: broker.ErrCodeNoPassive, Description: "no session", Reference: "ref1"}}
	default:
		f.hasSession = true
		now := f.now()
		res = &broker.Result{User: testUser(), Session: broker.Session{
			ID: f.sessionID, AuthnInstant: now.Add(-2 * time.Minute), Source: "ShibLdap", ExpiresAt: now.Add(8 * time.Hour)}}
	}
	res.Request, res.Service = req, svc
	resp := f.responder
	f.mu.Unlock()
	resp.Respond(w, r, res)
}

func (f *fakeFlow) AddParticipant(_ context.Context, sessionID string, p broker.Participant) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.participants[sessionID] = append(f.participants[sessionID], p)
	return nil
}

func (f *fakeFlow) CurrentSession(*http.Request) (*broker.Session, error) { return nil, nil }

func (f *fakeFlow) EndSession(_ http.ResponseWriter, _ *http.Request, sessionID string, except int64) ([]broker.Participant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, sessionID)
	f.hasSession = false
	var out []broker.Participant
	for _, p := range f.participants[sessionID] {
		if p.ServiceID != except {
			out = append(out, p)
		}
	}
	delete(f.participants, sessionID)
	return out, nil
}

func (f *fakeFlow) begins() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.begun)
}

// testEnv is a running IdP on the real SQLite store with real keys.
type testEnv struct {
	idp    *IdP
	sealer *keys.Sealer
	srv    *httptest.Server
	flow   *fakeFlow
	st     *sqlite.Store
	ks     *keys.KeySet
	mgr    *keys.Manager
	clock  *clock
	issued *issuedLog
	// logs holds what the IdP logged, as the test's log shows it too.
	logs *testenv.Buffer
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

// issuedLog captures what went through the IdP's handlers, to check that
// no assertion is issued on refusals.
type issuedLog struct {
	mu     sync.Mutex
	bodies []string
}

func (l *issuedLog) assertions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, b := range l.bodies {
		for _, m := range regexp.MustCompile(`name="SAMLResponse" value="([^"]*)"`).FindAllStringSubmatch(b, -1) {
			x, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
			if err == nil && (strings.Contains(string(x), "Assertion")) {
				n++
			}
		}
	}
	return n
}

type captureWriter struct {
	http.ResponseWriter
	buf strings.Builder
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.buf.Write(b)
	return c.ResponseWriter.Write(b)
}

func newEnv(tb testing.TB, mutate ...func(*Config)) *testEnv {
	tb.Helper()
	ctx := context.Background()
	st := sqlite.OpenTemp(tb)
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	sealer, err := keys.NewSealer(master)
	if err != nil {
		tb.Fatal(err)
	}
	mgr, err := keys.NewManager(st, sealer, keys.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := mgr.Ensure(ctx); err != nil {
		tb.Fatal(err)
	}
	ks, err := mgr.Load(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	env := &testEnv{st: st, ks: ks, mgr: mgr, clock: &clock{}, issued: &issuedLog{}}
	env.flow = newFakeFlow(env.clock.Now)
	mux := http.NewServeMux()
	env.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &captureWriter{ResponseWriter: w}
		mux.ServeHTTP(cw, r)
		env.issued.mu.Lock()
		env.issued.bodies = append(env.issued.bodies, cw.buf.String())
		env.issued.mu.Unlock()
	}))
	tb.Cleanup(env.srv.Close)
	cfg := Config{EntityID: env.srv.URL + "/idp", BaseURL: env.srv.URL, Now: env.clock.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	env.sealer = sealer
	env.logs = &testenv.Buffer{}
	env.idp, err = New(cfg, Deps{Flow: env.flow, Keys: func() *keys.KeySet { return env.ks }, Runtime: st, Sealer: sealer,
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(tbWriter{tb}, env.logs), nil))})
	if err != nil {
		tb.Fatal(err)
	}
	env.flow.responder = env.idp
	env.idp.Routes(mux)
	return env
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(b []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// spKey is a service provider's key and self-signed certificate.
type spKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func newSPKey(tb testing.TB) *spKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test sp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		tb.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &spKey{key: k, cert: c}
}

func (k *spKey) b64() string { return base64.StdEncoding.EncodeToString(k.cert.Raw) }

// realSP is crewjam's samlsp middleware as a service, behind httptest.
type realSP struct {
	m   *samlsp.Middleware
	srv *httptest.Server
	md  *model.SAMLMetadata
	id  int64
}

type spOptions struct {
	encrypt, wantResponseSigned bool
	// localhost serves the SP as localhost rather than 127.0.0.1, so that
	// two SPs do not share cookies in the browser's jar.
	localhost bool
}

func newRealSP(tb testing.TB, env *testEnv, id int64, o spOptions) *realSP {
	tb.Helper()
	k := newSPKey(tb)
	sp := &realSP{id: id}
	mux := http.NewServeMux()
	sp.srv = httptest.NewServer(mux)
	tb.Cleanup(sp.srv.Close)
	if o.localhost {
		sp.srv.URL = strings.Replace(sp.srv.URL, "127.0.0.1", "localhost", 1)
	}
	u, _ := url.Parse(sp.srv.URL)
	idpMeta, err := samlsp.FetchMetadata(context.Background(), http.DefaultClient, *mustURL(env.srv.URL + PathMetadata))
	if err != nil {
		tb.Fatal(err)
	}
	sp.m, err = samlsp.New(samlsp.Options{
		EntityID: sp.srv.URL + "/saml/metadata", URL: *u, Key: k.key, Certificate: k.cert,
		IDPMetadata: idpMeta, SignRequest: true,
	})
	if err != nil {
		tb.Fatal(err)
	}
	mux.Handle("/saml/", sp.m)
	mux.Handle("/hello", sp.m.RequireAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello uid=%s role=%s", samlsp.AttributeFromContext(r.Context(), "mpassUsername"),
			samlsp.AttributeFromContext(r.Context(), "mpassRole"))
	})))
	mux.HandleFunc("/logout", sp.m.HandleStartLogout)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "home") })
	metaXML, err := xml.Marshal(sp.m.ServiceProvider.Metadata())
	if err != nil {
		tb.Fatal(err)
	}
	md, _, err := ParseSPMetadataOptions(metaXML, SPMetadataOptions{AllowHTTPLoopback: true})
	if err != nil {
		tb.Fatalf("parse samlsp metadata: %v\n%s", err, metaXML)
	}
	if !o.encrypt {
		md.EncryptionCertificates = nil
	}
	md.AuthnRequestsSigned = true
	md.WantResponseSigned = o.wantResponseSigned
	sp.md = md
	env.flow.addService(id, md)
	return sp
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// browser is an HTTP client with cookies that submits auto-submit forms.
type browser struct {
	tb testing.TB
	c  *http.Client
}

func newBrowser(tb testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{tb: tb, c: &http.Client{Jar: jar}}
}

var (
	formRe  = regexp.MustCompile(`(?is)<form[^>]*\baction="([^"]*)"`)
	inputRe = regexp.MustCompile(`(?is)<input[^>]*>`)
	nameRe  = regexp.MustCompile(`(?is)\bname="([^"]*)"`)
	valueRe = regexp.MustCompile(`(?is)\bvalue="([^"]*)"`)
)

// page is a fetched page.
type page struct {
	status int
	url    string
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.tb.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, url: resp.Request.URL.String(), body: string(body)}
}

func (b *browser) get(u string) page {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// form reads the auto-submit form of p.
func form(p page) (action string, vals url.Values, ok bool) {
	m := formRe.FindStringSubmatch(p.body)
	if m == nil {
		return "", nil, false
	}
	vals = url.Values{}
	for _, in := range inputRe.FindAllString(p.body, -1) {
		n, v := nameRe.FindStringSubmatch(in), valueRe.FindStringSubmatch(in)
		if n == nil || v == nil {
			continue
		}
		vals.Add(html.UnescapeString(n[1]), html.UnescapeString(v[1]))
	}
	return html.UnescapeString(m[1]), vals, true
}

// submitAll submits auto-submit forms until a page without one.
func (b *browser) submitAll(p page) page {
	b.tb.Helper()
	for i := 0; i < 10; i++ {
		action, vals, ok := form(p)
		if !ok {
			return p
		}
		p = b.post(action, vals)
	}
	b.tb.Fatal("too many forms")
	return p
}

// samlResponseOf decodes the SAMLResponse of the form on p.
func samlResponseOf(tb testing.TB, p page) []byte {
	tb.Helper()
	_, vals, ok := form(p)
	if !ok || vals.Get("SAMLResponse") == "" {
		tb.Fatalf("no SAMLResponse form (status %d): %s", p.status, truncate(p.body, 500))
	}
	x, err := base64.StdEncoding.DecodeString(vals.Get("SAMLResponse"))
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// statusOfResponse returns the top and second-level status codes.
func statusOfResponse(tb testing.TB, x []byte) (string, string) {
	tb.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(x); err != nil {
		tb.Fatal(err)
	}
	top := d.Root().FindElement("./Status/StatusCode")
	if top == nil {
		tb.Fatalf("no status: %s", x)
	}
	second := top.FindElement("./StatusCode")
	s2 := ""
	if second != nil {
		s2 = second.SelectAttrValue("Value", "")
	}
	return top.SelectAttrValue("Value", ""), s2
}

// requestOpts shape a hand-made AuthnRequest.
type requestOpts struct {
	id, issuer, acs, destination string
	acsIndex                     *int
	issueInstant                 time.Time
	passive, force               bool
	classRefs                    []string
	prefix                       string // raw text before the root (DTDs)
	nameIDFormat                 string
}

func authnRequestXML(o requestOpts) string {
	if o.id == "" {
		o.id = newID()
	}
	if o.issueInstant.IsZero() {
		o.issueInstant = time.Now()
	}
	var b strings.Builder
	b.WriteString(o.prefix)
	fmt.Fprintf(&b, `<samlp:AuthnRequest xmlns:samlp="%s" xmlns:saml="%s" ID="%s" Version="2.0" IssueInstant="%s"`, nsProtocol, nsAssertion, o.id, samlTime(o.issueInstant))
	if o.destination != "" {
		fmt.Fprintf(&b, ` Destination="%s"`, o.destination)
	}
	if o.acs != "" {
		fmt.Fprintf(&b, ` AssertionConsumerServiceURL="%s" ProtocolBinding="%s"`, o.acs, BindingPOST)
	}
	if o.acsIndex != nil {
		fmt.Fprintf(&b, ` AssertionConsumerServiceIndex="%d"`, *o.acsIndex)
	}
	if o.passive {
		b.WriteString(` IsPassive="true"`)
	}
	if o.force {
		b.WriteString(` ForceAuthn="true"`)
	}
	fmt.Fprintf(&b, `><saml:Issuer>%s</saml:Issuer>`, o.issuer)
	if o.nameIDFormat != "" {
		fmt.Fprintf(&b, `<samlp:NameIDPolicy Format="%s" AllowCreate="true"/>`, o.nameIDFormat)
	}
	if len(o.classRefs) > 0 {
		b.WriteString(`<samlp:RequestedAuthnContext Comparison="exact">`)
		for _, c := range o.classRefs {
			fmt.Fprintf(&b, `<saml:AuthnContextClassRef>%s</saml:AuthnContextClassRef>`, c)
		}
		b.WriteString(`</samlp:RequestedAuthnContext>`)
	}
	b.WriteString(`</samlp:AuthnRequest>`)
	return b.String()
}

// redirectQuery encodes msg for the HTTP-Redirect binding, signed with k
// when k is not nil.
func redirectQuery(tb testing.TB, param string, msg []byte, relayState string, k *spKey) string {
	tb.Helper()
	if k == nil {
		u, err := redirectURL("x", param, msg, relayState, &keys.SigningKey{Signer: nopSigner{}})
		if err != nil {
			tb.Fatal(err)
		}
		// drop SigAlg and Signature
		q := strings.TrimPrefix(u, "x?")
		q = q[:strings.Index(q, "&SigAlg=")]
		return q
	}
	u, err := redirectURL("x", param, msg, relayState, &keys.SigningKey{Signer: k.key, Certificate: k.cert})
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimPrefix(u, "x?")
}

type nopSigner struct{}

func (nopSigner) Public() crypto.PublicKey { return nil }
func (nopSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return []byte{1}, nil
}

// signXML signs a hand-made message with an enveloped signature after its
// Issuer.
func signXML(tb testing.TB, msg string, k *spKey) string {
	tb.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(msg); err != nil {
		tb.Fatal(err)
	}
	signed, err := signEnveloped(d.Root(), &keys.SigningKey{Signer: k.key, Certificate: k.cert})
	if err != nil {
		tb.Fatal(err)
	}
	b, err := serialize(signed)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// verifyOwn verifies an enveloped signature of el with the IdP's published
// certificates.
func verifyOwn(tb testing.TB, el *etree.Element, ks *keys.KeySet) {
	tb.Helper()
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: ks.PublishedCertificates(keys.RS256)})
	ctx.IdAttribute = "ID"
	if _, err := ctx.Validate(el); err != nil {
		tb.Fatalf("own verification of %s: %v", el.Tag, err)
	}
}

// handSP is a registered service whose messages the tests make by hand.
type handSP struct {
	id       int64
	entityID string
	acs      string
	slo      string
	key      *spKey
	enc      *spKey
	md       *model.SAMLMetadata
}

const (
	handEntityID = "https://www.service.fi/auth/mpassid/metadata"
	handACS      = "https://www.service.fi/auth/mpassid/callback"
	handACS2     = "https://www.service.fi/auth/mpassid/callback2"
	handSLO      = "https://www.service.fi/auth/mpassid/slo"
)

func newHandSP(tb testing.TB, env *testEnv, mutate ...func(*model.SAMLMetadata)) *handSP {
	tb.Helper()
	sp := &handSP{id: 5000100, entityID: handEntityID, acs: handACS, slo: handSLO, key: newSPKey(tb)}
	sp.md = &model.SAMLMetadata{
		EntityID: sp.entityID,
		ACS: []model.ACSEndpoint{
			{Binding: BindingPOST, Location: handACS, Index: 0, IsDefault: true},
			{Binding: BindingPOST, Location: handACS2, Index: 1},
		},
		SingleLogout:         []model.Endpoint{{Binding: BindingRedirect, Location: handSLO}},
		SigningCertificates:  []string{sp.key.b64()},
		AuthnRequestsSigned:  true,
		WantAssertionsSigned: true,
	}
	for _, m := range mutate {
		m(sp.md)
	}
	env.flow.addService(sp.id, sp.md)
	return sp
}

// ssoRedirect sends a hand-made AuthnRequest by HTTP-Redirect, signed
// with k (nil: unsigned), and returns the IdP's page.
func (env *testEnv) ssoRedirect(tb testing.TB, msg string, relayState string, k *spKey) page {
	tb.Helper()
	q := redirectQuery(tb, "SAMLRequest", []byte(msg), relayState, k)
	return newBrowser(tb).get(env.srv.URL + PathSSORedirect + "?" + q)
}

// ssoPOST sends a hand-made AuthnRequest by HTTP-POST.
func (env *testEnv) ssoPOST(tb testing.TB, msg string, relayState string) page {
	tb.Helper()
	v := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte(msg))}}
	if relayState != "" {
		v.Set("RelayState", relayState)
	}
	return newBrowser(tb).post(env.srv.URL+PathSSOPOST, v)
}

// login runs a successful login of sp by HTTP-Redirect and returns the
// Response XML.
func (env *testEnv) login(tb testing.TB, sp *handSP) []byte {
	tb.Helper()
	msg := authnRequestXML(requestOpts{issuer: sp.entityID, destination: env.srv.URL + PathSSORedirect})
	p := env.ssoRedirect(tb, msg, "rs-1", sp.key)
	return samlResponseOf(tb, p)
}

// LogoutElsewhere: the fake flow has no other protocol's frontend.
func (f *fakeFlow) LogoutElsewhere(http.ResponseWriter, *http.Request, []broker.Participant, string) bool {
	return false
}
