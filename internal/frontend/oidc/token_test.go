package oidc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A token request whose client went away before the code was redeemed is
// routine, not an error in the log, and the code is still unused.
func TestTokenRequestEndedByClient(t *testing.T) {
	e := newEnv(t)
	code := e.code(authReq(clientBasic))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodPost, PathToken, strings.NewReader(form.Encode())).WithContext(ctx)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientBasic, testSecret)
	e.srv.Config.Handler.ServeHTTP(httptest.NewRecorder(), req)
	logs := e.logText()
	if !strings.Contains(logs, `level=INFO msg="record code use"`) || !strings.Contains(logs, "client_gone=true") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("a client gone away logged as:\n%s", logs)
	}
	if st, body := e.exchange(clientBasic, code); st != http.StatusOK {
		t.Errorf("the code after the abandoned request: %d %v", st, body)
	}
}
