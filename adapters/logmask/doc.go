// Package logmask hides the values of a run's secrets in the log lines the
// server stores, whatever a driver or a client of POST /logs sent: the
// value as it is, in any ASCII case, percent-encoded, hex, and base64 (std
// and url alphabets, at any alignment), and a value cut by a line break
// between two lines of one stream. It is pure: the server's log intake
// (adapters/protocol) loads the values and stores the lines.
//
// What it does not catch is in docs/security.md: values shorter than
// MinSecretLen, other encodings or transformations, non-ASCII case
// variants, and a value split across lines with less than half of it
// before the break (those first bytes stay).
package logmask
