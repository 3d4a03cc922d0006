// Package sdk is the Go driver runtime and API client of Conveyor. It never
// imports a server package of this project.
package sdk
