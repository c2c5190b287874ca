package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// snapshot is the counters read before and after the measured run.
type snapshot struct {
	serverCPU map[int]time.Duration
	toolCPU   time.Duration
	commits   int64 // -1: unknown
	// signatures are the targets' own counts of their signatures, summed
	// (nil: a target exports none, or its /metrics is not reachable).
	signatures map[string]ServerSigning
	// targetCPU and targetResident are the targets' own process CPU time
	// and resident memory, summed (-1: a target exports none, or its
	// /metrics is not reachable).
	targetCPU      time.Duration
	targetResident int64
	targetsStarted float64 // see scraped.started
	// targetWarnings and targetErrors are the lines the targets logged at
	// those levels (-1: unknown).
	targetWarnings, targetErrors int64
}

func (r *runner) snapshot(ctx context.Context) (*snapshot, error) {
	s := &snapshot{serverCPU: map[int]time.Duration{}, commits: -1}
	for _, pid := range r.opts.PIDs {
		d, err := processCPU(pid)
		if err != nil {
			return nil, err
		}
		s.serverCPU[pid] = d
	}
	s.toolCPU = selfCPU()
	scraped := r.scrapeTargets(ctx)
	s.signatures = scraped.signatures
	s.targetCPU, s.targetResident, s.targetsStarted = scraped.processCPU, scraped.resident, scraped.started
	s.targetWarnings, s.targetErrors = scraped.warnings, scraped.errors
	switch {
	case r.opts.CommitCounter != nil:
		s.commits = r.opts.CommitCounter()
	case r.opts.PostgresDSN != "":
		n, err := pgCommits(ctx, r.opts.PostgresDSN)
		if err != nil {
			return nil, err
		}
		s.commits = n
	default:
		s.commits = scraped.writeTransactions
	}
	return s, nil
}

// processCPU returns the user plus system CPU time of a process so far.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("server CPU of pid %d: %w", pid, err)
	}
	// The command name may hold spaces; the fields after it are fixed.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("server CPU of pid %d: unreadable /proc stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("server CPU of pid %d: short /proc stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("server CPU of pid %d: unreadable utime/stime", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// peakRSS returns a process's peak resident set size (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("peak memory of pid %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peak memory of pid %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("peak memory of pid %d: no VmHWM", pid)
}

// selfCPU returns this process's user plus system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pgCommits returns how many transactions have written on the DSN's
// server so far: the next transaction id to be assigned. PostgreSQL
// assigns one only to a transaction that writes, and reading it assigns
// none, so the difference over a run counts write transactions exactly,
// where pg_stat_database.xact_commit also counts every read. The count is
// server-wide: run the test database on a server of its own.
func pgCommits(ctx context.Context, dsn string) (int64, error) {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("connect to PostgreSQL for the write count: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	var n int64
	if err := c.QueryRow(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read the next transaction id: %w", err)
	}
	return n, nil
}

// FlowStats are the figures of one flow.
type FlowStats struct {
	Logins, Errors int
	P50, P95, P99  time.Duration
	Max            time.Duration
	Requests       Latencies
}

// Latencies summarises a set of latencies; in reports, those of the broker
// requests of completed logins, each from sending it to the end of its
// answer, what a user waits for a page. A login's latency under a closed
// loop of virtual users is mostly queueing (users divided by throughput);
// a request's is what a user feels.
type Latencies struct {
	Count              int
	P50, P95, P99, Max time.Duration
}

// summarise sorts d in place and summarises it.
func summarise(d []time.Duration) Latencies {
	slices.Sort(d)
	l := Latencies{Count: len(d), P50: percentile(d, .50), P95: percentile(d, .95), P99: percentile(d, .99)}
	if len(d) > 0 {
		l.Max = d[len(d)-1]
	}
	return l
}

// Report is the outcome of a run.
type Report struct {
	Targets     []string
	Flows       []string
	Sources     []string
	Concurrency int
	Rate        float64 // logins started per second in an open loop; 0: closed loop
	Elapsed     time.Duration
	// Logins completed and verified; Errors failed; Abandoned were cut off
	// by the end of the run (not counted as either).
	Logins, Errors, Abandoned int
	LoginsPerSecond           float64
	P50, P95, P99, Max        time.Duration
	Requests                  Latencies
	PerEndpoint               map[string]Latencies // "GET /path", ids as {id}
	PerFlow                   map[string]*FlowStats
	ErrorKinds                map[string]int
	ErrorExamples             []string
	// ServerCPU is the CPU time of the servers during the run, per login
	// over successful logins: of the processes given by PID, or else by
	// the targets' own process_cpu_seconds_total (-1: neither), which
	// ServerCPUSource then names. ServerPeakRSS is each given process's
	// peak; without PIDs, ServerResident is the targets' resident memory
	// at the end of the run, summed (0: unknown).
	ServerCPU         time.Duration
	ServerCPUPerLogin time.Duration
	ServerCPUSource   string
	ServerPeakRSS     map[int]int64
	ServerResident    int64
	// ServerWarnings and ServerErrors are the lines the targets logged at
	// those levels during the run, by their mpassid_log_messages_total
	// (-1: unknown). A login can succeed while the broker logs a failure
	// the tool cannot see; a client that went away is logged at info.
	ServerWarnings, ServerErrors int64
	// DBWrites are database commits during the run (-1 unknown), with the
	// source of the figure.
	DBWrites         int64
	DBWritesPerLogin float64
	DBWritesSource   string
	// ToolCPU is this process's CPU time during the run. When the server
	// runs in this process it includes the server's.
	ToolCPU         time.Duration
	ToolCPUPerLogin time.Duration
	// Signature is the CPU time of one RSA-2048 signature in this binary
	// (0: not measured), the unit in which server CPU per login compares
	// across machines and builds: the mean of SignatureBefore and
	// SignatureAfter, measured right before and right after the run.
	Signature, SignatureBefore, SignatureAfter time.Duration
	// SignatureOps are the broker's public-key operations per successful
	// login, as the tool saw them (see sigOps); with PIDs, each with its
	// cost in this binary measured after the run, and SignatureOpsPerLogin
	// their sum. The server's CPU per login beyond them is the part an
	// implementation can make smaller.
	SignatureOps         []SignatureOp
	SignatureOpsPerLogin time.Duration
	// ServerSignatures are the signatures the targets made during the run
	// by their own count (mpassid_signatures_total), by kind of key, with
	// the CPU time they took there by the signing threads' clocks (nil: a
	// target does not export them). SignatureOpsInServer is the public-key
	// operations per login with each signature at that cost, under the
	// run's load, where the server has one (0: none has), and each check
	// at its cost measured here (none without PIDs: the servers may be on
	// another machine, and the sum is then of the signatures alone).
	ServerSignatures     map[string]ServerSigning
	SignatureOpsInServer time.Duration
}

// ServerSigning is a server's signatures of one kind of key and the CPU
// time they took there, by its own thread clocks.
type ServerSigning struct {
	Count int64
	CPU   time.Duration
}

// Each returns the CPU time of one signature (0: none made, or no clock).
func (s ServerSigning) Each() time.Duration {
	if s.Count <= 0 || s.CPU <= 0 {
		return 0
	}
	return s.CPU / time.Duration(s.Count)
}

// keptUp is the share of an open loop's rate below which the report says
// the run fell behind.
const keptUp = 0.95

// unsteadyMachine is how far the signature's cost may move between the
// measurements before and after a run before the report warns that the
// machine's speed changed during it.
const unsteadyMachine = 0.15

// Unsteady reports whether the signature's cost moved by more than
// unsteadyMachine during the run, and by how much.
func (rep *Report) Unsteady() (float64, bool) {
	lo, hi := min(rep.SignatureBefore, rep.SignatureAfter), max(rep.SignatureBefore, rep.SignatureAfter)
	if lo <= 0 {
		return 0, false
	}
	moved := float64(hi-lo) / float64(lo)
	return moved, moved > unsteadyMachine
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func (r *runner) report(stats []*workerStats, elapsed time.Duration, before, after *snapshot) *Report {
	rep := &Report{
		Flows: r.opts.Flows, Sources: r.opts.Sources, Concurrency: r.opts.Concurrency, Rate: r.opts.Rate, Elapsed: elapsed,
		PerFlow: map[string]*FlowStats{}, PerEndpoint: map[string]Latencies{}, ErrorKinds: map[string]int{}, ServerCPU: -1, DBWrites: -1,
		ServerPeakRSS: map[int]int64{}, ServerWarnings: -1, ServerErrors: -1,
	}
	for _, t := range r.targets {
		rep.Targets = append(rep.Targets, origin(t))
	}
	var all, allRequests []time.Duration
	for _, f := range r.opts.Flows {
		var lat, req []time.Duration
		fs := &FlowStats{}
		for _, ws := range stats {
			lat = append(lat, ws.latencies[f]...)
			req = append(req, ws.requests[f]...)
			fs.Errors += ws.failed[f]
		}
		fs.Requests = summarise(req)
		allRequests = append(allRequests, req...)
		l := summarise(lat)
		fs.Logins, fs.P50, fs.P95, fs.P99, fs.Max = l.Count, l.P50, l.P95, l.P99, l.Max
		rep.PerFlow[f] = fs
		all = append(all, lat...)
	}
	for _, ws := range stats {
		rep.Errors += sumValues(ws.failed)
		rep.Abandoned += ws.abandoned
		for k, n := range ws.errors {
			rep.ErrorKinds[k] += n
		}
		for _, e := range ws.examples {
			if len(rep.ErrorExamples) < 5 {
				rep.ErrorExamples = append(rep.ErrorExamples, e)
			}
		}
	}
	rep.Logins = len(all)
	rep.Requests = summarise(allRequests)
	byEndpoint := map[string][]time.Duration{}
	for _, ws := range stats {
		for e, d := range ws.endpoints {
			byEndpoint[e] = append(byEndpoint[e], d...)
		}
	}
	for e, d := range byEndpoint {
		rep.PerEndpoint[e] = summarise(d)
	}
	l := summarise(all)
	rep.P50, rep.P95, rep.P99, rep.Max = l.P50, l.P95, l.P99, l.Max
	rep.LoginsPerSecond = float64(rep.Logins) / elapsed.Seconds()
	per := func(d time.Duration) time.Duration {
		if rep.Logins == 0 {
			return 0
		}
		return d / time.Duration(rep.Logins)
	}
	switch {
	case len(r.opts.PIDs) > 0:
		rep.ServerCPU = 0
		for _, pid := range r.opts.PIDs {
			rep.ServerCPU += after.serverCPU[pid] - before.serverCPU[pid]
			if rss, err := peakRSS(pid); err == nil {
				rep.ServerPeakRSS[pid] = rss
			}
		}
		rep.ServerCPUPerLogin = per(rep.ServerCPU)
	case before.targetCPU >= 0 && after.targetCPU >= before.targetCPU && after.targetsStarted == before.targetsStarted:
		// Servers on other machines, or whose PIDs were not given, still
		// count their own CPU time: coarser (hundredths of a second, as
		// the kernel keeps it), but enough over a run of seconds. A target
		// that restarted during the run began its count again, so then
		// there is no figure.
		rep.ServerCPU, rep.ServerCPUSource = after.targetCPU-before.targetCPU, "the targets' "+processCPUMetric
		rep.ServerCPUPerLogin = per(rep.ServerCPU)
		rep.ServerResident = max(after.targetResident, 0)
	}
	if before.targetWarnings >= 0 && after.targetWarnings >= before.targetWarnings && after.targetErrors >= before.targetErrors {
		rep.ServerWarnings = after.targetWarnings - before.targetWarnings
		rep.ServerErrors = after.targetErrors - before.targetErrors
	}
	rep.ToolCPU = after.toolCPU - before.toolCPU
	rep.ToolCPUPerLogin = per(rep.ToolCPU)
	switch {
	case r.opts.CommitCounter != nil:
		rep.DBWritesSource = "SQLite write transactions (counted in this process)"
	case r.opts.PostgresDSN != "":
		rep.DBWritesSource = "PostgreSQL write transactions (transaction ids assigned, server-wide)"
	case before.commits >= 0:
		rep.DBWritesSource = "SQLite write transactions (" + writeTransactionsMetric + " of the targets)"
	default:
		rep.DBWritesSource = "unknown: the targets export no " + writeTransactionsMetric + " (PostgreSQL instances: give --pg-dsn)"
	}
	if before.signatures != nil && after.signatures != nil {
		rep.ServerSignatures = map[string]ServerSigning{}
		for kind, a := range after.signatures {
			b := before.signatures[kind]
			rep.ServerSignatures[kind] = ServerSigning{Count: a.Count - b.Count, CPU: a.CPU - b.CPU}
		}
	}
	if before.commits >= 0 && after.commits >= 0 {
		rep.DBWrites = after.commits - before.commits
		if rep.Logins > 0 {
			rep.DBWritesPerLogin = float64(rep.DBWrites) / float64(rep.Logins)
		}
	}
	return rep
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// formatSignatureOps writes the broker's public-key operations per login
// and, given the server's CPU, what it spent beyond them: against their
// cost measured here (with PIDs: the servers are on this machine) and
// against the servers' own clocks of their signatures.
func formatSignatureOps(w io.Writer, rep *Report) {
	if len(rep.SignatureOps) == 0 {
		return
	}
	parts := make([]string, 0, len(rep.SignatureOps))
	checks := false
	for _, op := range rep.SignatureOps {
		part := fmt.Sprintf("%.2f %s", op.PerLogin, op.Op)
		if op.Cost > 0 {
			part += " (" + ms(op.Cost) + " each)"
		} else if rep.SignatureOpsPerLogin > 0 {
			part += " (not measured)"
		}
		parts = append(parts, part)
		checks = checks || !op.op.sign
	}
	idle := rep.SignatureOpsPerLogin > 0
	if idle {
		fmt.Fprintf(w, "public-key:   per login %s = %s of CPU at the idle cost\n", strings.Join(parts, ", "), ms(rep.SignatureOpsPerLogin))
	} else {
		fmt.Fprintf(w, "public-key:   per login %s\n", strings.Join(parts, ", "))
	}
	inServer := rep.SignatureOpsInServer
	// Without a cost measured here the checks have none to count at: the
	// comparison is then with the signatures alone, the checks on the
	// other side of it.
	what := "the public-key operations"
	if !idle && checks {
		what = "the signatures (the checks, which the server does not time, left out)"
	}
	if inServer > 0 {
		kinds := slices.Sorted(maps.Keys(rep.ServerSignatures))
		var made []string
		for _, k := range kinds {
			if s := rep.ServerSignatures[k]; s.Each() > 0 {
				made = append(made, fmt.Sprintf("%d %s signatures, %s each", s.Count, k, ms(s.Each())))
			}
		}
		fmt.Fprintf(w, "in server:    %s by the server's own clock; %s at that cost: %s per login\n",
			strings.Join(made, ", "), what, ms(inServer))
	}
	if rep.ServerCPU <= 0 {
		return
	}
	switch {
	case idle:
		beyond := rep.ServerCPUPerLogin - rep.SignatureOpsPerLogin
		fmt.Fprintf(w, "beyond them:  %s of server CPU per login, %.2f times the public-key operations at their idle cost",
			ms(beyond), float64(beyond)/float64(rep.SignatureOpsPerLogin))
		if inServer > 0 {
			beyond := rep.ServerCPUPerLogin - inServer
			fmt.Fprintf(w, "; %s, %.2f times, at the server's own cost", ms(beyond), float64(beyond)/float64(inServer))
		}
		fmt.Fprintln(w)
	case inServer > 0:
		beyond := rep.ServerCPUPerLogin - inServer
		fmt.Fprintf(w, "beyond them:  %s of server CPU per login, %.2f times %s at the server's own cost\n",
			ms(beyond), float64(beyond)/float64(inServer), what)
	}
}

// formatRequests writes a line of broker request latencies.
func formatRequests(w io.Writer, label string, l Latencies, logins int) {
	per := 0.0
	if logins > 0 {
		per = float64(l.Count) / float64(logins)
	}
	fmt.Fprintf(w, "%s %d to the broker (%.1f per login), each p50 %s  p95 %s  p99 %s  max %s\n",
		label, l.Count, per, ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max))
}

// Format writes the report for people.
func (rep *Report) Format(w io.Writer) {
	fmt.Fprintf(w, "targets:      %s\n", strings.Join(rep.Targets, " "))
	fmt.Fprintf(w, "flows:        %s   sources: %s   virtual users: %d   elapsed: %.1f s\n",
		strings.Join(rep.Flows, ","), strings.Join(rep.Sources, ","), rep.Concurrency, rep.Elapsed.Seconds())
	fmt.Fprintf(w, "logins:       %d completed and verified, %d errors, %d cut off at the end\n", rep.Logins, rep.Errors, rep.Abandoned)
	fmt.Fprintf(w, "throughput:   %.1f logins/s\n", rep.LoginsPerSecond)
	if rep.Rate > 0 {
		fmt.Fprintf(w, "open loop:    logins started at %.1f/s; latency counts from when each was due\n", rep.Rate)
		if rep.LoginsPerSecond < keptUp*rep.Rate {
			fmt.Fprintf(w, "warning:      the logins completed fell behind the rate: the broker (or the tool, or -c virtual users) could not keep up, so latency grew with the backlog\n")
		}
	}
	fmt.Fprintf(w, "latency:      p50 %s  p95 %s  p99 %s  max %s\n", ms(rep.P50), ms(rep.P95), ms(rep.P99), ms(rep.Max))
	if len(rep.Flows) > 1 {
		for _, f := range rep.Flows {
			fs := rep.PerFlow[f]
			fmt.Fprintf(w, "  %-5s       %d logins (%.1f/s), %d errors, p50 %s  p95 %s  p99 %s\n", f, fs.Logins,
				float64(fs.Logins)/rep.Elapsed.Seconds(), fs.Errors, ms(fs.P50), ms(fs.P95), ms(fs.P99))
		}
	}
	formatRequests(w, "requests:    ", rep.Requests, rep.Logins)
	if len(rep.Flows) > 1 {
		for _, f := range rep.Flows {
			fs := rep.PerFlow[f]
			formatRequests(w, fmt.Sprintf("  %-5s      ", f), fs.Requests, fs.Logins)
		}
	}
	endpoints := make([]string, 0, len(rep.PerEndpoint))
	for e := range rep.PerEndpoint {
		endpoints = append(endpoints, e)
	}
	slices.Sort(endpoints)
	for _, e := range endpoints {
		l := rep.PerEndpoint[e]
		fmt.Fprintf(w, "  %6d  p50 %9s  p99 %9s  %s\n", l.Count, ms(l.P50), ms(l.P99), e)
	}
	if rep.ServerCPU >= 0 {
		fmt.Fprintf(w, "server CPU:   %.2f s, %s per login", rep.ServerCPU.Seconds(), ms(rep.ServerCPUPerLogin))
		if rep.ServerCPUSource != "" {
			fmt.Fprintf(w, " (%s)", rep.ServerCPUSource)
		}
		fmt.Fprintln(w)
		for pid, rss := range rep.ServerPeakRSS {
			fmt.Fprintf(w, "server RSS:   pid %d peak %d MB\n", pid, rss>>20)
		}
		if rep.ServerResident > 0 {
			fmt.Fprintf(w, "server RSS:   %d MB resident at the end, the targets together (%s)\n", rep.ServerResident>>20, residentMemoryMetric)
		}
	} else {
		fmt.Fprintln(w, "server CPU:   not measured (give --pid of the server processes on this machine, or let the tool read the targets' /metrics)")
	}
	if rep.ServerWarnings >= 0 {
		fmt.Fprintf(w, "server log:   %d warnings, %d errors during the run (%s of the targets)\n", rep.ServerWarnings, rep.ServerErrors, logMessagesMetric)
	}
	if rep.DBWrites >= 0 {
		fmt.Fprintf(w, "DB writes:    %d, %.2f per login (%s)\n", rep.DBWrites, rep.DBWritesPerLogin, rep.DBWritesSource)
	} else {
		fmt.Fprintf(w, "DB writes:    %s\n", rep.DBWritesSource)
	}
	fmt.Fprintf(w, "tool CPU:     %.2f s, %s per login\n", rep.ToolCPU.Seconds(), ms(rep.ToolCPUPerLogin))
	if rep.Signature > 0 {
		fmt.Fprintf(w, "signature:    one RSA-2048 signature costs %s of CPU in this binary (%s before the run, %s after)",
			ms(rep.Signature), ms(rep.SignatureBefore), ms(rep.SignatureAfter))
		if rep.ServerCPU > 0 {
			fmt.Fprintf(w, "; server CPU per login = %.2f signatures", float64(rep.ServerCPUPerLogin)/float64(rep.Signature))
		}
		fmt.Fprintln(w)
		if moved, unsteady := rep.Unsteady(); unsteady {
			fmt.Fprintf(w, "warning:      the signature's cost moved by %.0f %% during the run: the machine's speed changed (busy neighbours?), so its CPU figures are uncertain; run it again\n", 100*moved)
		}
	}
	formatSignatureOps(w, rep)
	if len(rep.ErrorKinds) > 0 {
		fmt.Fprintln(w, "errors by kind:")
		kinds := make([]string, 0, len(rep.ErrorKinds))
		for k := range rep.ErrorKinds {
			kinds = append(kinds, k)
		}
		slices.SortFunc(kinds, func(a, b string) int { return rep.ErrorKinds[b] - rep.ErrorKinds[a] })
		for _, k := range kinds {
			fmt.Fprintf(w, "  %6d  %s\n", rep.ErrorKinds[k], k)
		}
		fmt.Fprintln(w, "examples:")
		for _, e := range rep.ErrorExamples {
			fmt.Fprintf(w, "  %s\n", snippet(e))
		}
	}
}
