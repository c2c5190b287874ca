package registry

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/model"
)

// Client defaults, chosen for the national tree (about 15-20 MB of JSON
// uncompressed) fetched once a day.
const (
	DefaultTimeout     = 2 * time.Minute
	DefaultMaxBodySize = 256 << 20 // decompressed bytes
	DefaultMaxAttempts = 4
	DefaultBaseBackoff = 2 * time.Second
	DefaultMaxBackoff  = 1 * time.Minute
)

// FetchQuery is the hierarkia/hae query of FetchAll: the whole country, with
// active, planned and closed organisations. Closed ones are needed: without
// them a school that closes would silently vanish from the answer (and be
// deleted, or block the sync as a mass removal) instead of staying in the
// registry as PASSIIVINEN, where a login naming it is refused with a clear
// reason and the management service still shows its history.
const FetchQuery = "aktiiviset=true&suunnitellut=true&lakkautetut=true"

var (
	// ErrNotFound: the registry has no organisation with that OID.
	ErrNotFound = errors.New("organisation not found in the registry")
	// ErrTooLarge: an answer exceeded the configured size limit.
	ErrTooLarge = errors.New("registry answer too large")
)

// StatusError is an unexpected HTTP status from the registry.
type StatusError struct {
	Code int
	Body string // the start of the body, for the log
}

func (e *StatusError) Error() string {
	s := "registry answered HTTP " + strconv.Itoa(e.Code)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *StatusError) Is(target error) bool {
	return target == ErrNotFound && e.Code == http.StatusNotFound
}

// readError marks a failure to read the body from the network (as opposed
// to a body that arrived whole but is not valid): the first is retried.
type readError struct{ err error }

func (e *readError) Error() string { return "reading the answer: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// Client talks to Organisaatiopalvelu. It is safe for concurrent use.
type Client struct {
	base        *url.URL
	callerID    string
	hc          *http.Client
	timeout     time.Duration
	maxBody     int64
	maxAttempts int
	baseBackoff time.Duration
	maxBackoff  time.Duration
	loc         *time.Location
	log         *slog.Logger
	sleep       func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client)

// WithTimeout bounds each HTTP attempt, body included (default
// DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithMaxBodySize caps an answer in bytes, after decompression (default
// DefaultMaxBodySize); a larger answer fails with ErrTooLarge.
func WithMaxBodySize(n int64) Option { return func(c *Client) { c.maxBody = n } }

// WithRetries sets the number of attempts (1 = no retries) and the backoff:
// the wait before retry n is about base*2^(n-1), capped at max, with jitter
// (a random half of it), so that a cluster does not retry in lockstep.
// Network errors, timeouts, 5xx and 429 are retried; other 4xx and invalid
// answers are not.
func WithRetries(attempts int, base, max time.Duration) Option {
	return func(c *Client) { c.maxAttempts, c.baseBackoff, c.maxBackoff = attempts, base, max }
}

// WithLocation sets the zone of dates the registry sends as "YYYY-MM-DD"
// (default Europe/Helsinki when the system knows it, else UTC).
func WithLocation(loc *time.Location) Option { return func(c *Client) { c.loc = loc } }

// WithLogger sets the logger for retries (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// NewClient returns a client for the registry at baseURL (e.g.
// "https://virkailija.opintopolku.fi/organisaatio-service/api/"). callerID
// is sent as the Caller-Id header the registry requires. A nil httpClient
// means a default one; its Timeout should be zero or larger than the
// per-request timeout. Responses are decompressed by the client itself, so
// the size limit applies to what is actually parsed.
func NewClient(baseURL, callerID string, httpClient *http.Client, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("registry base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("registry base URL %q: want http or https", baseURL)
	}
	if callerID == "" {
		return nil, errors.New("registry client: a Caller-Id is required")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	c := &Client{
		base:        u,
		callerID:    callerID,
		hc:          httpClient,
		timeout:     DefaultTimeout,
		maxBody:     DefaultMaxBodySize,
		maxAttempts: DefaultMaxAttempts,
		baseBackoff: DefaultBaseBackoff,
		maxBackoff:  DefaultMaxBackoff,
		sleep:       sleepCtx,
	}
	for _, o := range opts {
		o(c)
	}
	if c.loc == nil {
		if loc, err := time.LoadLocation("Europe/Helsinki"); err == nil {
			c.loc = loc
		} else {
			c.loc = time.UTC
		}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.maxAttempts < 1 {
		c.maxAttempts = 1
	}
	return c, nil
}

// FetchAll fetches the whole national tree (see FetchQuery) and returns it
// as a flat list, parents before children.
func (c *Client) FetchAll(ctx context.Context) ([]model.Organisation, error) {
	var orgs []model.Organisation
	err := c.do(ctx, "hierarkia/hae?"+FetchQuery, func(r io.Reader) error {
		var err error
		orgs, _, err = parseHierarchy(r, c.loc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fetch the organisation registry: %w", err)
	}
	return orgs, nil
}

// Get fetches one organisation by OID.
func (c *Client) Get(ctx context.Context, oid string) (*model.Organisation, error) {
	if !validOID(oid) {
		return nil, fmt.Errorf("registry get %q: not an OID", oid)
	}
	var org *model.Organisation
	err := c.do(ctx, url.PathEscape(oid), func(r io.Reader) error {
		var err error
		org, err = ParseOrganisation(r, c.loc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry get %s: %w", oid, err)
	}
	return org, nil
}

// validOID accepts dotted digit strings like 1.2.246.562.10.00000000001.
func validOID(s string) bool {
	if len(s) < 3 || len(s) > 128 || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if s[i-1] == '.' {
				return false
			}
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	return strings.Contains(s, ".")
}

// do runs GET ref with retries, handing each successful body to parse.
func (c *Client) do(ctx context.Context, ref string, parse func(io.Reader) error) error {
	u, err := c.base.Parse(ref)
	if err != nil {
		return err
	}
	var last error
	for attempt := 1; ; attempt++ {
		retryAfter, err := c.attempt(ctx, u.String(), parse)
		if err == nil {
			return nil
		}
		last = err
		if ctx.Err() != nil {
			return fmt.Errorf("attempt %d: %w", attempt, errors.Join(err, context.Cause(ctx)))
		}
		if !retryable(err) || attempt >= c.maxAttempts {
			return fmt.Errorf("attempt %d of %d: %w", attempt, c.maxAttempts, last)
		}
		wait := c.backoff(attempt)
		if retryAfter > 0 {
			wait = min(max(wait, retryAfter), c.maxBackoff)
		}
		c.log.WarnContext(ctx, "registry request failed, retrying",
			slog.String("url", u.Redacted()), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("attempt %d: %w (waiting to retry: %w)", attempt, last, err)
		}
	}
}

// backoff is the wait after attempt n: base*2^(n-1) capped at max, of
// which a random half is dropped ("equal jitter").
func (c *Client) backoff(n int) time.Duration {
	d := c.baseBackoff
	for i := 1; i < n && d < c.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.maxBackoff)
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests
	}
	if errors.Is(err, ErrInvalidAnswer) || errors.Is(err, ErrTooLarge) {
		return false
	}
	// Network errors, per-attempt timeouts, a connection cut mid-body.
	return true
}

// attempt makes one request under the per-request timeout and parses the
// body within it. It returns the server's Retry-After, if any.
func (c *Client) attempt(ctx context.Context, u string, parse func(io.Reader) error) (time.Duration, error) {
	actx, cancel := context.WithTimeoutCause(ctx, c.timeout,
		fmt.Errorf("registry request timed out after %v", c.timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Caller-Id", c.callerID)
	req.Header.Set("Accept", "application/json")
	// Asking explicitly turns off the transport's transparent
	// decompression, so the size cap below sees the real body.
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.hc.Do(req)
	if err != nil {
		if cause := context.Cause(actx); cause != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return parseRetryAfter(resp.Header.Get("Retry-After")),
			&StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	var body io.Reader = &capReader{r: resp.Body, left: c.maxBody, ctx: actx}
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(bufio.NewReaderSize(body, 32<<10))
		if err != nil {
			var re *readError
			if errors.As(err, &re) || errors.Is(err, ErrTooLarge) {
				return 0, err
			}
			return 0, fmt.Errorf("%w: gzip: %w", ErrInvalidAnswer, err)
		}
		defer zr.Close()
		body = &capReader{r: &gzipErrs{zr}, left: c.maxBody, ctx: actx}
	default:
		return 0, fmt.Errorf("%w: unsupported Content-Encoding %q", ErrInvalidAnswer, enc)
	}
	if err := parse(body); err != nil {
		if cause := context.Cause(actx); cause != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		return 0, err
	}
	return 0, nil
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// capReader fails with ErrTooLarge once more than left bytes pass, and
// marks read failures as readError (network trouble, retried) unless they
// are io.EOF.
type capReader struct {
	r    io.Reader
	left int64
	ctx  context.Context
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return 0, fmt.Errorf("%w: more than the limit", ErrTooLarge)
	}
	if err != nil && err != io.EOF {
		var re *readError
		if !errors.As(err, &re) && !errors.Is(err, ErrInvalidAnswer) && !errors.Is(err, ErrTooLarge) {
			err = &readError{err}
		}
	}
	return n, err
}

// gzipErrs marks errors of the gzip stream itself as an invalid answer,
// while letting the underlying reader's errors through as they are.
type gzipErrs struct{ zr *gzip.Reader }

func (g *gzipErrs) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		var re *readError
		if !errors.As(err, &re) && !errors.Is(err, ErrTooLarge) {
			err = fmt.Errorf("%w: gzip: %w", ErrInvalidAnswer, err)
		}
	}
	return n, err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
