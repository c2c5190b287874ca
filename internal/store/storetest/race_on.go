//go:build race

package storetest

// raceEnabled: the race detector slows the pure-Go SQLite many times over,
// so timing bounds are not checked under it.
const raceEnabled = true
