package cputime

import (
	"runtime"
	"testing"
	"time"
)

// The thread's clock advances with work done on the thread and not with
// time spent asleep.
func TestThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok := Thread()
	if !ok {
		if runtime.GOOS == "linux" {
			t.Fatal("no thread clock on linux")
		}
		t.Skip("no thread clock on " + runtime.GOOS)
	}
	sum := 0
	for i := range 20_000_000 {
		sum += i % 7
	}
	t1, _ := Thread()
	if t1 <= t0 || sum == 0 {
		t.Fatalf("clock did not advance with work: %v -> %v", t0, t1)
	}
	time.Sleep(50 * time.Millisecond)
	t2, _ := Thread()
	if slept := t2 - t1; slept >= 50*time.Millisecond {
		t.Errorf("clock advanced %v while the thread slept 50 ms", slept)
	}
}
