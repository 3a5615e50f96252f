// Command gopherd serves a directory tree over the Gopher protocol (RFC 1436).
//
// Usage:
//
//	gopherd [flags] [CONFIG]
//
// Without CONFIG it serves the current directory on 127.0.0.1:7070. See
// gopherd(8) and gopherd.json(5).
package main

import (
	"os"
)

// version is set by the Makefile with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Version: version}
	os.Exit(m.Run(os.Args[1:]))
}
