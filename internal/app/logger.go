package app

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/mpassid/mpassid/internal/config"
)

// NewLogger builds the program's logger: JSON lines in production (one
// event a line, for log shipping), text for a person at a terminal.
func NewLogger(cfg config.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(cfg.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if cfg.Format == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	if f, ok := w.(flusher); ok {
		h = flushingHandler{next: h, out: f}
	}
	return slog.New(h)
}

// flusher is a writer that holds lines back (logbuf.Writer).
type flusher interface{ Flush() error }

// flushingHandler writes out at once every warning and error, with the
// lines held before it: what explains a failure is never what a crash
// right after it loses.
type flushingHandler struct {
	next slog.Handler
	out  flusher
}

func (h flushingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.next.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.out.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{next: h.next.WithAttrs(attrs), out: h.out}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{next: h.next.WithGroup(name), out: h.out}
}
