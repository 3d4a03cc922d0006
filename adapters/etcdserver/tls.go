package etcdserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
)

// The embedded etcd takes only clients that present a certificate of its
// own authority (mutual TLS), on its client and its peer port alike: any
// process on the machine can reach a loopback port, and without this one
// could rewrite the read models (a succeeded run read as failed).
//
// The authority is made anew at every start and its key is never written:
// the certificates of the last start stop working when the server restarts,
// and nothing on disk can sign new ones. What is written, in TLSDir, readable
// by the owner alone, is what a client needs (the authority's certificate and
// a client certificate with its key, for the test harnesses and for an
// operator's etcdctl) and what etcd itself needs (its member certificate,
// which it also presents as a client to itself and on the peer port).
// Generating them costs about a millisecond of start-up; a client pays one
// TLS handshake per connection and symmetric encryption per request.

// Files in TLSDir.
const (
	CAFile         = "ca.crt"
	ClientCertFile = "client.crt"
	ClientKeyFile  = "client.key"
	memberCertFile = "member.crt"
	memberKeyFile  = "member.key"
)

// TLSDir is where the certificates of the embedded etcd whose data
// directory is dir are.
func TLSDir(dir string) string { return filepath.Join(dir, "tls") }

// ClientTLS is the client configuration of the embedded etcd whose data
// directory is dir, as its last start wrote it: for a process other than the
// server (a test, a tool) that needs to read the read models directly.
func ClientTLS(dir string) (*tls.Config, error) {
	tlsDir := TLSDir(dir)
	return (transport.TLSInfo{
		CertFile:      filepath.Join(tlsDir, ClientCertFile),
		KeyFile:       filepath.Join(tlsDir, ClientKeyFile),
		TrustedCAFile: filepath.Join(tlsDir, CAFile),
	}).ClientConfig()
}

// certValidity is long: the authority lasts only until the next start.
const certValidity = 10 * 365 * 24 * time.Hour

// issued is what writeCertificates made: etcd's TLS settings for its
// listeners and the server's own client configuration.
type issued struct {
	member transport.TLSInfo
	client *tls.Config
}

// writeCertificates makes a new authority, a member certificate valid for
// hosts and a client certificate, and writes them into dir (0700, files
// 0600).
func writeCertificates(dir string, hosts []string) (issued, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return issued{}, fmt.Errorf("etcdserver: tls directory: %w", err)
	}
	// MkdirAll leaves an existing directory's mode as it was.
	if err := os.Chmod(dir, 0o700); err != nil {
		return issued{}, fmt.Errorf("etcdserver: tls directory: %w", err)
	}
	now := time.Now()
	caKey, caCert, caDER, err := newCA(now)
	if err != nil {
		return issued{}, err
	}
	memberKey, memberDER, err := sign(caCert, caKey, now, "conveyor-etcd-member", hosts,
		[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth})
	if err != nil {
		return issued{}, err
	}
	clientKey, clientDER, err := sign(caCert, caKey, now, "conveyor-server", nil, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	if err != nil {
		return issued{}, err
	}
	files := map[string][]byte{
		CAFile:         pemBlock("CERTIFICATE", caDER),
		memberCertFile: pemBlock("CERTIFICATE", memberDER),
		memberKeyFile:  pemBlock("PRIVATE KEY", memberKey),
		ClientCertFile: pemBlock("CERTIFICATE", clientDER),
		ClientKeyFile:  pemBlock("PRIVATE KEY", clientKey),
	}
	for name, data := range files {
		if err := writePrivate(filepath.Join(dir, name), data); err != nil {
			return issued{}, err
		}
	}
	clientPair, err := tls.X509KeyPair(files[ClientCertFile], files[ClientKeyFile])
	if err != nil {
		return issued{}, fmt.Errorf("etcdserver: client certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	return issued{
		member: transport.TLSInfo{
			CertFile: filepath.Join(dir, memberCertFile), KeyFile: filepath.Join(dir, memberKeyFile),
			TrustedCAFile: filepath.Join(dir, CAFile), ClientCertAuth: true,
		},
		client: &tls.Config{Certificates: []tls.Certificate{clientPair}, RootCAs: roots, MinVersion: tls.VersionTLS12},
	}, nil
}

func newCA(now time.Time) (*ecdsa.PrivateKey, *x509.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "conveyor embedded etcd authority"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certValidity),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("etcdserver: authority: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, der, err
}

// sign issues a certificate for a new key and returns the key (PKCS #8) and
// the certificate, both DER.
func sign(ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time, name string, hosts []string, usage []x509.ExtKeyUsage) ([]byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certValidity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("etcdserver: certificate %s: %w", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	return keyDER, der, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

// writePrivate replaces path with data, readable by the owner alone; a
// reader never sees half a file.
func writePrivate(path string, data []byte) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("etcdserver: %w", err)
	}
	// WriteFile keeps the mode of a file left over from a failed start.
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("etcdserver: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(fmt.Errorf("etcdserver: %w", err), os.Remove(tmp))
	}
	return nil
}
