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

// Without --pid the servers' CPU comes from their own process metrics, and
// the report says so; a target that exports none, or that restarted during
// the run, leaves it unmeasured.
func TestReportServerCPUFromMetrics(t *testing.T) {
	r := &runner{opts: Options{Flows: []string{"oidc"}, Sources: []string{"test"}, Concurrency: 1}}
	before := &snapshot{commits: -1, targetCPU: 10 * time.Second, targetResident: 50 << 20, targetsStarted: 1.7e9, targetWarnings: 4, targetErrors: 1}
	after := &snapshot{commits: -1, targetCPU: 13 * time.Second, targetResident: 60 << 20, targetsStarted: 1.7e9, targetWarnings: 7, targetErrors: 1}
	rep := r.report(nil, time.Second, before, after)
	if rep.ServerCPU != 3*time.Second || rep.ServerResident != 60<<20 {
		t.Errorf("server CPU %v, resident %d; want 3 s and 60 MiB", rep.ServerCPU, rep.ServerResident)
	}
	var out strings.Builder
	rep.Format(&out)
	reportHas(t, out.String(),
		"server CPU:   3.00 s, 0.00 ms per login (the targets' process_cpu_seconds_total)\n",
		"server RSS:   60 MB resident at the end, the targets together (process_resident_memory_bytes)\n",
		"server log:   3 warnings, 0 errors during the run (mpassid_log_messages_total of the targets)\n",
	)

	for name, change := range map[string]func(s *snapshot){
		"a target without the metrics": func(s *snapshot) { s.targetCPU, s.targetResident = -1, -1 },
		"a target restarted":           func(s *snapshot) { s.targetsStarted += 15 },
	} {
		after := *after
		change(&after)
		rep = r.report(nil, time.Second, before, &after)
		out.Reset()
		rep.Format(&out)
		if rep.ServerCPU != -1 || !strings.Contains(out.String(), "server CPU:   not measured") || strings.Contains(out.String(), "server RSS") {
			t.Errorf("%s: CPU reported as %v:\n%s", name, rep.ServerCPU, out.String())
		}
	}
}

// reportHas fails t for each of lines the report lacks.
func reportHas(t *testing.T, report string, lines ...string) {
	t.Helper()
	for _, want := range lines {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
