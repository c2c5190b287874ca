//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package sqlite

// crossProcessLocks says whether lockFile holds across processes here.
const crossProcessLocks = false

// lockFile has no flock(2) to use on this system: the named locks hold
// within the process only, as the package documentation says.
func lockFile(string) (release func(), err error) { return func() {}, nil }
