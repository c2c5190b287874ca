package app

import (
	"net"
	"net/http"
	"time"

	"github.com/mpassid/mpassid/internal/inlinehttp"
)

// upstreamTimeout bounds one call of the broker to another server: an
// upstream OpenID provider's token, userinfo or keys endpoint, a service's
// keys or back-channel logout endpoint.
const upstreamTimeout = 10 * time.Second

// Connections the broker keeps open to the servers it calls, for reuse.
// At the morning peak most logins of a source go to one upstream provider
// at once; net/http's default keeps two idle connections a host, so with
// 64 logins in flight nearly every code exchange and userinfo call opened
// a connection of its own: 0.13 ms of CPU a login on plain HTTP in the
// load test, and in production a TLS handshake each.
const (
	upstreamIdlePerHost = 64
	upstreamIdle        = 512
)

// newUpstreamClient returns the HTTP client that the broker's own calls to
// other servers share. Direct calls are HTTP/1.1 on the caller's goroutine
// (inlinehttp: 0.03-0.04 ms of CPU less a call than net/http's Transport,
// two calls in each login through an upstream OpenID provider); a call
// through a proxy from the environment (HTTPS_PROXY, NO_PROXY, as
// net/http's default takes it) goes through net/http's Transport.
func newUpstreamClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: upstreamTimeout,
		Transport: &inlinehttp.Transport{
			Dial:           dialer.DialContext,
			MaxIdlePerHost: upstreamIdlePerHost,
			IdleTimeout:    90 * time.Second,
			Proxy:          http.ProxyFromEnvironment,
			Fallback: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           dialer.DialContext,
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          upstreamIdle,
				MaxIdleConnsPerHost:   upstreamIdlePerHost,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   5 * time.Second,
				ExpectContinueTimeout: time.Second,
			},
		},
	}
}
