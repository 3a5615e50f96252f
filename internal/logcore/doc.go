// Package logcore holds zap cores that keep logging from harming serving.
//
// Async is a bounded asynchronous core: a log call encodes its line and
// queues it, and one background writer hands the queue to the real output.
// When the output stalls (a wedged journald, a pipe nobody reads, a full
// disk behind a slow terminal) the queue fills up to its bound, further
// lines are dropped and counted, and once the output moves again a warning
// line says how many were lost. A log call therefore never waits for the
// output: a stalled reader costs log lines, never served requests.
//
// The package knows nothing about the program's configuration or its
// outputs; cmd/gopherd builds the logger and wraps its core here.
package logcore
