package fglocal

import "syscall"

// sysProcAttr makes the kernel kill a function process if the emulator dies without
// cleaning up, so no orphan keeps a port or a database connection.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
