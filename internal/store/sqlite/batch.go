package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
)

// maxBatch bounds how many queued writes one commit carries.
const maxBatch = 64

// errClosed answers writes queued after Close.
var errClosed = errors.New("store: closed")

// batcher runs the single-statement writes of the login path (replay marks,
// sessions, transactions) on the one writer connection and commits what is
// queued together: concurrent logins share a commit. A commit's fixed cost
// (the WAL frames, the index pages, the locks) was half of a replay mark's
// 62 µs alone; in batches of four it is 32 µs a write, of sixteen 20 µs.
// A write never waits on a timer: the batch is whatever queued while the
// previous one ran, and a lone write first yields once to the goroutines
// ready to run. Under load that lifted the writes a commit carries from
// 1.2 to 5.5 (0.54 commits per OIDC login instead of 2.47); idle, the
// yield costs nothing.
type batcher struct {
	db    *sql.DB
	stmts *stmtCache
	reqs  chan *writeReq
	quit  chan struct{}
	done  chan struct{}
}

type writeReq struct {
	ctx   context.Context
	query string
	args  []any
	// Outcome, valid once ready is closed.
	rows  int64
	err   error
	ready chan struct{}
}

func newBatcher(db *sql.DB, stmts *stmtCache) *batcher {
	b := &batcher{db: db, stmts: stmts, reqs: make(chan *writeReq), quit: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// exec runs query with args in the next commit and returns the rows it
// affected, once that commit is durable.
func (b *batcher) exec(ctx context.Context, query string, args ...any) (int64, error) {
	r := &writeReq{ctx: ctx, query: query, args: args, ready: make(chan struct{})}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-b.quit:
		return 0, errClosed
	}
	// Once taken, the write runs to its end even if ctx ends meanwhile, so
	// that its caller never reports a write as failed that was committed.
	<-r.ready
	return r.rows, r.err
}

func (b *batcher) close() {
	close(b.quit)
	<-b.done
}

func (b *batcher) run() {
	defer close(b.done)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		case <-b.quit:
			return
		}
		b.drain(&batch)
		if len(batch) == 1 {
			// Alone so far: let the goroutines that are ready to run
			// go first, in case they are about to write too. On an idle
			// server there are none and this returns at once.
			runtime.Gosched()
			b.drain(&batch)
		}
		b.write(batch)
		for _, r := range batch {
			close(r.ready)
		}
	}
}

// drain adds to batch what is queued now, up to maxBatch.
func (b *batcher) drain(batch *[]*writeReq) {
	for len(*batch) < maxBatch {
		select {
		case r := <-b.reqs:
			*batch = append(*batch, r)
		default:
			return
		}
	}
}

// write runs a batch: alone when it is one write, else in one transaction.
// If any statement of the transaction fails, or its commit, the whole
// transaction is rolled back and every write runs again on its own, so that
// each caller gets exactly the outcome its write would have had alone.
func (b *batcher) write(batch []*writeReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 1 {
		b.writeAlone(live[0])
		return
	}
	if len(live) == 0 || b.writeTogether(live) == nil {
		return
	}
	for _, r := range live {
		b.writeAlone(r)
	}
}

func (b *batcher) writeAlone(r *writeReq) {
	r.rows, r.err = 0, nil
	st, err := b.stmts.get(r.ctx, b.db, r.query)
	if err != nil {
		r.err = err
		return
	}
	// Not r.ctx: an interrupted write statement in SQLite can roll back
	// more than itself; the statements here are single-row and short.
	res, err := st.ExecContext(context.Background(), r.args...)
	if err != nil {
		r.err = err
		return
	}
	r.rows, r.err = res.RowsAffected()
}

func (b *batcher) writeTogether(batch []*writeReq) error {
	ctx := context.Background()
	// Prepared before the transaction takes the only writer connection:
	// preparing inside it would wait for that connection forever.
	stmts := make([]*sql.Stmt, len(batch))
	for i, r := range batch {
		st, err := b.stmts.get(ctx, b.db, r.query)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		stmts[i] = st
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	for i, r := range batch {
		res, err := tx.StmtContext(ctx, stmts[i]).ExecContext(ctx, r.args...)
		if err == nil {
			r.rows, err = res.RowsAffected()
		}
		if err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
