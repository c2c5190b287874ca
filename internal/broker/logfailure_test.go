package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/mpassid/mpassid/internal/testenv"
)

// A failure that is only the request's end is routine; any other, whether
// or not the request has ended, is an error.
func TestLogFailure(t *testing.T) {
	cut := fmt.Errorf("store: mark used: %w", context.Canceled)
	cases := []struct {
		name   string
		ended  bool
		err    error
		want   string
		marked bool
	}{
		{"request waiting, call cut short", false, cut, "level=ERROR", false},
		{"request ended, call cut short", true, cut, "level=INFO", true},
		{"request ended, another failure", true, errors.New("store: disk full"), "level=ERROR", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out testenv.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.ended {
				cancel()
			}
			LogFailure(ctx, slog.New(slog.NewTextHandler(&out, nil)), "store session", tc.err, "client_id", "c1")
			got := out.String()
			if !strings.Contains(got, tc.want) || strings.Contains(got, "client_gone=true") != tc.marked ||
				!strings.Contains(got, "client_id=c1") || !strings.Contains(got, "error=") {
				t.Errorf("logged %q", got)
			}
		})
	}
}
