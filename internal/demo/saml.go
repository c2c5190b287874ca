package demo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml/samlsp"
)

// LoadOrCreateSPKey returns the demo SAML service's key and self-signed
// certificate from path, creating both on first use. The key stays in the
// dev data directory, readable by the developer only.
func LoadOrCreateSPKey(path string) (*rsa.PrivateKey, *x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return createSPKey(path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read demo SP key: %w", err)
	}
	var key *rsa.PrivateKey
	var cert *x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		switch block.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("demo SP key: %w", err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, nil, errors.New("demo SP key is not RSA")
			}
			key = rk
		case "CERTIFICATE":
			if cert, err = x509.ParseCertificate(block.Bytes); err != nil {
				return nil, nil, fmt.Errorf("demo SP certificate: %w", err)
			}
		}
	}
	if key == nil || cert == nil {
		return nil, nil, fmt.Errorf("demo SP key file %s lacks a key or a certificate", path)
	}
	return key, cert, nil
}

func createSPKey(path string) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("generate demo SP key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "mpassid demo SAML service"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("demo SP certificate: %w", err)
	}
	cert, _ := x509.ParseCertificate(der)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode demo SP key: %w", err)
	}
	out := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return nil, nil, fmt.Errorf("write demo SP key: %w", err)
	}
	return key, cert, nil
}

// SAMLConfig configures the demo SAML service.
type SAMLConfig struct {
	// BaseURL is where the demo is mounted; it is also its entityID.
	BaseURL string
	// IdPMetadataURL is the broker's IdP metadata.
	IdPMetadataURL string
	Key            *rsa.PrivateKey
	Certificate    *x509.Certificate
	HTTPClient     *http.Client
	Logger         *slog.Logger
}

// SAMLService is a SAML service provider (crewjam's samlsp, as many real
// services use) that shows the attributes it received.
type SAMLService struct {
	cfg  SAMLConfig
	mu   sync.Mutex
	sp   *samlsp.Middleware
	base *url.URL
}

// NewSAMLService builds the demo service; the broker's metadata is fetched
// on first use, because the broker is the same process.
func NewSAMLService(cfg SAMLConfig) (*SAMLService, error) {
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	// A trailing slash, so that samlsp resolves its relative endpoint paths
	// (acs, slo, metadata) below the base.
	u, err := url.Parse(cfg.BaseURL + "/")
	if err != nil {
		return nil, fmt.Errorf("demo SAML base URL: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &SAMLService{cfg: cfg, base: u}, nil
}

func (s *SAMLService) middleware(ctx context.Context) (*samlsp.Middleware, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sp != nil {
		return s.sp, nil
	}
	mdURL, err := url.Parse(s.cfg.IdPMetadataURL)
	if err != nil {
		return nil, fmt.Errorf("IdP metadata URL: %w", err)
	}
	md, err := samlsp.FetchMetadata(ctx, s.cfg.HTTPClient, *mdURL)
	if err != nil {
		return nil, fmt.Errorf("fetch the broker's IdP metadata: %w", err)
	}
	sp, err := samlsp.New(samlsp.Options{
		EntityID: s.cfg.BaseURL, URL: *s.base, Key: s.cfg.Key, Certificate: s.cfg.Certificate,
		IDPMetadata: md, HTTPClient: s.cfg.HTTPClient, KeyAttributesByName: true,
		MetadataPath: "metadata", AcsPath: "acs", SloPath: "slo", DefaultRedirectURI: s.base.Path,
		CookieName: "mpassid_demo_saml",
	})
	if err != nil {
		return nil, fmt.Errorf("demo SAML service: %w", err)
	}
	s.sp = sp
	return sp, nil
}

// Routes mounts the demo service under prefix.
func (s *SAMLService) Routes(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("GET "+prefix+"/{$}", s.home)
	mux.HandleFunc("GET "+prefix+"/login", s.withSP(func(sp *samlsp.Middleware, w http.ResponseWriter, r *http.Request) {
		sp.RequireAccount(http.RedirectHandler(s.base.Path, http.StatusSeeOther)).ServeHTTP(w, r)
	}))
	mux.HandleFunc("POST "+prefix+"/acs", s.withSP(func(sp *samlsp.Middleware, w http.ResponseWriter, r *http.Request) { sp.ServeACS(w, r) }))
	mux.HandleFunc("GET "+prefix+"/metadata", s.withSP(func(sp *samlsp.Middleware, w http.ResponseWriter, r *http.Request) { sp.ServeMetadata(w, r) }))
	mux.HandleFunc(prefix+"/slo", s.withSP(func(sp *samlsp.Middleware, w http.ResponseWriter, r *http.Request) { sp.ServeSLO(w, r) }))
	mux.HandleFunc("POST "+prefix+"/logout", s.withSP(func(sp *samlsp.Middleware, w http.ResponseWriter, r *http.Request) { sp.HandleStartLogout(w, r) }))
}

func (s *SAMLService) withSP(h func(*samlsp.Middleware, http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sp, err := s.middleware(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(sp, w, r)
	}
}

// samlRow is one released attribute.
type samlRow struct {
	Name         string
	FriendlyName string
	Values       []string
}

func (s *SAMLService) home(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"Title": "Demo SAML service", "Protocol": "SAML 2.0", "Base": s.cfg.BaseURL}
	if sp, err := s.middleware(r.Context()); err == nil {
		if sess, err := sp.Session.GetSession(r); err == nil {
			if withAttrs, ok := sess.(samlsp.SessionWithAttributes); ok {
				var rows []samlRow
				for name, vals := range withAttrs.GetAttributes() {
					rows = append(rows, samlRow{Name: name, Values: vals})
				}
				sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
				if len(rows) == 0 {
					rows = []samlRow{{Name: "(no attributes)"}}
				}
				data["Attributes"] = rows
			}
		}
	}
	render(w, r, s.cfg.Logger, data)
}

func (s *SAMLService) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.Warn("demo SAML service", slog.Any("error", err))
	w.WriteHeader(http.StatusBadGateway)
	render(w, r, s.cfg.Logger, map[string]any{"Title": "Demo SAML service", "Protocol": "SAML 2.0", "Base": s.cfg.BaseURL, "Error": err.Error()})
}
