//go:build !unix

package main

// lockDataDir does nothing where file locks are not available.
func lockDataDir(string) (func(), error) { return func() {}, nil }
