//go:build !linux

package fglocal

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
