package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestMemoryReturner: after a transient the heap is returned once, and a
// heap that stays where it is (held by design) is not collected again and
// again.
func TestMemoryReturner(t *testing.T) {
	m := newMemoryReturner()
	m.check()
	transient(64)
	if !m.check() {
		t.Fatalf("64 MiB of garbage not returned (held %d, floor %d)", m.held(), m.floor)
	}
	if m.floor > 32<<20 {
		t.Errorf("held %d bytes after returning", m.floor)
	}
	if m.check() {
		t.Error("returned again with nothing new to return")
	}
}

// transient allocates n MiB and drops it, without a collection in between
// (GC off meanwhile), as a burst of work leaves the heap.
func transient(n int) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	garbage := make([][]byte, n)
	for i := range garbage {
		garbage[i] = make([]byte, 1<<20)
	}
	runtime.KeepAlive(garbage)
}
