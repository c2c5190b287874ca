package saml

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/web"
)

// statusSuccess is the SAML status of a successful login. Any other status
// (NoPassive, AuthnFailed, RequestDenied, ...) means the IdP did not log the
// user in: connector.ErrCancelled.
const statusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"

// Connector is one SAML upstream source: the broker as SP towards one IdP.
// It is safe for concurrent use; the IdP metadata it verifies against is
// whatever its MetadataSource holds at the time.
type Connector struct {
	cfg          Config
	acs          url.URL
	acsURL       string // acs as a string: the Destination and Recipient required
	nameIDFormat string
	requireEnc   bool
	aliases      bool
	signRequests bool // sign AuthnRequests even if the IdP does not ask
	sigMethod    string
	signer       crypto.Signer // Config.Signer, else Config.SigningKey
	maxResponse  int
	log          *slog.Logger
	now          func() time.Time
	// decryptionKeys decrypt encrypted assertions, in this order:
	// EncryptionKey (else the RSA SigningKey), then DecryptionKeys.
	decryptionKeys []*rsa.PrivateKey
}

var _ connector.Connector = (*Connector)(nil)

// New returns a Connector for cfg.
func New(cfg Config) (*Connector, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d, _ := defaultsFor(cfg.Preset)
	acs, _ := url.Parse(cfg.ACSURL)
	c := &Connector{
		cfg:          cfg,
		acs:          *acs,
		acsURL:       acs.String(),
		nameIDFormat: d.nameIDFormat,
		requireEnc:   d.requireEncryption || cfg.RequireEncryptedAssertions,
		aliases:      d.aliases,
		signRequests: d.signRequests,
		maxResponse:  cfg.MaxResponseSize,
		log:          cfg.Logger,
		now:          cfg.Now,
	}
	if cfg.NameIDFormat != "" {
		c.nameIDFormat = cfg.NameIDFormat
	}
	if cfg.SignAuthnRequests != nil {
		c.signRequests = *cfg.SignAuthnRequests
	}
	c.signer = cfg.SigningKey
	if cfg.Signer != nil {
		c.signer = cfg.Signer
	}
	switch cfg.SigningKey.Public().(type) {
	case *rsa.PublicKey:
		c.sigMethod = dsig.RSASHA256SignatureMethod
	case *ecdsa.PublicKey:
		c.sigMethod = dsig.ECDSASHA256SignatureMethod
	default:
		return nil, fmt.Errorf("saml: unsupported signing key type %T", cfg.SigningKey.Public())
	}
	if cfg.EncryptionKey != nil {
		c.decryptionKeys = append(c.decryptionKeys, cfg.EncryptionKey)
	} else if k, ok := cfg.SigningKey.(*rsa.PrivateKey); ok {
		c.decryptionKeys = append(c.decryptionKeys, k)
	}
	for _, k := range cfg.DecryptionKeys {
		if k != nil {
			c.decryptionKeys = append(c.decryptionKeys, k)
		}
	}
	if c.maxResponse <= 0 {
		c.maxResponse = DefaultMaxResponseSize
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// serviceProvider returns the crewjam ServiceProvider whose Metadata is
// the SP metadata of this source at now (crewjam's metadata types are kept
// for that; responses and AuthnRequests are this package's own).
func (c *Connector) serviceProvider(now time.Time) *crewjam.ServiceProvider {
	format := crewjam.UnspecifiedNameIDFormat
	if c.nameIDFormat != "" {
		format = crewjam.NameIDFormat(c.nameIDFormat)
	}
	return &crewjam.ServiceProvider{
		EntityID:                         c.cfg.EntityID,
		Key:                              c.cfg.SigningKey,
		Certificate:                      c.cfg.SigningCert,
		EncryptionCertificate:            c.cfg.EncryptionCert,
		AcsURL:                           c.acs,
		AuthnNameIDFormat:                format,
		SignatureMethod:                  c.sigMethod,
		AssertionConsumerServiceBindings: []string{crewjam.HTTPPostBinding},
		MetadataOmitValidUntil:           true,
		Clock:                            dsig.NewFakeClockAt(now),
	}
}

// metadata returns the current IdP metadata, checking it is the configured
// entity.
func (c *Connector) metadata() (*idpMetadata, error) {
	m, err := c.cfg.Metadata.get()
	if err != nil {
		return nil, err
	}
	if c.cfg.IdPEntityID != "" && m.info.EntityID != c.cfg.IdPEntityID {
		return nil, fmt.Errorf("saml: metadata is for %q, not the configured IdP %q", m.info.EntityID, c.cfg.IdPEntityID)
	}
	if vu := m.info.ValidUntil; !c.cfg.AllowExpiredMetadata && !vu.IsZero() && !c.now().Before(vu) {
		return nil, fmt.Errorf("%w: metadata of %q expired at %s", ErrInvalidMetadata, m.info.EntityID, vu.UTC().Format(time.RFC3339))
	}
	return m, nil
}

// signsRequests says whether AuthnRequests to the IdP of m are signed: as
// configured (Config.SignAuthnRequests, else the preset), and always when
// the IdP's metadata wants them signed. m nil: as configured.
func (c *Connector) signsRequests(m *idpMetadata) bool {
	return c.signRequests || (m != nil && m.info.WantAuthnRequestsSigned)
}

// SPMetadata returns the broker's SP metadata for this source: entityID,
// the HTTP-POST ACS, the signing and encryption certificates,
// WantAssertionsSigned true, AuthnRequestsSigned as Start signs them (for
// the IdP's current metadata, if there is one), and the NameID format.
// It carries no validUntil (cacheDuration instead), so that an IdP that
// stores it does not see it expire.
func (c *Connector) SPMetadata() ([]byte, error) {
	ed := c.serviceProvider(c.now()).Metadata()
	m, _ := c.metadata()
	signed := c.signsRequests(m)
	for i := range ed.SPSSODescriptors {
		ed.SPSSODescriptors[i].AuthnRequestsSigned = &signed
	}
	b, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("saml: marshal SP metadata: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}

// Capabilities: SAML has ForceAuthn and IsPassive.
func (c *Connector) Capabilities() connector.Capabilities {
	return connector.Capabilities{ForceAuthn: true, Passive: true}
}

// state is what Start hands the broker to keep with the transaction.
type state struct {
	V         int       `json:"v"`
	RequestID string    `json:"rid"`
	IssuedAt  time.Time `json:"iat"`
	IdP       string    `json:"idp"`
}

// Start sends the user to the IdP with an AuthnRequest: HTTP-Redirect
// binding (signature over the query) when the IdP offers it, else HTTP-POST
// (enveloped signature). It is signed when signsRequests says so, else it
// carries no signature. RelayState is the transaction id.
// LoginRequest.Language is not sent: SAML has no standard parameter for it.
func (c *Connector) Start(ctx context.Context, req connector.LoginRequest) (*connector.Started, error) {
	if req.TransactionID == "" || len(req.TransactionID) > maxRelayState {
		return nil, errors.New("saml: transaction id missing or too long for RelayState")
	}
	if req.CallbackURL != "" && req.CallbackURL != c.cfg.ACSURL {
		return nil, fmt.Errorf("saml: callback URL %q is not the configured ACS URL %q", req.CallbackURL, c.cfg.ACSURL)
	}
	m, err := c.metadata()
	if err != nil {
		return nil, err
	}
	sign := c.signsRequests(m)
	binding, loc := BindingRedirect, m.info.SSORedirectURL
	if loc == "" {
		binding, loc = BindingPOST, m.info.SSOPostURL
	}
	id, err := newRequestID()
	if err != nil {
		return nil, err
	}
	ar := &authnRequest{id: id, issueInstant: c.now(), destination: loc, forceAuthn: req.ForceAuthn, isPassive: req.Passive}
	st := encodeState(state{V: stateVersion, RequestID: ar.id, IssuedAt: ar.issueInstant, IdP: m.info.EntityID})
	started := &connector.Started{State: st}
	if binding == BindingRedirect {
		u, err := c.redirectURL(ar, req.TransactionID, sign)
		if err != nil {
			return nil, err
		}
		started.Redirect = connector.Redirect{URL: u}
	} else {
		v, err := c.postForm(ar, sign)
		if err != nil {
			return nil, err
		}
		started.Redirect = connector.Redirect{URL: loc, Form: url.Values{
			"SAMLRequest": {v},
			"RelayState":  {req.TransactionID},
		}}
	}
	c.log.DebugContext(ctx, "saml authn request", "idp", m.info.EntityID, "binding", binding,
		"requestID", ar.id, "signed", sign, "forceAuthn", req.ForceAuthn, "passive", req.Passive)
	return started, nil
}

// parseForm parses r's POST form with the body limited to what a
// SAMLResponse of the allowed size needs.
func (c *Connector) parseForm(r *http.Request) error {
	if r.Method != http.MethodPost {
		return fmt.Errorf("%w: the ACS takes HTTP-POST only, got %s", connector.ErrInvalidResponse, r.Method)
	}
	if r.PostForm == nil && r.Body != nil {
		// Form encoding can triple base64 ('+', '/' and '=' become %XX).
		r.Body = http.MaxBytesReader(nil, r.Body, 3*int64(c.maxResponse+maxRelayState)+4096)
	}
	if err := web.ParseForm(r); err != nil {
		return fmt.Errorf("%w: form: %v", connector.ErrInvalidResponse, err)
	}
	return nil
}

// TransactionID returns the RelayState of the POSTed response.
func (c *Connector) TransactionID(r *http.Request) (string, error) {
	if err := c.parseForm(r); err != nil {
		return "", fmt.Errorf("saml: %w: %w", connector.ErrNoTransaction, err)
	}
	rs := r.PostForm.Get("RelayState")
	if rs == "" {
		return "", fmt.Errorf("saml: %w: no RelayState (IdP-initiated login is not supported)", connector.ErrNoTransaction)
	}
	if len(rs) > maxRelayState {
		return "", fmt.Errorf("saml: %w: RelayState too long", connector.ErrNoTransaction)
	}
	return rs, nil
}

// Callback verifies the SAMLResponse POSTed to the ACS against the state of
// Start and returns the identity in its assertion.
func (c *Connector) Callback(ctx context.Context, r *http.Request, req connector.LoginRequest, stateBytes []byte) (*connector.Identity, error) {
	st, err := decodeState(stateBytes)
	if err != nil {
		return nil, fmt.Errorf("saml: invalid connector state: %w", err)
	}
	if err := c.parseForm(r); err != nil {
		return nil, fmt.Errorf("saml: %w", err)
	}
	if req.TransactionID != "" && r.PostForm.Get("RelayState") != req.TransactionID {
		return nil, fmt.Errorf("saml: %w: RelayState does not match the transaction", connector.ErrInvalidResponse)
	}
	m, err := c.metadata()
	if err != nil {
		return nil, err
	}
	if st.IdP != m.info.EntityID {
		return nil, fmt.Errorf("saml: %w: the login was started with IdP %q, the metadata is now %q", connector.ErrInvalidResponse, st.IdP, m.info.EntityID)
	}
	id, err := c.verify(ctx, r.PostForm.Get("SAMLResponse"), st.RequestID, m)
	if err != nil {
		// A user who cancelled at the IdP, or a browser gone before the
		// check finished (the request's end cut the replay mark short), is
		// routine; a forged answer stays a warning even if its sender has
		// gone.
		level := slog.LevelWarn
		if errors.Is(err, connector.ErrCancelled) || connector.ClientGone(ctx, err) {
			level = slog.LevelInfo
		}
		c.log.Log(ctx, level, "saml response rejected", "idp", m.info.EntityID, "requestID", st.RequestID, "error", err)
		return nil, err
	}
	c.log.DebugContext(ctx, "saml login verified", "idp", m.info.EntityID, "requestID", st.RequestID, "attributes", len(id.Attributes))
	return id, nil
}
