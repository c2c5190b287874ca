package storeutil

import (
	"context"
	"errors"
	"runtime"
)

// MaxBatch bounds how many queued writes one commit carries.
const MaxBatch = 64

// ErrClosed answers writes queued after Close.
var ErrClosed = errors.New("store: closed")

// ErrRerunAlone marks an error of a batch that one of its statements
// caused: the batch was rolled back, and its writes run again one by one.
var ErrRerunAlone = errors.New("store: a statement of the batch failed")

// Write is one single-statement write queued on a Batcher. Its outcome,
// Rows and Err, is set by the Batcher's callbacks.
type Write struct {
	Ctx   context.Context
	Query string
	Args  []any
	Rows  int64
	Err   error
	ready chan struct{}
}

// Batcher runs the single-statement writes of the login path (replay
// marks, sessions) so that concurrent logins share a commit. A commit's
// fixed cost (WAL frames and locks in SQLite; a round trip and a WAL flush
// in PostgreSQL) is most of a small write's cost.
//
// A write never waits on a timer: the batch is whatever queued while the
// previous one ran, and a lone write first yields once to the goroutines
// ready to run, which under load are often about to write too; idle, the
// yield costs nothing.
//
// The together callback runs a batch of two or more as one transaction
// and sets each write's outcome. If it returns an error, the transaction
// must have been rolled back. An error matching ErrRerunAlone (a statement
// failed) has every write run again through the alone callback, so that
// each caller gets exactly the outcome its write would have had alone; any
// other error (the database unreachable) is every write's outcome, rather
// than each write waiting out the same failure in turn.
type Batcher struct {
	together func([]*Write) error
	alone    func(*Write)
	reqs     chan *Write
	quit     chan struct{}
	done     chan struct{}
}

// NewBatcher starts a Batcher; Close stops it.
func NewBatcher(together func([]*Write) error, alone func(*Write)) *Batcher {
	b := &Batcher{together: together, alone: alone, reqs: make(chan *Write), quit: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// Exec runs query with args in the next commit and returns the rows it
// affected, once that commit is durable.
func (b *Batcher) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	w := &Write{Ctx: ctx, Query: query, Args: args, ready: make(chan struct{})}
	select {
	case b.reqs <- w:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-b.quit:
		return 0, ErrClosed
	}
	// Once taken, the write runs to its end even if ctx ends meanwhile, so
	// that its caller never reports a write as failed that was committed.
	<-w.ready
	return w.Rows, w.Err
}

// Close stops the Batcher after the batch in progress.
func (b *Batcher) Close() {
	close(b.quit)
	<-b.done
}

func (b *Batcher) run() {
	defer close(b.done)
	batch := make([]*Write, 0, MaxBatch)
	for {
		select {
		case w := <-b.reqs:
			batch = append(batch[:0], w)
		case <-b.quit:
			return
		}
		b.drain(&batch)
		if len(batch) == 1 {
			runtime.Gosched()
			b.drain(&batch)
		}
		b.write(batch)
		for _, w := range batch {
			close(w.ready)
		}
	}
}

// drain adds to batch what is queued now, up to MaxBatch.
func (b *Batcher) drain(batch *[]*Write) {
	for len(*batch) < MaxBatch {
		select {
		case w := <-b.reqs:
			*batch = append(*batch, w)
		default:
			return
		}
	}
}

func (b *Batcher) write(batch []*Write) {
	live := batch[:0:0]
	for _, w := range batch {
		if err := w.Ctx.Err(); err != nil {
			w.Err = err
			continue
		}
		live = append(live, w)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		b.runAlone(live[0])
		return
	}
	err := b.together(live)
	switch {
	case err == nil:
	case errors.Is(err, ErrRerunAlone):
		for _, w := range live {
			b.runAlone(w)
		}
	default:
		for _, w := range live {
			w.Rows, w.Err = 0, err
		}
	}
}

func (b *Batcher) runAlone(w *Write) {
	w.Rows, w.Err = 0, nil
	b.alone(w)
}
