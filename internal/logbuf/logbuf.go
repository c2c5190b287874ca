// Package logbuf gathers a log's lines in memory and writes them out
// together, a few times a second, instead of one write(2) a line.
//
// A serving instance logs six lines a login (five requests and the audit
// event). Written one by one, each line cost about 8 µs of CPU under load,
// the system call and the wait for the handler's lock behind another
// line's call: 4 % of an OIDC login. Gathered, a line costs a copy.
//
// What is gathered and not yet written is lost if the process dies at once
// (kill -9, the kernel's OOM killer, a fatal runtime error): at most the
// last interval's lines. A graceful stop writes everything (Close), and a
// warning or error is written at once with everything before it (the
// caller calls Flush; see app.NewLogger), so the lines that explain a
// failure are not the ones held back.
package logbuf

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// maxHeld is how much a Writer holds before a Write writes it out itself,
// so that a burst of lines never holds more than this in memory.
const maxHeld = 256 << 10

// Writer gathers what is written to it and writes it to out at every
// interval, when it holds maxHeld, and on Flush and Close. Safe for
// concurrent use; each Write reaches out whole and in order.
type Writer struct {
	out io.Writer

	outMu sync.Mutex // held while writing to out, so that batches stay in order
	mu    sync.Mutex // guards held and spare
	held  []byte
	spare []byte // the buffer last written out, for the next batch

	stop     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
}

// New returns a Writer that writes to out every interval.
func New(out io.Writer, interval time.Duration) *Writer {
	w := &Writer{out: out, stop: make(chan struct{}), stopped: make(chan struct{})}
	go w.run(interval)
	return w
}

func (w *Writer) run(interval time.Duration) {
	defer close(w.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			_ = w.Flush()
		}
	}
}

// Write holds a copy of p until the next write-out. It never fails: a
// failure to write out is Flush's to report (a log line that cannot be
// written is not its caller's error).
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.held = append(w.held, p...)
	full := len(w.held) >= maxHeld
	w.mu.Unlock()
	if full {
		_ = w.Flush()
	}
	return len(p), nil
}

// Flush writes out everything held.
func (w *Writer) Flush() error {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	w.mu.Lock()
	b := w.held
	w.held = w.spare[:0]
	w.mu.Unlock()
	var err error
	if len(b) > 0 {
		_, err = w.out.Write(b)
	}
	// The written buffer serves the next batch, unless a burst grew it.
	w.mu.Lock()
	if cap(b) <= 2*maxHeld {
		w.spare = b[:0]
	} else {
		w.spare = nil
	}
	w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("write the log: %w", err)
	}
	return nil
}

// Close stops the interval's write-outs and writes out what is held.
// Writes after Close are held until a Flush.
func (w *Writer) Close() error {
	w.stopOnce.Do(func() {
		close(w.stop)
		<-w.stopped
	})
	return w.Flush()
}
