package app

import (
	"strings"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/config"
	"github.com/mpassid/mpassid/internal/logbuf"
	"github.com/mpassid/mpassid/internal/testenv"
)

// Behind a writer that holds lines back, info lines wait for the interval
// while a warning or an error goes out at once, after the lines before it;
// through derived loggers too.
func TestLoggerWritesOutWarningsAtOnce(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var out testenv.Buffer
			held := logbuf.New(&out, time.Hour)
			defer held.Close()
			log := NewLogger(config.LogConfig{Level: "info", Format: format}, held)

			log.Info("first")
			log.With("component", "x").WithGroup("g").Info("second")
			if out.String() != "" {
				t.Fatalf("info lines written at once: %q", out.String())
			}
			log.With("component", "x").Warn("trouble")
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 3 || !strings.Contains(lines[0], "first") || !strings.Contains(lines[1], "second") || !strings.Contains(lines[2], "trouble") {
				t.Fatalf("after a warning: %q", out.String())
			}
			log.Info("third")
			log.Error("failure")
			if !strings.Contains(lastLine(out.String()), "failure") || !strings.Contains(out.String(), "third") {
				t.Errorf("an error not written out at once: %q", out.String())
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
