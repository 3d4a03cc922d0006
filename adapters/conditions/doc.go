// Package conditions evaluates the `when` conditions of pipeline steps in
// CEL, the Common Expression Language that Kubernetes and Tekton use. It
// implements domain.Conditions: the domain decides what a condition sees
// and records the outcome; this package only compiles and evaluates.
package conditions
