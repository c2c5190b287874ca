package oidc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A call to the provider cut short because the login's browser went away
// is routine (info); one that failed otherwise, whether or not the browser
// still waits, is a warning.
func TestUpstreamFailedLevel(t *testing.T) {
	cut := fmt.Errorf("Post: %w", context.Canceled)
	for _, tc := range []struct {
		name   string
		cancel bool
		err    error
		want   string
	}{
		{"browser waiting", false, cut, "level=WARN"},
		{"browser gone", true, cut, "level=INFO"},
		{"browser gone, the provider failed", true, errors.New("Post: connection reset"), "level=WARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			c := &Connector{log: slog.New(slog.NewTextHandler(&buf, nil))}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			c.upstreamFailed(ctx, "OIDC code exchange failed", tc.err)
			if !strings.Contains(buf.String(), tc.want) || !strings.Contains(buf.String(), "Post") {
				t.Errorf("logged %q, want %s", buf.String(), tc.want)
			}
		})
	}
}
