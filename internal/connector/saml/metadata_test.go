package saml

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/model"
)

func TestParseEntraShapedMetadata(t *testing.T) {
	idp := newTestIdP(t)
	now := time.Now()
	k2 := newTestKey(t, 3, "rollover-2", now.Add(-time.Hour), now.Add(48*time.Hour))
	k3 := newTestKey(t, 4, "rollover-3", now.Add(-time.Hour), now.Add(96*time.Hour))
	idp.extraCerts = []*testKey{k2, k3}
	doc := idp.metadata(metadataOpts{})
	if !strings.HasPrefix(string(doc), "\xEF\xBB\xBF") {
		t.Fatal("test metadata should start with a BOM, as Entra's does")
	}
	m, err := parseMetadata(doc, parseOptions{now: now, allowLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.info.EntityID != idp.entityID {
		t.Errorf("entityID = %q", m.info.EntityID)
	}
	// Only the IDPSSODescriptor's keys, not the WS-Fed RoleDescriptor's.
	if len(m.signingCerts) != 3 || len(m.info.SigningCertNotAfter) != 3 {
		t.Fatalf("signing certs = %d", len(m.signingCerts))
	}
	for i, k := range []*testKey{idp.key, k2, k3} {
		if !m.info.SigningCertNotAfter[i].Equal(k.cert.NotAfter) {
			t.Errorf("NotAfter[%d] = %v, want %v", i, m.info.SigningCertNotAfter[i], k.cert.NotAfter)
		}
	}
	if got := m.info.SigningCertificateValidUntil(); !got.Equal(idp.key.cert.NotAfter) {
		t.Errorf("SigningCertificateValidUntil = %v", got)
	}
	if m.info.SSORedirectURL != idp.srv.URL+"/sso" || m.info.SSOPostURL != idp.srv.URL+"/sso" {
		t.Errorf("SSO = %q %q", m.info.SSORedirectURL, m.info.SSOPostURL)
	}
	if !m.info.ValidUntil.IsZero() {
		t.Errorf("ValidUntil = %v", m.info.ValidUntil)
	}
	// Without the loopback allowance, http SSO endpoints are refused.
	if _, err := parseMetadata(doc, parseOptions{now: now}); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("http SSO endpoint accepted: %v", err)
	}
}

func TestParseMetadataErrors(t *testing.T) {
	idp := newTestIdP(t)
	now := time.Now()
	good := string(stripBOM(idp.metadata(metadataOpts{})))
	cases := map[string]string{
		"not xml":        "not xml",
		"dtd":            `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + good,
		"wrong root":     `<foo/>`,
		"expired":        string(stripBOM(idp.metadata(metadataOpts{validUntil: now.Add(-time.Minute)}))),
		"no sso":         string(stripBOM(idp.metadata(metadataOpts{omitSSO: true}))),
		"no idp":         `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`,
		"bad cert":       good[:strings.LastIndex(good, "<X509Certificate>MII")] + "<X509Certificate>XXX" + good[strings.LastIndex(good, "<X509Certificate>MII")+20:],
		"bad validUntil": strings.Replace(good, `ID="_md1"`, `ID="_md1" validUntil="tomorrow"`, 1),
		"too large":      good + strings.Repeat(" ", DefaultMaxMetadataSize),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseMetadata([]byte(doc), parseOptions{now: now, allowLoopback: true})
			if !errors.Is(err, ErrInvalidMetadata) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("other entity", func(t *testing.T) {
		_, err := parseMetadata([]byte(good), parseOptions{now: now, allowLoopback: true, entityID: "https://other/"})
		if !errors.Is(err, ErrInvalidMetadata) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestEntitiesDescriptor(t *testing.T) {
	idp := newTestIdP(t)
	now := time.Now()
	one := string(stripBOM(idp.metadata(metadataOpts{})))
	one = one[strings.Index(one, "<EntityDescriptor"):]
	other := strings.Replace(one, idp.entityID, "https://other.example/idp", 1)
	vu := now.Add(24 * time.Hour).UTC().Format(time.RFC3339)
	doc := `<?xml version="1.0"?><EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" validUntil="` + vu + `">` + other + one + `</EntitiesDescriptor>`
	m, err := parseMetadata([]byte(doc), parseOptions{now: now, allowLoopback: true, entityID: idp.entityID})
	if err != nil {
		t.Fatal(err)
	}
	if m.info.EntityID != idp.entityID || m.info.ValidUntil.UTC().Format(time.RFC3339) != vu {
		t.Errorf("info = %+v", m.info)
	}
	if _, err := parseMetadata([]byte(doc), parseOptions{now: now, allowLoopback: true}); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("ambiguous aggregate accepted: %v", err)
	}
}

// switchServer serves whatever body/status is set.
type switchServer struct {
	mu     sync.Mutex
	status int
	body   []byte
	hits   int
}

func (s *switchServer) set(status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func (s *switchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	w.WriteHeader(s.status)
	_, _ = w.Write(s.body)
}

func TestMetadataSourceKeepsLastGood(t *testing.T) {
	idp := newTestIdP(t)
	now := time.Now()
	mdKey := newTestKey(t, 3, "metadata-signer", now.Add(-time.Hour), now.Add(time.Hour))
	evil := newTestKey(t, 4, "evil", now.Add(-time.Hour), now.Add(time.Hour))
	sw := &switchServer{}
	srv := httptest.NewServer(sw)
	defer srv.Close()

	src, err := NewMetadataSource(MetadataOptions{URL: srv.URL, AllowLoopbackHTTP: true, SigningCerts: []*x509.Certificate{mdKey.cert}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Info(); !errors.Is(err, ErrNoMetadata) {
		t.Fatalf("before refresh: %v", err)
	}
	ctx := context.Background()
	vu := now.Add(7 * 24 * time.Hour).Truncate(time.Second)
	sw.set(200, idp.metadata(metadataOpts{signWith: mdKey, validUntil: vu}))
	if err := src.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := src.Info()
	if err != nil || !info.SignatureVerified || !info.ValidUntil.Equal(vu) || info.Source != srv.URL {
		t.Fatalf("info = %+v, %v", info, err)
	}
	idp.extraCerts = []*testKey{evil} // would add a certificate, if accepted

	bad := map[string]func(){
		"HTTP 500":          func() { sw.set(500, []byte("oops")) },
		"not XML":           func() { sw.set(200, []byte("<html>maintenance")) },
		"expired":           func() { sw.set(200, idp.metadata(metadataOpts{signWith: mdKey, validUntil: now.Add(-time.Second)})) },
		"unsigned":          func() { sw.set(200, idp.metadata(metadataOpts{})) },
		"signed by another": func() { sw.set(200, idp.metadata(metadataOpts{signWith: evil})) },
		"tampered": func() {
			doc := string(idp.metadata(metadataOpts{signWith: mdKey}))
			sw.set(200, []byte(strings.Replace(doc, "/sso", "/evil", 1)))
		},
	}
	for name, setup := range bad {
		t.Run(name, func(t *testing.T) {
			setup()
			if err := src.Refresh(ctx); err == nil {
				t.Fatal("refresh accepted bad metadata")
			}
			if st := src.LastRefresh(); st.Err == nil {
				t.Error("LastRefresh has no error")
			}
			got, err := src.Info()
			if err != nil || len(got.SigningCertNotAfter) != 1 || !got.ValidUntil.Equal(vu) {
				t.Fatalf("last good copy lost: %+v %v", got, err)
			}
		})
	}
	// A good update replaces the copy.
	sw.set(200, idp.metadata(metadataOpts{signWith: mdKey}))
	if err := src.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := src.Info(); len(got.SigningCertNotAfter) != 2 || !got.ValidUntil.IsZero() {
		t.Fatalf("update not taken: %+v", got)
	}
}

func TestMetadataSourceRun(t *testing.T) {
	idp := newTestIdP(t)
	sw := &switchServer{}
	sw.set(200, idp.metadata(metadataOpts{}))
	srv := httptest.NewServer(sw)
	defer srv.Close()
	src, err := NewMetadataSource(MetadataOptions{URL: srv.URL, AllowLoopbackHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { src.Run(ctx, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sw.mu.Lock()
		hits := sw.hits
		sw.mu.Unlock()
		if hits >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not refresh")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if _, err := src.Info(); err != nil {
		t.Fatal(err)
	}
}

func TestMetadataURLValidation(t *testing.T) {
	for _, u := range []string{"http://idp.example.fi/md", "ftp://x/md", "/relative", "https://user:pw@idp.example/md", "http://127.0.0.1:1/md"} {
		if _, err := NewMetadataSource(MetadataOptions{URL: u}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
	if _, err := NewMetadataSource(MetadataOptions{URL: "https://login.microsoftonline.com/x/FederationMetadata/2007-06/FederationMetadata.xml"}); err != nil {
		t.Error(err)
	}
	if _, err := NewMetadataSource(MetadataOptions{URL: "http://127.0.0.1:1/md", AllowLoopbackHTTP: true}); err != nil {
		t.Error(err)
	}
	if _, err := NewMetadataSource(MetadataOptions{URL: "http://10.0.0.1/md", AllowLoopbackHTTP: true}); err == nil {
		t.Error("non-loopback http accepted")
	}
	// A redirect to plain http is not followed.
	idp := newTestIdP(t)
	redir := httptest.NewServer(http.RedirectHandler("http://idp.example.invalid/md", http.StatusFound))
	defer redir.Close()
	src, _ := NewMetadataSource(MetadataOptions{URL: redir.URL, AllowLoopbackHTTP: true})
	if err := src.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("redirect to http followed: %v", err)
	}
	_ = idp
}

func TestUploadedMetadataAndOptionsFor(t *testing.T) {
	idp := newTestIdP(t)
	doc := idp.metadata(metadataOpts{})
	src, err := NewMetadataSource(MetadataOptions{Document: doc, AllowLoopbackHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := src.Info(); info.Source != "uploaded" || info.EntityID != idp.entityID {
		t.Errorf("info = %+v", info)
	}
	if _, err := NewMetadataSource(MetadataOptions{Document: []byte("<x/>")}); err == nil {
		t.Error("bad upload accepted")
	}
	if _, err := NewMetadataSource(MetadataOptions{}); err == nil {
		t.Error("no source accepted")
	}

	o, err := MetadataOptionsFor(&model.IdP{Type: model.IdPAzure, IdPID: "azure_t", TenantID: "0321ea95-1a00-4000-8000-000000000000", EntityID: "https://sts.windows.net/x/"})
	if err != nil || o.URL != "https://login.microsoftonline.com/0321ea95-1a00-4000-8000-000000000000/FederationMetadata/2007-06/FederationMetadata.xml" || o.EntityID != "https://sts.windows.net/x/" {
		t.Errorf("azure options = %+v, %v", o, err)
	}
	o, err = MetadataOptionsFor(&model.IdP{Type: model.IdPGSuite, IdPID: "g", Metadata: "<x/>"})
	if err != nil || string(o.Document) != "<x/>" {
		t.Errorf("gsuite options = %+v, %v", o, err)
	}
	if _, err := MetadataOptionsFor(&model.IdP{Type: model.IdPADFS, IdPID: "a"}); err == nil {
		t.Error("IdP without metadata accepted")
	}
	if _, err := EntraMetadataURL("../evil"); err == nil {
		t.Error("bad tenant accepted")
	}
}

func TestExpiredMetadataRefusesLogins(t *testing.T) {
	idp := newTestIdP(t)
	vu := time.Now().Add(time.Hour)
	var clock struct {
		sync.Mutex
		t time.Time
	}
	clock.t = time.Now()
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.t }
	src, err := NewMetadataSource(MetadataOptions{Document: idp.metadata(metadataOpts{validUntil: vu}), AllowLoopbackHTTP: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	b := newTestBroker(t, idp, func(c *Config) { c.Metadata = src; c.Now = now })
	tx, rid, _ := b.start(connector.LoginRequest{})
	// The response is made for a time after validUntil.
	clock.Lock()
	clock.t = vu.Add(time.Minute)
	clock.Unlock()
	resp := idp.response(respOpts{requestID: rid, acs: b.acsURL(), issueInstant: vu.Add(time.Minute),
		notBefore: vu, notOnOrAfter: vu.Add(5 * time.Minute)})
	res := b.postResponse(tx, resp)
	if !errors.Is(res.err, ErrInvalidMetadata) || res.id != nil {
		t.Fatalf("login with expired metadata: %v", res.err)
	}
	if _, err := b.c.Start(context.Background(), connector.LoginRequest{TransactionID: "t"}); !errors.Is(err, ErrInvalidMetadata) {
		t.Fatalf("Start with expired metadata: %v", err)
	}
}
