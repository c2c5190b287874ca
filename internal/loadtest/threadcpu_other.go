//go:build !linux

package loadtest

import "time"

// threadCPU is not measured here: the signature's cost during a run is
// then not reported.
func threadCPU() (time.Duration, bool) { return 0, false }
