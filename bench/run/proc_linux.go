package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the server if the driver dies without
// stopping it (SIGKILL, a crash), so no benchmark server outlives the run.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
