package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The targets' metrics the tool reads: what instances on embedded SQLite
// export of their write transactions, what every instance exports of the
// signatures of its keys (internal/keys.SignMeter), and the process's CPU
// time and resident memory, which client_golang's process collector
// exports on Linux.
const (
	writeTransactionsMetric = "mpassid_db_write_transactions_total"
	signaturesMetric        = "mpassid_signatures_total"
	signatureCPUMetric      = "mpassid_signature_cpu_seconds_total"
	processCPUMetric        = "process_cpu_seconds_total"
	residentMemoryMetric    = "process_resident_memory_bytes"
	processStartMetric      = "process_start_time_seconds"
	logMessagesMetric       = "mpassid_log_messages_total"
)

// scraped is what the targets' /metrics said, summed over the targets.
type scraped struct {
	writeTransactions int64                    // -1: a target exports none
	signatures        map[string]ServerSigning // by kind of key; nil: a target exports none
	processCPU        time.Duration            // -1: a target exports none
	resident          int64                    // bytes; -1: a target exports none
	// started is the sum of the targets' start times: it changes when one
	// of them restarts, which ends its count of CPU time.
	started float64
	// warnings and errors are the lines the targets logged at those levels
	// (-1: a target exports no count).
	warnings, errors int64
}

// unknownScrape is a scrape that gave no figure.
func unknownScrape() scraped {
	return scraped{writeTransactions: -1, processCPU: -1, resident: -1, warnings: -1, errors: -1}
}

// scrapeTargets reads every target's /metrics once (a target named twice
// is one instance, read once). A target that cannot be read leaves every
// figure unknown: a sum over some targets is no figure of the run.
func (r *runner) scrapeTargets(ctx context.Context) scraped {
	out := scraped{signatures: map[string]ServerSigning{}}
	seen := map[string]bool{}
	for _, t := range r.targets {
		o := origin(t)
		if seen[o] {
			continue
		}
		seen[o] = true
		series, err := r.fetchMetrics(ctx, o+"/metrics")
		if err != nil {
			return unknownScrape()
		}
		if v, ok := series[writeTransactionsMetric]; ok && out.writeTransactions >= 0 {
			out.writeTransactions += int64(v)
		} else {
			out.writeTransactions = -1
		}
		if v, ok := series[processCPUMetric]; ok && out.processCPU >= 0 {
			out.processCPU += time.Duration(v * float64(time.Second))
		} else {
			out.processCPU = -1
		}
		out.started += series[processStartMetric]
		warn, okW := series[logMessagesMetric+`{level="warn"}`]
		errs, okE := series[logMessagesMetric+`{level="error"}`]
		if okW && okE && out.warnings >= 0 {
			out.warnings += int64(warn)
			out.errors += int64(errs)
		} else {
			out.warnings, out.errors = -1, -1
		}
		if v, ok := series[residentMemoryMetric]; ok && out.resident >= 0 {
			out.resident += int64(v)
		} else {
			out.resident = -1
		}
		sigs, ok := signaturesOf(series)
		if !ok || out.signatures == nil {
			out.signatures = nil
			continue
		}
		for kind, s := range sigs {
			sum := out.signatures[kind]
			sum.Count += s.Count
			sum.CPU += s.CPU
			out.signatures[kind] = sum
		}
	}
	return out
}

func (r *runner) fetchMetrics(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.direct.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return readMetrics(resp.Body), nil
}

// readMetrics reads the samples of a Prometheus text exposition: each
// series as written ("name" or "name{labels}") with its value. Comments,
// lines it cannot read and values that are not finite and non-negative
// (a counter's) are left out; at most 4 MiB is read.
func readMetrics(body io.Reader) map[string]float64 {
	series := map[string]float64{}
	sc := bufio.NewScanner(io.LimitReader(body, 4<<20))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// A sample is the series, its value, and perhaps a timestamp;
		// label values may hold spaces, so the series ends at the last
		// '}' when it has labels.
		name, rest := line, ""
		if i := strings.LastIndexByte(line, '}'); i >= 0 {
			name, rest = line[:i+1], line[i+1:]
		} else if i := strings.IndexByte(line, ' '); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 || len(fields) > 2 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil || !(v >= 0 && v <= math.MaxInt64) { // also NaN
			continue
		}
		series[name] = v
	}
	return series
}

// signaturesOf picks the signature counts out of a target's series, by
// the key label; false if it exports none (a server loads its keys, and
// exports a zero count for each kind, before it answers a request).
func signaturesOf(series map[string]float64) (map[string]ServerSigning, bool) {
	out := map[string]ServerSigning{}
	for name, v := range series {
		kind, ok := keyLabel(name, signaturesMetric)
		if !ok {
			continue
		}
		s := ServerSigning{Count: int64(v)}
		if cpu, ok := series[signatureCPUMetric+`{key="`+kind+`"}`]; ok {
			s.CPU = time.Duration(cpu * float64(time.Second))
		}
		out[kind] = s
	}
	return out, len(out) > 0
}

// keyLabel returns the key label of a series of metric name written as
// name{key="..."}.
func keyLabel(series, name string) (string, bool) {
	rest, ok := strings.CutPrefix(series, name+`{key="`)
	if !ok {
		return "", false
	}
	kind, ok := strings.CutSuffix(rest, `"}`)
	if !ok || strings.ContainsAny(kind, `"\{}`) {
		return "", false
	}
	return kind, true
}
