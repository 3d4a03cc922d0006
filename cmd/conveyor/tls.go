package main

import (
	"crypto/tls"
	"fmt"
)

// serverTLS loads the certificate and key of a listener, named by their
// flags in errors; nil when no certificate is given.
func serverTLS(certFlag, cert, key string) (*tls.Config, error) {
	if cert == "" {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", certFlag, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
