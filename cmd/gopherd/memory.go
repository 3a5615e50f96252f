package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Returning memory after a transient. A burst of work (a huge directory
// listed, a large map rendered, thousands of connections) leaves the heap
// with garbage and free pages that the Go runtime gives back to the system
// only slowly: garbage waits for the next collection, which an idle process
// forces only every two minutes, and the background scavenger then releases
// pages a few at a time. memoryReturner looks every returnEvery at the heap
// the process holds and, when it has grown more than returnAbove beyond
// what was live after the last return, collects and releases at once
// (debug.FreeOSMemory). Held by design (the caches are full), the heap then
// stays where it is: the next return waits until it grows again. The
// figures that chose this over a default GOMEMLIMIT, which does nothing
// until the heap nears the limit and costs CPU while it is there, are in
// BENCHMARKS.md.
const (
	returnEvery = 5 * time.Second
	returnAbove = 16 << 20
)

// memoryReturner returns memory after transients; run it in a goroutine.
type memoryReturner struct {
	samples []metrics.Sample
	// floor is the heap held after the last return.
	floor uint64
}

func newMemoryReturner() *memoryReturner {
	return &memoryReturner{samples: []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}}
}

// held is the heap memory the process holds from the system: objects (live
// or garbage), space in their spans, and free pages not yet released.
func (m *memoryReturner) held() uint64 {
	metrics.Read(m.samples)
	var n uint64
	for _, s := range m.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			n += s.Value.Uint64()
		}
	}
	return n
}

// check returns memory when the heap has grown past the floor, and reports
// whether it did.
func (m *memoryReturner) check() bool {
	if m.held() <= m.floor+returnAbove {
		return false
	}
	debug.FreeOSMemory()
	m.floor = m.held()
	return true
}

// run checks every returnEvery until ctx ends.
func (m *memoryReturner) run(ctx context.Context) {
	t := time.NewTicker(returnEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.check()
		}
	}
}
