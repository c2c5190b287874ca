package loadtest

import (
	"strings"
	"testing"
	"time"
)

// The signature line gives both measurements and their mean, and a run
// during which the signature's cost moved by more than 15 % carries a
// warning.
func TestReportSignatureLine(t *testing.T) {
	cases := []struct {
		name          string
		before, after time.Duration
		wantRatio     string
		warn          bool
	}{
		{"steady", 700 * time.Microsecond, 720 * time.Microsecond, "= 2.82 signatures", false},
		{"faster after", 1000 * time.Microsecond, 700 * time.Microsecond, "= 2.35 signatures", true},
		{"slower after", 700 * time.Microsecond, 900 * time.Microsecond, "= 2.50 signatures", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := &Report{
				Flows: []string{"oidc"}, Sources: []string{"test"}, Concurrency: 1, DBWrites: -1,
				ServerCPU: 2 * time.Second, ServerCPUPerLogin: 2 * time.Millisecond,
				SignatureBefore: tc.before, SignatureAfter: tc.after, Signature: (tc.before + tc.after) / 2,
			}
			if _, unsteady := rep.Unsteady(); unsteady != tc.warn {
				t.Errorf("Unsteady = %v, want %v", unsteady, tc.warn)
			}
			var out strings.Builder
			rep.Format(&out)
			text := out.String()
			if !strings.Contains(text, "before the run") || !strings.Contains(text, tc.wantRatio) {
				t.Errorf("signature line lacks the measurements or %q:\n%s", tc.wantRatio, text)
			}
			if got := strings.Contains(text, "warning:"); got != tc.warn {
				t.Errorf("warning shown %v, want %v:\n%s", got, tc.warn, text)
			}
		})
	}
}
