// Package cputime reads the CPU time of the calling OS thread, so that one
// operation's CPU cost can be measured while other goroutines run: time the
// thread spends waiting for a core does not count, as it does in a wall
// clock's reading.
package cputime

import "time"

// Thread returns the CPU time the calling OS thread has used, and false on
// a system where it cannot be read. The caller keeps its goroutine on the
// thread between two readings (runtime.LockOSThread): otherwise they may be
// two threads' clocks.
func Thread() (time.Duration, bool) { return thread() }
