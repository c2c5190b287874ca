package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestEvents(t *testing.T) {
	var buf bytes.Buffer
	l := New(slog.New(slog.NewJSONHandler(&buf, nil)))
	ctx := context.Background()
	l.LoggedIn(ctx, Login{Service: 5000001, Source: "Testi", UID: "MPASSOID.abc", Result: ResultSSO})
	l.LoginFailed(ctx, Failure{Service: 5000001, Source: "Testi", Result: "cancelled", Reference: "ABCDEFG", Cause: errors.New("user cancelled")})
	l.LoggedOut(ctx, Logout{Source: "Testi", UID: "MPASSOID.abc", Participants: 2, Result: "ended"})
	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		events = append(events, m)
	}
	if len(events) != 3 {
		t.Fatalf("events %v", events)
	}
	for i, want := range []string{EventLogin, EventLoginFailed, EventLogout} {
		if events[i]["event"] != want {
			t.Errorf("event %d: %v", i, events[i])
		}
	}
	if events[0]["subject"] != Subject("MPASSOID.abc") || events[0]["service"] != float64(5000001) || events[0]["result"] != "sso" {
		t.Errorf("login event %v", events[0])
	}
	if events[1]["reference"] != "ABCDEFG" || events[1]["result"] != "cancelled" {
		t.Errorf("failure event %v", events[1])
	}
	if strings.Contains(buf.String(), "MPASSOID.abc") {
		t.Error("uid logged in clear")
	}
	var zero *Logger
	zero.LoggedIn(ctx, Login{}) // a nil Logger discards
}

// A login that failed because its browser or service went away is
// routine: info, marked client_gone; any other failure is a warning. (The
// broker decides which with connector.ClientGone, tested there.)
func TestLoginFailedClientGone(t *testing.T) {
	cases := []struct {
		name       string
		clientGone bool
		wantLevel  string
		wantGone   bool
	}{
		{"failed", false, "WARN", false},
		{"client gone", true, "INFO", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := New(slog.New(slog.NewJSONHandler(&buf, nil)))
			l.LoginFailed(context.Background(), Failure{Service: 5000001, Source: "Testi", Result: "failed", Reference: "ABCDEFG",
				Cause: fmt.Errorf("store: mark used: %w", context.Canceled), ClientGone: tc.clientGone})
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if m["level"] != tc.wantLevel || (m["client_gone"] == true) != tc.wantGone || m["result"] != "failed" {
				t.Errorf("event %v", m)
			}
		})
	}
}
