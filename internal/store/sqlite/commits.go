package sqlite

import (
	"context"
	"database/sql/driver"
	"sync/atomic"

	msqlite "modernc.org/sqlite"
)

// countingConnector opens the writer connection through a driver instance
// of its own, whose connection hook counts the commits of that connection:
// the writes a national service's operator (and the load tool) want to see
// per login. The readers are query-only and commit nothing. A driver of its
// own keeps the hook to this store, not to every SQLite database in the
// process.
type countingConnector struct {
	drv *msqlite.Driver
	dsn string
}

func newCountingConnector(dsn string, commits *atomic.Int64) *countingConnector {
	drv := &msqlite.Driver{}
	drv.RegisterConnectionHook(func(conn msqlite.ExecQuerierContext, _ string) error {
		if h, ok := conn.(msqlite.HookRegisterer); ok {
			h.RegisterCommitHook(func() int32 {
				commits.Add(1)
				return 0 // 0: let the commit proceed
			})
		}
		return nil
	})
	return &countingConnector{drv: drv, dsn: dsn}
}

func (c *countingConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c *countingConnector) Driver() driver.Driver                        { return c.drv }

// WriteTransactions returns how many write transactions this store has
// committed since it was opened. Concurrent logins' writes share commits
// (see batcher), so this is at most the number of writes.
func (s *Store) WriteTransactions() int64 { return s.commits.Load() }
