package sdk

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// EnvCACert names the environment variable that holds the path of a PEM CA
// certificate to trust, beside the system's, for a server with a
// self-signed or private certificate: the API over https and NATS over tls.
const EnvCACert = "CONVEYOR_CA_CERT"

// WithCACert trusts the PEM certificates in the file at path, beside the
// system's, when the server speaks https. It replaces the transport of the
// HTTP client set so far and keeps its timeout.
func WithCACert(path string) ClientOption {
	return func(c *Client) error {
		pool, err := certPool(path)
		if err != nil {
			return err
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		c.http = &http.Client{Timeout: c.http.Timeout, Transport: t}
		return nil
	}
}

// certPool is the system's pool plus the certificates in the file at path.
func certPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sdk: CA certificate: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, errors.New("sdk: CA certificate " + path + " holds no PEM certificate")
	}
	return pool, nil
}
