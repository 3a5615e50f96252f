// Package hupguard makes a SIGHUP that arrives while gopherd starts
// harmless. SIGHUP's default action ends the process, and so does the Go
// runtime's handler until main asks for the signal; main does so first
// thing, but every package is initialised before main runs, which on a cold
// start takes a millisecond or two. Imported first by main, this package
// ignores SIGHUP from the moment its own init runs, right after os/signal's,
// until main's signal.Notify takes the signal over.
//
// Ignoring is right here, not just harmless: a reload asked for before main
// has read the configuration is satisfied by that first read. What comes
// before this init (the kernel's default until the Go runtime installs its
// handlers, then the runtime's, while it starts up) no program can change;
// see the SIGHUP figures in BENCHMARKS.md.
//
// It is the one init function with an effect in gopherd, and the one place
// besides main that touches signal dispositions.
package hupguard

import (
	"os/signal"
	"syscall"
)

func init() {
	signal.Ignore(syscall.SIGHUP)
}
