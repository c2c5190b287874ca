//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// crossProcessLocks says whether lockFile holds across processes here.
const crossProcessLocks = true

// lockFile takes an exclusive flock(2) on the file at path, creating it, or
// returns errLockHeld at once. The lock belongs to the open file, so it
// holds against other processes and against another Store of this one, and
// the kernel drops it when the process dies: a crash never leaves a lock
// behind. release closes the file, which releases the lock; the file stays,
// since removing it would let a waiter and a newcomer lock two different
// files of one name.
func lockFile(path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLockHeld
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
