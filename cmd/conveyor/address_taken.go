package main

import (
	"errors"
	"fmt"
	"syscall"
)

// addressTaken is err, and when it says that address is taken by another
// process, the flag that chooses another address.
func addressTaken(err error, flag, address string) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	return fmt.Errorf("%s is taken by another process (a Conveyor already running?): stop it, or choose another address with --%s: %w", address, flag, err)
}
