//go:build unix

package main

import "syscall"

// descriptorLimit is the process's limit on open files (RLIMIT_NOFILE), as
// Go raised it at start; 0 if unknown.
func descriptorLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur > 1<<30 {
		return 0
	}
	return int(l.Cur)
}
