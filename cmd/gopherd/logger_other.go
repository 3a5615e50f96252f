//go:build !linux

package main

// stderrJournal returns nil: the journal is systemd's, and systemd runs on
// Linux only.
func stderrJournal() journalSink { return nil }

// stderrIsJournal reports false: there is no journal.
func stderrIsJournal() bool { return false }
