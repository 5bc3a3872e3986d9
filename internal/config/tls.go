package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLS is a client's TLS: on or off, the CAs it trusts, and a certificate of
// its own when the server asks for one (mutual TLS).
type TLS struct {
	Enabled    bool   `yaml:"enabled" help:"connect over TLS"`
	CAFile     string `yaml:"caFile" help:"PEM file of the certificate authorities to trust (empty: the system's)"`
	CertFile   string `yaml:"certFile" help:"PEM file of this client's certificate, for servers that require one (mutual TLS)"`
	KeyFile    string `yaml:"keyFile" help:"PEM file of the private key of certFile"`
	ServerName string `yaml:"serverName" help:"name the server's certificate must carry (empty: the host dialled)"`
}

// Config returns the crypto/tls configuration, or nil when TLS is off.
func (t TLS) Config() (*tls.Config, error) {
	if !t.Enabled {
		if t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" {
			return nil, errors.New("tls: caFile, certFile, keyFile or serverName set while tls.enabled is false: enable it or leave them out")
		}
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.caFile: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.caFile %s holds no PEM certificate", t.CAFile)
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("tls: certFile and keyFile go together: set both or neither")
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.certFile/keyFile: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
