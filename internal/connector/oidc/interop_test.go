package oidc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/connector/oidc"
	"github.com/mpassid/mpassid/internal/testenv"
)

// InteropVar enables the interop test against panva/oidc-provider, which
// needs node and `npm ci` in testdata/oidc-provider (.ci/install-oidc-provider.sh).
const InteropVar = "MPASSID_TEST_INTEROP"

// startOidcProvider runs testdata/oidc-provider/server.mjs and returns its
// issuer.
func startOidcProvider(t *testing.T, clientID, secret, redirectURI string) string {
	t.Helper()
	if os.Getenv(InteropVar) == "" {
		testenv.Skip(t, "oidc-provider interop test skipped: set "+InteropVar+"=1 after .ci/install-oidc-provider.sh")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("%s is set but node is not installed: %v", InteropVar, err)
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "oidc-provider"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil {
		t.Fatalf("%s is set but oidc-provider is not installed: run .ci/install-oidc-provider.sh", InteropVar)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CLIENT_ID="+clientID, "CLIENT_SECRET="+secret, "REDIRECT_URI="+redirectURI)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("oidc-provider stderr:\n%s", stderr.String())
		}
	})
	issuer := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ready struct{ Issuer string }
			if json.Unmarshal(sc.Bytes(), &ready) == nil && ready.Issuer != "" {
				issuer <- ready.Issuer
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case iss := <-issuer:
		return iss
	case <-time.After(30 * time.Second):
		t.Fatalf("oidc-provider did not start:\n%s", stderr.String())
	}
	return ""
}

var (
	postFormRe = regexp.MustCompile(`<form[^>]*method="post"[^>]*>`)
	actionRe   = regexp.MustCompile(`action="([^"]*)"`)
	hiddenRe   = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
)

// browse follows oidc-provider's development interactions (a login form,
// a consent form, or the confirmation to end the previous session when
// another account logs in; all plain POST forms) until the browser reaches the broker's callback.
func browse(t *testing.T, h *harness, start, login string) result {
	t.Helper()
	resp, err := h.client.Get(start)
	for step := 0; ; step++ {
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.HasPrefix(resp.Request.URL.String(), h.callback) {
			return <-h.results
		}
		var m [][]byte
		if f := postFormRe.Find(body); f != nil {
			m = actionRe.FindSubmatch(f)
		}
		if m == nil || step > 6 {
			t.Fatalf("step %d at %s (%s): no form to submit:\n%s", step, resp.Request.URL, resp.Status, body)
		}
		action, err := resp.Request.URL.Parse(html.UnescapeString(string(m[1])))
		if err != nil {
			t.Fatal(err)
		}
		fields := url.Values{}
		for _, hm := range hiddenRe.FindAllSubmatch(body, -1) {
			fields.Set(html.UnescapeString(string(hm[1])), html.UnescapeString(string(hm[2])))
		}
		if strings.Contains(string(body), `name="login"`) {
			fields.Set("login", login)
			fields.Set("password", "any password")
		}
		resp, err = h.client.PostForm(action.String(), fields)
	}
}

func TestInteropOidcProvider(t *testing.T) {
	if os.Getenv(InteropVar) == "" {
		testenv.Skip(t, "oidc-provider interop test skipped: set "+InteropVar+"=1 after .ci/install-oidc-provider.sh")
	}
	const clientID, secret = "mpassid-interop", "interop secret/+&="
	h := newHarness(t, oidc.Config{ClientID: clientID, ClientSecret: secret, UserInfo: true, Issuer: "http://placeholder.invalid"})
	issuer := startOidcProvider(t, clientID, secret, h.callback)
	conn, err := oidc.New(oidc.Config{Issuer: issuer, ClientID: clientID, ClientSecret: secret, UserInfo: true, Logger: quiet}, &memReplay{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.conn = conn

	st, _ := h.start(t, connector.LoginRequest{TransactionID: "interop-1", Language: "fi"})
	got := browse(t, h, st.Redirect.URL, "pupil-42")
	if got.err != nil {
		t.Fatal(got.err)
	}
	a := got.id.Attributes
	for k, v := range map[string][]string{
		"sub": {"pupil-42"}, "iss": {issuer}, "given_name": {"Interop"}, "family_name": {"Käyttäjä"},
		"email": {"pupil-42@interop.example"}, "email_verified": {"true"},
	} {
		if !slices.Equal(a[k], v) {
			t.Errorf("%s = %q, want %q (all: %v)", k, a[k], v, a)
		}
	}
	if got.id.NameID != "pupil-42" {
		t.Errorf("identity %+v", got.id)
	}
	if again := h.get(t, got.url); !errors.Is(again.err, connector.ErrReplay) {
		t.Errorf("replayed callback: %v", again.err)
	}

	// A forced login shows the login form again despite the OP session.
	st, _ = h.start(t, connector.LoginRequest{TransactionID: "interop-2", ForceAuthn: true})
	if got := browse(t, h, st.Redirect.URL, "teacher-7"); got.err != nil || got.id.NameID != "teacher-7" {
		t.Fatalf("forced login: %v %v", got.id, got.err)
	}

	// A passive login without an OP session is refused: ErrCancelled.
	h.client.Jar = nil
	st, _ = h.start(t, connector.LoginRequest{TransactionID: "interop-3", Passive: true})
	if got := h.get(t, st.Redirect.URL); !errors.Is(got.err, connector.ErrCancelled) || got.id != nil {
		t.Fatalf("passive login: %v %v", got.id, got.err)
	}
}
