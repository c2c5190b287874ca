package connector

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestBareHost(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"en.inschool.fi", "en.inschool.fi", true},
		{" ka.opinsys.fi ", "ka.opinsys.fi", true},
		{"host.example:8443", "host.example:8443", true},
		{"", "", false},
		{"evil.example/path", "", false},
		{"user@evil.example", "", false},
		{"evil.example?x=1", "", false},
		{"evil.example#f", "", false},
		{"a b", "", false},
	} {
		got, err := BareHost(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("BareHost(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// A failure is the client's going away only if the request's context has
// ended and the failure is that end; a forged answer or a store failing
// for itself is not, whether or not the client has gone.
func TestClientGone(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	waiting := context.Background()
	cut := fmt.Errorf("store: mark used: %w", context.Canceled)
	other := errors.New("saml: signature invalid")
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"ended, cut short", ended, cut, true},
		{"waiting, cut short (an inner context of our own)", waiting, cut, false},
		{"ended, another failure", ended, other, false},
		{"ended, no failure", ended, nil, false},
	}
	for _, tc := range cases {
		if got := ClientGone(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
