package loadtest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// maxBody caps what the tool reads of one answer.
const maxBody = 1 << 20

// router sends a virtual user's requests where they belong: requests for
// the broker (any target's origin or the public URL's) to the next target
// in turn, requests for the tool's own upstream IdPs straight to their
// handlers (the tool need not pay for TLS and loopback to talk to itself;
// the broker's own calls to them still go over the network), and the rest
// nowhere.
type router struct {
	targets []*url.URL
	broker  map[string]bool // scheme://host of the broker
	local   map[string]http.Handler
	next    atomic.Uint64
	base    http.RoundTripper
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// RoundTrip implements http.RoundTripper.
func (rt *router) RoundTrip(req *http.Request) (*http.Response, error) {
	o := origin(req.URL)
	if h, ok := rt.local[o]; ok {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := rec.Result()
		resp.Request = req
		return resp, nil
	}
	if !rt.broker[o] {
		return nil, fmt.Errorf("%w: %s", errNotBroker, o)
	}
	t := rt.targets[(rt.next.Add(1)-1)%uint64(len(rt.targets))]
	r2 := req.Clone(req.Context())
	r2.URL.Scheme, r2.URL.Host, r2.Host = t.Scheme, t.Host, ""
	return rt.base.RoundTrip(r2)
}

var errNotBroker = errors.New("request to neither the broker nor the tool's own IdPs")

// newTransport returns a keep-alive transport whose dialer refuses
// addresses other than loopback unless allowRemote.
func newTransport(allowRemote bool, timeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowRemote {
		d.ControlContext = func(_ context.Context, _, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, err)
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("dial %s: %w", address, errNotLoopback)
			}
			return nil
		}
	}
	return &http.Transport{
		DialContext:           d.DialContext,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     false,
	}
}

var errNotLoopback = errors.New("not a loopback address (see --allow-remote)")

// browser is one virtual user.
type browser struct {
	c      *http.Client
	rt     *router
	stopAt string // a URL prefix where redirects stop (the RP's redirect_uri)
}

func newBrowser(r *runner, vu int) *browser {
	rt := &router{targets: r.targets, broker: r.brokerOrigins, local: r.localIdPs, base: newTransport(r.opts.AllowRemote, r.opts.RequestTimeout)}
	rt.next.Store(uint64(vu))
	b := &browser{rt: rt, stopAt: r.redirectURI}
	jar, _ := cookiejar.New(nil) // never fails without options
	b.c = &http.Client{Transport: rt, Jar: jar, Timeout: r.opts.RequestTimeout, CheckRedirect: b.checkRedirect}
	return b
}

// reset starts a fresh browser session: no cookies.
func (b *browser) reset() {
	jar, _ := cookiejar.New(nil)
	b.c.Jar = jar
}

func (b *browser) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errTooManyRedirects
	}
	if b.stopAt != "" && strings.HasPrefix(req.URL.String(), b.stopAt) {
		return http.ErrUseLastResponse
	}
	return nil
}

var errTooManyRedirects = errors.New("more than 10 redirects")

// page is an answer the browser read.
type page struct {
	status   int
	location string
	url      *url.URL // where the answer came from
	body     string
}

func (b *browser) do(req *http.Request, step string) (*page, error) {
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, transportError(step, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, transportError(step, err)
	}
	return &page{status: resp.StatusCode, location: resp.Header.Get("Location"), url: resp.Request.URL, body: string(body)}, nil
}

func (b *browser) get(ctx context.Context, u, step string) (*page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, newError(step, "bad URL", err)
	}
	return b.do(req, step)
}

func (b *browser) post(ctx context.Context, u string, form url.Values, step string) (*page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, newError(step, "bad URL", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req, step)
}

// Form scraping. The broker's pages are its own templates: a regular
// expression per construct is enough and far cheaper than an HTML parser.
var (
	formRE   = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	attrRE   = regexp.MustCompile(`\b(method|action)="([^"]*)"`)
	hiddenRE = regexp.MustCompile(`<input\b[^>]*\btype="hidden"[^>]*>`)
	nameRE   = regexp.MustCompile(`\bname="([^"]*)"`)
	valueRE  = regexp.MustCompile(`\bvalue="([^"]*)"`)
	userRE   = regexp.MustCompile(`<input\b[^>]*\bname="user"[^>]*\bvalue="([^"]*)"`)
	sourceRE = regexp.MustCompile(`<button\b[^>]*\bname="source"[^>]*\bvalue="([0-9]+)"`)
)

// form is a POST form of a page.
type form struct {
	action string
	fields url.Values
	body   string
}

// postForm returns the page's first POST form with its hidden fields, its
// action resolved against the page's URL.
func postForm(p *page) (*form, bool) {
	for _, m := range formRE.FindAllStringSubmatch(p.body, -1) {
		var method, action string
		for _, a := range attrRE.FindAllStringSubmatch(m[1], -1) {
			if a[1] == "method" {
				method = strings.ToLower(a[2])
			} else {
				action = html.UnescapeString(a[2])
			}
		}
		if method != "post" {
			continue
		}
		f := &form{fields: url.Values{}, body: m[2]}
		if u, err := p.url.Parse(action); err == nil {
			f.action = u.String()
		}
		for _, in := range hiddenRE.FindAllString(m[2], -1) {
			n, v := nameRE.FindStringSubmatch(in), valueRE.FindStringSubmatch(in)
			if n == nil {
				continue
			}
			val := ""
			if v != nil {
				val = html.UnescapeString(v[1])
			}
			f.fields.Add(html.UnescapeString(n[1]), val)
		}
		return f, true
	}
	return nil, false
}

// testUserValue returns the radio value of the test source's user (the
// first one when username is "").
func testUserValue(body, username string) (string, bool) {
	for _, m := range userRE.FindAllStringSubmatch(body, -1) {
		v := html.UnescapeString(m[1])
		if username == "" || strings.HasPrefix(v, username+".") {
			return v, true
		}
	}
	return "", false
}

// hasSource reports whether the selection form offers the source id.
func hasSource(body, id string) bool {
	for _, m := range sourceRE.FindAllStringSubmatch(body, -1) {
		if m[1] == id {
			return true
		}
	}
	return false
}
