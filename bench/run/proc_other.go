//go:build !linux

package main

import "os/exec"

// dieWithParent is a no-op where the kernel has no parent-death signal; the
// driver's deferred stops still end the servers on a normal or interrupted run.
func dieWithParent(*exec.Cmd) {}
