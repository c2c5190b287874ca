package app

import (
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Every line written is counted by its level, rounded down to debug, info,
// warn or error, through loggers derived with attributes or groups too; a
// line below the logger's level is neither written nor counted.
func TestLogCounts(t *testing.T) {
	counts := &logCounts{}
	log := slog.New(countingHandler{next: slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}), counts: counts})
	log.Debug("not written")
	log.Info("one")
	log.With("component", "x").Info("two")
	log.WithGroup("g").Warn("three")
	log.Log(t.Context(), slog.LevelWarn+2, "a warning still")
	log.Error("four")

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(newLogCollector(counts))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			got[f.GetName()+"/"+m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"mpassid_log_messages_total/debug": 0,
		"mpassid_log_messages_total/info":  2,
		"mpassid_log_messages_total/warn":  2,
		"mpassid_log_messages_total/error": 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
