// Package embedtest starts real embedded NATS and etcd servers for tests,
// each in its own temporary directory on free loopback ports, stopped when
// the test ends. Tests use the real servers; nothing is mocked. Only tests
// import it.
package embedtest
