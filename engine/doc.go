// Package engine is the pipeline engine: the run state machine and the process
// manager that reacts to resource and result events and dispatches work.
//
// It imports domain, commands and projections of this project and no
// infrastructure library; dispatch goes through a port that adapters implement.
package engine
