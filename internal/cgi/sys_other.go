//go:build !linux

package cgi

import "errors"

// supported is false: without waitid's WNOWAIT the program would have to
// be reaped before its process group is signalled, and the group's ID
// could meanwhile belong to a stranger. New refuses to build a Gateway.
const supported = false

func (p *process) waitExit() { close(p.exited) }

func closeOnExecAll() error { return errors.New("not supported") }
