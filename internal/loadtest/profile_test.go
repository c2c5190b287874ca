package loadtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServerProfile measures an in-process dev instance under load and
// writes a CPU profile per flow and source, in which the tool's own
// goroutines carry the label side=tool, so that
//
//	go tool pprof -tagignore side=tool -top <profile>
//
// shows the server alone, and the allocations since the process started
// (allocs-<flow>-<source>.pprof; the tool's and the server's together, as
// allocation profiles carry no labels). It also counts the SQLite write
// transactions per login, read from the store in the same process. It
// runs only when LOADTEST_PROFILE_DIR names a directory for the profiles;
// see docs/performance.md. LOADTEST_DURATION (default 20s), LOADTEST_C
// (64), LOADTEST_RATE (logins started per second in an open loop; default
// none) and LOADTEST_CASES (default "oidc/test saml/test
// oidc/oidc-upstream saml/saml-upstream") shape it.
func TestServerProfile(t *testing.T) {
	dir := os.Getenv("LOADTEST_PROFILE_DIR")
	if dir == "" {
		t.Skip("set LOADTEST_PROFILE_DIR to profile the server under load")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("directory for the profiles: %v", err)
	}
	duration := 20 * time.Second
	if s := os.Getenv("LOADTEST_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		duration = d
	}
	c := 64
	if s := os.Getenv("LOADTEST_C"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		c = n
	}
	var rate float64 // LOADTEST_RATE: an open loop at that many logins/s
	if s := os.Getenv("LOADTEST_RATE"); s != "" {
		r, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		rate = r
	}
	cases := strings.Fields(os.Getenv("LOADTEST_CASES"))
	if len(cases) == 0 {
		cases = []string{"oidc/test", "saml/test", "oidc/oidc-upstream", "saml/saml-upstream"}
	}

	a, base := startDev(t)
	wt, ok := a.Store().(interface{ WriteTransactions() int64 })
	if !ok {
		t.Fatal("the dev store does not count its write transactions")
	}

	for _, tc := range cases {
		flow, src, ok := strings.Cut(tc, "/")
		if !ok {
			t.Fatalf("case %q: want flow/source", tc)
		}
		t.Run(tc, func(t *testing.T) {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%s-%s.pprof", flow, src)))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var rep *Report
			pprof.Do(context.Background(), pprof.Labels("side", "tool"), func(ctx context.Context) {
				if err := pprof.StartCPUProfile(f); err != nil {
					t.Fatal(err)
				}
				defer pprof.StopCPUProfile()
				rep, err = Run(ctx, Options{
					Targets: []string{base}, Flows: []string{flow}, Sources: []string{src},
					Concurrency: c, Rate: rate, Duration: duration, AdminToken: a.Demo().AdminToken,
					CommitCounter: wt.WriteTransactions, PIDs: []int{os.Getpid()},
				}, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			// Allocations since the process started: compare two cases
			// with pprof's -base, or run one case alone.
			if err := writeAllocsProfile(filepath.Join(dir, fmt.Sprintf("allocs-%s-%s.pprof", flow, src))); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			rep.Format(&out)
			t.Logf("%s/%s, server in process (server CPU = test process, tool included):\n%s", flow, src, out.String())
			if rep.Errors > 0 {
				t.Errorf("%d errors: %v", rep.Errors, rep.ErrorKinds)
			}
		})
	}
}

func writeAllocsProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
