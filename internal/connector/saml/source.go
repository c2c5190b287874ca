package saml

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// ErrNoMetadata is returned while a MetadataSource has no usable metadata
// (before the first successful fetch).
var ErrNoMetadata = errors.New("saml: no IdP metadata loaded")

// MetadataOptions configure a MetadataSource. Exactly one of Document and
// URL is set.
type MetadataOptions struct {
	// Document is an uploaded metadata document.
	Document []byte
	// URL is where the metadata is fetched from; https only (see
	// AllowLoopbackHTTP).
	URL string
	// EntityID selects the entity in a document with several; "" accepts a
	// document with exactly one. When set, it must match.
	EntityID string
	// SigningCerts, when set, are the certificates one of which must have
	// signed the metadata document; a document with no or a bad signature
	// is refused.
	SigningCerts []*x509.Certificate
	// HTTPClient fetches URL; nil uses a client with a 30 s timeout. Its
	// redirects are limited to https (as URL).
	HTTPClient *http.Client
	// MaxSize limits the document; 0 is DefaultMaxMetadataSize.
	MaxSize int
	// AllowLoopbackHTTP lets URL and the SSO endpoints in the metadata be
	// http://127.0.0.1 or http://[::1] (tests and local development only).
	AllowLoopbackHTTP bool
	// Logger and Now as in Config.
	Logger *slog.Logger
	Now    func() time.Time
}

// MetadataOptionsFor returns the MetadataOptions of an IdP integration: its
// uploaded metadata, else its metadata URL, else (type azure) the Entra
// federation metadata URL of its tenant.
func MetadataOptionsFor(p *model.IdP) (MetadataOptions, error) {
	o := MetadataOptions{EntityID: p.EntityID}
	switch {
	case p.Metadata != "":
		o.Document = []byte(p.Metadata)
	case p.MetadataURL != "":
		o.URL = p.MetadataURL
	case p.Type == model.IdPAzure && p.TenantID != "":
		u, err := EntraMetadataURL(p.TenantID)
		if err != nil {
			return o, err
		}
		o.URL = u
	default:
		return o, fmt.Errorf("saml: IdP %q has neither metadata nor a metadata URL", p.IdPID)
	}
	return o, nil
}

// RefreshStatus is the outcome of the last metadata load attempt.
type RefreshStatus struct {
	At  time.Time
	Err error // nil: the attempt succeeded (or the document was unchanged)
}

// MetadataSource holds an IdP's current metadata: an uploaded document, or
// one fetched from a URL by Refresh (and Run, on a schedule). A refresh that
// fails, or yields a document that is not valid metadata, has expired, or
// is not signed by SigningCerts when they are set, keeps the last good copy.
// It is safe for concurrent use.
type MetadataSource struct {
	opts   MetadataOptions
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	mu            sync.RWMutex
	current       *idpMetadata
	last          RefreshStatus
	etag, lastMod string
}

// NewMetadataSource returns a MetadataSource. An uploaded Document is
// parsed at once (an error if it is unusable); a URL source has no metadata
// until the first Refresh.
func NewMetadataSource(opts MetadataOptions) (*MetadataSource, error) {
	if (len(opts.Document) == 0) == (opts.URL == "") {
		return nil, errors.New("saml: MetadataOptions needs exactly one of Document and URL")
	}
	s := &MetadataSource{opts: opts, client: opts.HTTPClient, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.URL != "" {
		if err := checkEndpointURL(opts.URL, opts.AllowLoopbackHTTP); err != nil {
			return nil, fmt.Errorf("saml: metadata URL: %w", err)
		}
		if s.client == nil {
			s.client = &http.Client{Timeout: 30 * time.Second}
		}
		// Follow at most 5 redirects, and only to URLs as acceptable as
		// the configured one.
		c := *s.client
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return checkEndpointURL(req.URL.String(), opts.AllowLoopbackHTTP)
		}
		s.client = &c
		return s, nil
	}
	m, err := s.parse(opts.Document)
	if err != nil {
		return nil, err
	}
	m.info.Source = "uploaded"
	s.current = m
	s.last = RefreshStatus{At: m.info.LoadedAt}
	return s, nil
}

func (s *MetadataSource) parse(doc []byte) (*idpMetadata, error) {
	now := s.now()
	m, err := parseMetadata(doc, parseOptions{
		entityID:      s.opts.EntityID,
		signingCerts:  s.opts.SigningCerts,
		maxSize:       s.opts.MaxSize,
		now:           now,
		allowLoopback: s.opts.AllowLoopbackHTTP,
	})
	if err != nil {
		return nil, err
	}
	m.info.LoadedAt = now
	return m, nil
}

// Refresh fetches the metadata URL once and, if the document is good,
// makes it current. On any failure the previous copy stays current and the
// error is returned (and recorded for LastRefresh). For an uploaded
// document it only re-checks expiry.
func (s *MetadataSource) Refresh(ctx context.Context) error {
	if s.opts.URL == "" {
		return s.record(s.checkCurrentNotExpired())
	}
	m, notModified, err := s.fetch(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "saml metadata refresh failed; keeping the last good copy",
			"url", s.opts.URL, "entityID", s.opts.EntityID, "error", err)
		return s.record(err)
	}
	if notModified {
		return s.record(nil)
	}
	s.mu.Lock()
	s.current = m
	s.mu.Unlock()
	s.log.InfoContext(ctx, "saml metadata loaded", "url", s.opts.URL, "entityID", m.info.EntityID,
		"signingCerts", len(m.signingCerts), "validUntil", m.info.ValidUntil)
	return s.record(nil)
}

func (s *MetadataSource) record(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = RefreshStatus{At: s.now(), Err: err}
	return err
}

func (s *MetadataSource) fetch(ctx context.Context) (m *idpMetadata, notModified bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.opts.URL, nil)
	if err != nil {
		return nil, false, fmt.Errorf("saml: metadata request: %w", err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8")
	s.mu.RLock()
	if s.current != nil {
		if s.etag != "" {
			req.Header.Set("If-None-Match", s.etag)
		}
		if s.lastMod != "" {
			req.Header.Set("If-Modified-Since", s.lastMod)
		}
	}
	s.mu.RUnlock()
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("saml: fetch metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		s.mu.RLock()
		have := s.current != nil
		s.mu.RUnlock()
		if have {
			// Unchanged, but the copy we hold may have expired since.
			if err := s.checkCurrentNotExpired(); err != nil {
				return nil, false, err
			}
			return nil, true, nil
		}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("saml: fetch metadata: HTTP status %d", resp.StatusCode)
	}
	max := s.opts.MaxSize
	if max <= 0 {
		max = DefaultMaxMetadataSize
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+1))
	if err != nil {
		return nil, false, fmt.Errorf("saml: read metadata: %w", err)
	}
	m, err = s.parse(body)
	if err != nil {
		return nil, false, err
	}
	m.info.Source = s.opts.URL
	s.mu.Lock()
	s.etag, s.lastMod = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	s.mu.Unlock()
	return m, false, nil
}

func (s *MetadataSource) checkCurrentNotExpired() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if vu := s.current.info.ValidUntil; !vu.IsZero() && !s.now().Before(vu) {
		return fmt.Errorf("%w: the current copy expired (validUntil %s)", ErrInvalidMetadata, vu.UTC().Format(time.RFC3339))
	}
	return nil
}

// Run refreshes the metadata now and then every interval until ctx ends.
// Failures are logged and the last good copy kept. An uploaded document
// needs no Run.
func (s *MetadataSource) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Hour
	}
	_ = s.Refresh(ctx)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.Refresh(ctx)
		}
	}
}

// Info returns the current metadata's information, or ErrNoMetadata.
func (s *MetadataSource) Info() (MetadataInfo, error) {
	m, err := s.get()
	if err != nil {
		return MetadataInfo{}, err
	}
	info := m.info
	info.SigningCertNotAfter = append([]time.Time(nil), info.SigningCertNotAfter...)
	info.EncryptionCertNotAfter = append([]time.Time(nil), info.EncryptionCertNotAfter...)
	return info, nil
}

// LastRefresh returns the outcome of the last load attempt.
func (s *MetadataSource) LastRefresh() RefreshStatus {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.last
}

func (s *MetadataSource) get() (*idpMetadata, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.current == nil {
		return nil, ErrNoMetadata
	}
	return s.current, nil
}
