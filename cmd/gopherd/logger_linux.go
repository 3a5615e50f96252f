package main

import "github.com/coreos/go-systemd/v22/journal"

// stderrJournal returns a sink to journald when stderr is the journal's
// stream (systemd sets JOURNAL_STREAM to its device and inode), else nil.
// A JOURNAL_STREAM that does not parse counts as not the journal.
func stderrJournal() journalSink {
	if !stderrIsJournal() {
		return nil
	}
	return func(msg string, priority int, fields map[string]string) error {
		return journal.Send(msg, journal.Priority(priority), fields)
	}
}

// stderrIsJournal reports whether stderr is the journal's stream.
func stderrIsJournal() bool {
	ok, err := journal.StderrIsJournalStream()
	return err == nil && ok
}
