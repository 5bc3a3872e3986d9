package api

import (
	"errors"

	"github.com/ethereum/go-ethereum/common"
)

// Config of the proof API role (fieldmint api), the `api:` section.
type Config struct {
	Listen      string `yaml:"listen" help:"listen address of the proof API, the claim page and the explorer"`
	RPC         string `yaml:"rpc" help:"Ethereum JSON-RPC endpoint the roots and claims are read from (empty: settle.rpc)"`
	Distributor string `yaml:"distributor" help:"RewardsDistributor contract address (empty: settle.distributor)"`
	FromBlock   uint64 `yaml:"fromBlock" help:"block the distributor was deployed in: its Claimed events are followed from there (0: settle.fromBlock)"`
}

// DefaultConfig returns the defaults: rpc and distributor come from the
// settle section unless set here.
func DefaultConfig() Config { return Config{Listen: "127.0.0.1:8081"} }

// Validate checks what the proof API needs: no key.
func (c Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("api: listen must be a host:port, e.g. 0.0.0.0:8081"))
	}
	if !common.IsHexAddress(c.Distributor) {
		errs = append(errs, errors.New("api: distributor (or settle.distributor) must be the RewardsDistributor's address"))
	}
	if c.RPC == "" {
		errs = append(errs, errors.New("api: rpc (or settle.rpc) must be a JSON-RPC endpoint: the proof API reads the active root from the chain"))
	}
	return errors.Join(errs...)
}
