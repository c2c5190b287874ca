package loadtest

import (
	"math"
	"strings"
	"testing"
	"time"
)

// Options that cannot make a run that stops by itself and stays on this
// machine are refused before anything is registered.
func TestOptionsValidate(t *testing.T) {
	good := func() Options {
		o := Options{Targets: []string{"http://127.0.0.1:8080"}, Duration: time.Second, AdminToken: "t"}
		o.setDefaults()
		return o
	}
	cases := []struct {
		name    string
		edit    func(*Options)
		wantErr string // "" for none
	}{
		{"defaults", func(*Options) {}, ""},
		{"open loop", func(o *Options) { o.Rate = 250 }, ""},
		{"negative rate", func(o *Options) { o.Rate = -1 }, "rate"},
		{"rate not a number", func(o *Options) { o.Rate = math.NaN() }, "rate"},
		{"rate beyond reason", func(o *Options) { o.Rate = 2e6 }, "rate"},
		{"no end", func(o *Options) { o.Duration = 0 }, "duration or a count"},
		{"remote target", func(o *Options) { o.Targets = []string{"http://192.0.2.1:8080"} }, "loopback"},
		{"unknown flow", func(o *Options) { o.Flows = []string{"cas"} }, "flow"},
		{"too many users", func(o *Options) { o.Concurrency = 5000 }, "concurrency"},
		{"no admin token", func(o *Options) { o.AdminToken = "" }, "admin token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := good()
			tc.edit(&o)
			err := o.validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one with %q", err, tc.wantErr)
			}
		})
	}
}
