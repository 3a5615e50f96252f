//go:build race

package e2e

// raceEnabled builds the daemon under test with the race detector too, so
// `go test -race` covers the real binary and not just the test process.
const raceEnabled = true
