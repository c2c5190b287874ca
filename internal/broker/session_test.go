package broker

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSessionKey(t *testing.T) {
	const random = "q8Yx3n0d2Jc4XK1nYzS0eW5o1m3b6Qk9sP2rT7uV8wA"
	for _, tc := range []struct {
		name, token, want string
	}{
		{"this version's", "019ac2b5e3c0." + random, "019ac2b5e3c0" + hashToken("019ac2b5e3c0."+random)},
		{"an earlier version's, random throughout", random, hashToken(random)},
		{"upper-case time", "019AC2B5E3C0." + random, hashToken("019AC2B5E3C0." + random)},
		{"short time", "19ac2b5e3c0." + random, hashToken("19ac2b5e3c0." + random)},
		{"time alone", "019ac2b5e3c0.", "019ac2b5e3c0" + hashToken("019ac2b5e3c0.")},
		{"no dot", "019ac2b5e3c0" + random, hashToken("019ac2b5e3c0" + random)},
		{"empty", "", hashToken("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sessionKey(tc.token); got != tc.want {
				t.Errorf("sessionKey(%q) = %q, want %q", tc.token, got, tc.want)
			}
		})
	}
}

// Sessions made one after another have keys in that order, and no two
// tokens of the same millisecond share a key.
func TestSessionKeysFollowTime(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 7, 45, 0, 0, time.UTC)
	var prev string
	for i, now := range []time.Time{t0, t0, t0.Add(time.Millisecond), t0.Add(time.Second), t0.Add(8 * time.Hour), t0.AddDate(30, 0, 0)} {
		token := newSessionToken(now)
		key := sessionKey(token)
		if len(key) != sessionTimeDigits+64 || key[:sessionTimeDigits] != token[:sessionTimeDigits] {
			t.Fatalf("token %q: key %q", token, key)
		}
		if i > 0 && (key == prev || key[:sessionTimeDigits] < prev[:sessionTimeDigits]) {
			t.Errorf("key %q at %v: not after %q", key, now, prev)
		}
		prev = key
	}
}

// Whatever a cookie holds, its key is a hash, after a time prefix only
// when the cookie starts with one.
func FuzzSessionKey(f *testing.F) {
	for _, s := range []string{"", "019ac2b5e3c0.abc", "019ac2b5e3c0", "x.y", randomToken()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		key := sessionKey(token)
		switch len(key) {
		case 64:
			if key != hashToken(token) {
				t.Fatalf("sessionKey(%q) = %q", token, key)
			}
		case sessionTimeDigits + 64:
			if key[:sessionTimeDigits] != token[:sessionTimeDigits] || token[sessionTimeDigits] != '.' || key[sessionTimeDigits:] != hashToken(token) {
				t.Fatalf("sessionKey(%q) = %q", token, key)
			}
		default:
			t.Fatalf("sessionKey(%q) = %q", token, key)
		}
	})
}

// A browser whose session cookie an earlier version set, random
// throughout and stored under its plain hash, keeps its session.
func TestSessionCookieOfEarlierVersion(t *testing.T) {
	e := newEnv(t, 1)
	c := browser(t)
	_, body := get(t, c, e.srv.URL+"/begin")
	u, _ := url.Parse(e.srv.URL)
	current := jarCookie(c, u, ssoCookie)
	if len(current) <= sessionTimeDigits || current[sessionTimeDigits] != '.' {
		t.Fatalf("session cookie %q does not start with its time", current)
	}
	rec, err := e.st.GetSession(t.Context(), sessionKey(current))
	if err != nil {
		t.Fatal(err)
	}
	old := randomToken()
	rec.ID = hashToken(old)
	if err := e.st.PutSession(t.Context(), *rec); err != nil {
		t.Fatal(err)
	}
	c.Jar.SetCookies(u, []*http.Cookie{{Name: ssoCookie, Value: old, Path: "/"}})
	if _, again := get(t, c, e.srv.URL+"/begin"); again != body || e.conns[4000001].starts() != 1 {
		t.Fatalf("the earlier version's session was not reused: %q, upstream starts %d", again, e.conns[4000001].starts())
	}
}

// A session record this version cannot read (a rollback past a format
// change, a damaged row) costs the browser its single sign-on, not its
// login, and is logged.
func TestUnreadableSessionMeansNewLogin(t *testing.T) {
	e := newEnv(t, 1)
	c := browser(t)
	_, first := get(t, c, e.srv.URL+"/begin")
	u, _ := url.Parse(e.srv.URL)
	cookie := jarCookie(c, u, ssoCookie)
	rec, err := e.st.GetSession(t.Context(), sessionKey(cookie))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.TouchSession(t.Context(), rec.ID, []byte{0xff, 0x01, 0x02}, rec.IdleExpiresAt); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, c, e.srv.URL+"/begin"); body != first || e.conns[4000001].starts() != 2 {
		t.Fatalf("after an unreadable session: %q, upstream starts %d; want a new upstream login", body, e.conns[4000001].starts())
	}
	if logs := e.logs.String(); !strings.Contains(logs, "SSO session unreadable") {
		t.Errorf("the unreadable session was not logged:\n%s", logs)
	}
}

// jarCookie is the value of the cookie name that c holds for u ("" if none).
func jarCookie(c *http.Client, u *url.URL, name string) string {
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}
