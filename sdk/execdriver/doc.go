// Package execdriver is the built-in exec driver, `conveyor driver exec`: it
// runs the script of a pipeline step's `with.run` in a workspace kept per
// run on the driver's host (or, for a step with `with.image`, in a container
// of that image run by docker or podman, the workspace mounted in it),
// streams each line of the script's output into the run's log, and reports
// its exit code, its last lines and the data it wrote to $CONVEYOR_OUTPUT
// as the step's result (docs/exec-driver.md).
//
// It also holds Group, which runs a command in a process group of its own
// and kills the whole group when the command's context ends: the exec
// driver runs its scripts with it, and a driver of its own may run commands
// with it too.
//
// Where it lives: DESIGN.md fixes the top level of the module, and a driver
// is a program built on the sdk. This package needs nothing but the sdk and
// the standard library, so it sits in the sdk's tree, under the sdk's
// import rule (no server package; layout_test.go checks it): the binary
// wires it to a command, and a driver author may embed it in a driver of
// their own.
//
// It works on Unix systems (process groups, signals).
package execdriver
