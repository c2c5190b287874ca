package loadtest

import (
	"bytes"
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
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mpassid/mpassid/internal/inlinehttp"
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
	// answered holds how long each broker request took, from sending it
	// to the end of its answer's body: what a pupil waits for each page.
	// One virtual user's requests run one at a time, so no lock.
	answered []answer
}

// answer is one broker request's latency and its endpoint.
type answer struct {
	endpoint string
	took     time.Duration
}

// endpoint names a request's path for the report: the method and the
// path with its numeric segments (integration ids) as {id}, so that every
// source's callback is one endpoint.
func endpoint(method, path string) string {
	if !strings.ContainsAny(path, "0123456789") {
		return method + " " + path
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s != "" && strings.Trim(s, "0123456789") == "" {
			segs[i] = "{id}"
		}
	}
	return method + " " + strings.Join(segs, "/")
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
	// A shallow copy with its own URL: only the URL and Host change, so
	// the deep copy of the headers that Clone makes is not needed.
	r2 := req.WithContext(req.Context())
	u := *req.URL
	u.Scheme, u.Host = t.Scheme, t.Host
	r2.URL, r2.Host = &u, ""
	start := time.Now()
	resp, err := rt.base.RoundTrip(r2)
	if err != nil {
		return nil, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, start: start, rt: rt, endpoint: endpoint(req.Method, req.URL.Path)}
	return resp, nil
}

// CloseIdleConnections closes the connections kept for the next request
// (http.Client.CloseIdleConnections reaches it).
func (rt *router) CloseIdleConnections() {
	if c, ok := rt.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// timedBody records its request's latency in its router when the body is
// read to its end or closed, whichever comes first; a body that fails to
// read (a reset connection, the end of the run) records nothing.
type timedBody struct {
	io.ReadCloser
	start    time.Time
	rt       *router
	endpoint string
	done     bool
}

func (b *timedBody) record() {
	b.rt.answered = append(b.rt.answered, answer{b.endpoint, time.Since(b.start)})
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done {
		b.done = true
		if err == io.EOF {
			b.record()
		}
	}
	return n, err
}

func (b *timedBody) Close() error {
	if !b.done {
		b.done = true
		b.record()
	}
	return b.ReadCloser.Close()
}

var errNotBroker = errors.New("request to neither the broker nor the tool's own IdPs")

// newTransport returns a keep-alive transport whose dialer refuses
// addresses other than loopback unless allowRemote.
func newTransport(allowRemote bool, timeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:           newDialer(allowRemote).DialContext,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     false,
	}
}

// newDialer returns a dialer that refuses addresses other than loopback
// unless allowRemote.
func newDialer(allowRemote bool) *net.Dialer {
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
	return d
}

var errNotLoopback = errors.New("not a loopback address (see --allow-remote)")

// browser is one virtual user.
type browser struct {
	c      *http.Client
	rt     *router
	stopAt string       // a URL prefix where redirects stop (the RP's redirect_uri)
	body   bytes.Buffer // reused to read pages (up to 10 KB) without regrowing
}

func newBrowser(r *runner, vu int) *browser {
	// A virtual user sends one request at a time: one kept connection an
	// address, written and read on its own goroutine (inlinehttp), which
	// saves the tool a sixth of its CPU in a login (docs/performance.md);
	// in a run every connection is used again within milliseconds, so a
	// kept one is checked for the server having closed it only after a
	// second.
	base := &inlinehttp.Transport{Dial: newDialer(r.opts.AllowRemote).DialContext, Timeout: r.opts.RequestTimeout, CheckAfter: time.Second}
	rt := &router{targets: r.targets, broker: r.brokerOrigins, local: r.localIdPs, base: base}
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
	b.body.Reset()
	if _, err := b.body.ReadFrom(io.LimitReader(resp.Body, maxBody)); err != nil {
		return nil, transportError(step, err)
	}
	return &page{status: resp.StatusCode, location: resp.Header.Get("Location"), url: resp.Request.URL, body: b.body.String()}, nil
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

// Form scraping. The broker's pages are its own templates, and the
// SAMLResponse in them is tens of kilobytes: a plain scan for tags and
// attributes is enough and much cheaper than regular expressions or an
// HTML parser (the tool shares the machine with the server it measures).

// form is a POST form of a page.
type form struct {
	action string
	fields url.Values
	body   string
}

// nextTag finds the next start tag <name ...> in s from i, returning its
// attribute text and the index after it, or -1.
func nextTag(s, name string, i int) (string, int) {
	for {
		j := strings.Index(s[i:], "<"+name)
		if j < 0 {
			return "", -1
		}
		j += i + 1 + len(name)
		if j < len(s) && (s[j] == ' ' || s[j] == '\n' || s[j] == '\t' || s[j] == '>' || s[j] == '/') {
			k := strings.IndexByte(s[j:], '>')
			if k < 0 {
				return "", -1
			}
			return s[j : j+k], j + k + 1
		}
		i = j
	}
}

// attrValue returns the (unescaped) value of a double-quoted attribute.
func attrValue(tag, name string) (string, bool) {
	key := name + `="`
	for i := 0; ; {
		j := strings.Index(tag[i:], key)
		if j < 0 {
			return "", false
		}
		j += i
		if j == 0 || tag[j-1] == ' ' || tag[j-1] == '\n' || tag[j-1] == '\t' {
			v := tag[j+len(key):]
			k := strings.IndexByte(v, '"')
			if k < 0 {
				return "", false
			}
			v = v[:k]
			if strings.IndexByte(v, '&') >= 0 {
				v = html.UnescapeString(v)
			}
			return v, true
		}
		i = j + len(key)
	}
}

// postForm returns the page's first POST form with its hidden fields, its
// action resolved against the page's URL.
func postForm(p *page) (*form, bool) {
	s := p.body
	for i := 0; ; {
		tag, next := nextTag(s, "form", i)
		if next < 0 {
			return nil, false
		}
		end := strings.Index(s[next:], "</form>")
		if end < 0 {
			return nil, false
		}
		body := s[next : next+end]
		i = next + end
		if m, _ := attrValue(tag, "method"); !strings.EqualFold(m, "post") {
			continue
		}
		f := &form{fields: url.Values{}, body: body}
		action, _ := attrValue(tag, "action")
		if u, err := p.url.Parse(action); err == nil {
			f.action = u.String()
		}
		for j := 0; ; {
			in, nj := nextTag(body, "input", j)
			if nj < 0 {
				break
			}
			j = nj
			if t, _ := attrValue(in, "type"); t != "hidden" {
				continue
			}
			if n, ok := attrValue(in, "name"); ok {
				v, _ := attrValue(in, "value")
				f.fields.Add(n, v)
			}
		}
		return f, true
	}
}

// testUserValue returns the radio value of the test source's user (the
// first one when username is "").
func testUserValue(body, username string) (string, bool) {
	for j := 0; ; {
		in, nj := nextTag(body, "input", j)
		if nj < 0 {
			return "", false
		}
		j = nj
		if n, _ := attrValue(in, "name"); n != "user" {
			continue
		}
		if v, ok := attrValue(in, "value"); ok && (username == "" || strings.HasPrefix(v, username+".")) {
			return v, true
		}
	}
}

// sourceChoice returns the first button of the selection form that picks
// the source id: its value is the id, or the id and a school ("4000001.99001").
func sourceChoice(body, id string) (string, bool) {
	for j := 0; ; {
		b, nj := nextTag(body, "button", j)
		if nj < 0 {
			return "", false
		}
		j = nj
		if n, _ := attrValue(b, "name"); n != "source" {
			continue
		}
		if v, _ := attrValue(b, "value"); v == id || strings.HasPrefix(v, id+".") {
			return v, true
		}
	}
}
