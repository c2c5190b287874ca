package app

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The levels the log's lines are counted by: each line's level rounded
// down to the nearest of them.
const (
	countDebug = iota
	countInfo
	countWarn
	countError
	countLevels
)

func levelIndex(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return countError
	case l >= slog.LevelWarn:
		return countWarn
	case l >= slog.LevelInfo:
		return countInfo
	}
	return countDebug
}

func levelName(i int) string { return [countLevels]string{"debug", "info", "warn", "error"}[i] }

// logCounts counts the lines an instance logged, by level, for
// mpassid_log_messages_total: an operator alerts on the rate of warnings
// and errors rather than reading every line, and the load tool reports
// how many a run caused (a login can succeed while the broker logs a
// failure the tool cannot see).
type logCounts struct {
	n [countLevels]atomic.Int64
}

// countingHandler counts each record its handler writes.
type countingHandler struct {
	next   slog.Handler
	counts *logCounts
}

func (h countingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	h.counts.n[levelIndex(r.Level)].Add(1)
	return h.next.Handle(ctx, r)
}

func (h countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return countingHandler{next: h.next.WithAttrs(attrs), counts: h.counts}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{next: h.next.WithGroup(name), counts: h.counts}
}

// logCollector exports the counts.
type logCollector struct {
	counts *logCounts
	desc   *prometheus.Desc
}

func newLogCollector(c *logCounts) *logCollector {
	return &logCollector{counts: c, desc: prometheus.NewDesc("mpassid_log_messages_total",
		"Lines the instance logged, by level (debug, info, warn, error); a client that went away is at info.",
		[]string{"level"}, nil)}
}

func (c *logCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *logCollector) Collect(ch chan<- prometheus.Metric) {
	for i := range countLevels {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.counts.n[i].Load()), levelName(i))
	}
}
