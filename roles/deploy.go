package roles

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/internal/chain"
)

// DeployOptions are what `fieldmint deploy-contracts` deploys.
type DeployOptions struct {
	RPC      string
	Key      *ecdsa.PrivateKey // the deployer; pays the gas
	Guardian common.Address    // may revoke a pending root and pause claims
	// Signers propose roots, Threshold of them together (0: a majority).
	// None: the deployer alone, a 1-of-1 set.
	Signers   []common.Address
	Threshold uint8
	// Token is an existing ERC-20 the distributor pays in; zero: deploy the
	// fieldmint token, minting Pool to the distributor.
	Token         common.Address
	Pool          *big.Int
	Timelock      time.Duration // whole seconds
	Emission      *big.Int      // base units per epoch
	FirstEpoch    uint64
	Confirmations uint64 // blocks (the deployment's included) to wait for
}

// Deployment is what deploy-contracts prints: what the roles need.
type Deployment struct {
	ChainID     uint64 `json:"chainId"`
	Token       string `json:"token"`
	Distributor string `json:"distributor"`
	DeployBlock uint64 `json:"deployBlock"`
}

// Env returns the FIELDMINT_* lines the settler and the proof API read for
// this deployment.
func (d Deployment) Env(o DeployOptions) string {
	return fmt.Sprintf("FIELDMINT_SETTLE_RPC=%s\nFIELDMINT_SETTLE_DISTRIBUTOR=%s\nFIELDMINT_SETTLE_FROMBLOCK=%d\nFIELDMINT_SETTLE_EMISSIONPEREPOCH=%s\nFIELDMINT_SETTLE_GUARDIAN=%s\n",
		o.RPC, d.Distributor, d.DeployBlock, o.Emission, o.Guardian.Hex())
}

// DeployContracts deploys the token (unless o.Token names one) and the
// distributor, waits for o.Confirmations, and checks that the code on chain
// is this build's contracts with these settings. Progress goes to progress.
func DeployContracts(ctx context.Context, o DeployOptions, progress io.Writer) (Deployment, error) {
	switch {
	case o.Key == nil:
		return Deployment{}, errors.New("deploy-contracts: no deployer key")
	case o.Guardian == (common.Address{}):
		return Deployment{}, errors.New("deploy-contracts: --guardian is required (the address that may revoke a pending root)")
	case o.Emission == nil || o.Emission.Sign() <= 0:
		return Deployment{}, errors.New("deploy-contracts: --emission-per-epoch must be a positive integer of base units")
	case o.Timelock < 0 || o.Timelock%time.Second != 0:
		return Deployment{}, fmt.Errorf("deploy-contracts: --timelock must be whole seconds, got %s", o.Timelock)
	case o.Token == (common.Address{}) && (o.Pool == nil || o.Pool.Sign() <= 0):
		return Deployment{}, errors.New("deploy-contracts: --pool must be a positive integer of base units (the tokens minted to the distributor)")
	}
	signers := o.Signers
	if len(signers) == 0 {
		signers = []common.Address{chain.Address(o.Key)}
	}
	client, err := ethclient.DialContext(ctx, o.RPC)
	if err != nil {
		return Deployment{}, fmt.Errorf("deploy-contracts: dial %s: %w", o.RPC, err)
	}
	defer client.Close()
	id, err := client.ChainID(ctx)
	if err != nil {
		return Deployment{}, fmt.Errorf("deploy-contracts: %s: chain id: %w", o.RPC, err)
	}
	s := chain.Settings{Signers: signers, Threshold: o.Threshold, Guardian: o.Guardian, Timelock: uint64(o.Timelock / time.Second), EmissionPerEpoch: o.Emission, FirstEpoch: o.FirstEpoch}
	if err := s.Check(); err != nil {
		return Deployment{}, fmt.Errorf("deploy-contracts: %w", err)
	}
	names := make([]string, len(signers))
	for i, a := range signers {
		names[i] = a.Hex()
	}
	k := o.Threshold
	if k == 0 {
		k = uint8(len(signers)/2 + 1)
	}
	fmt.Fprintf(progress, "deploy-contracts: chain %s, deployer %s, signers %s (%d of %d sign each root), guardian %s, timelock %s\n",
		id, chain.Address(o.Key).Hex(), strings.Join(names, ","), k, len(signers), o.Guardian.Hex(), o.Timelock)
	var c chain.Contracts
	pool := o.Pool
	if o.Token != (common.Address{}) {
		pool = nil
		fmt.Fprintf(progress, "deploy-contracts: deploying the distributor, paying in the ERC-20 at %s ...\n", o.Token.Hex())
		c, err = chain.DeployDistributor(ctx, client, o.Key, o.Token, s)
	} else {
		fmt.Fprintf(progress, "deploy-contracts: deploying the token (minting %s base units to the distributor) and the distributor ...\n", pool)
		c, err = chain.Deploy(ctx, client, o.Key, s, pool)
	}
	if err != nil {
		return Deployment{}, fmt.Errorf("deploy-contracts: %w", err)
	}
	fmt.Fprintf(progress, "deploy-contracts: distributor %s in block %d; waiting for %d confirmations ...\n", c.Distributor.Hex(), c.Block, o.Confirmations)
	if err := chain.WaitConfirmed(ctx, client, c.Block, o.Confirmations); err != nil {
		return Deployment{}, fmt.Errorf("deploy-contracts: %w", err)
	}
	if err := chain.CheckDeployed(ctx, client, c, s, pool); err != nil {
		return Deployment{}, fmt.Errorf("deploy-contracts: %w", err)
	}
	fmt.Fprintln(progress, "deploy-contracts: the code on chain is this build's contracts")
	if o.Token != (common.Address{}) {
		fmt.Fprintf(progress, "deploy-contracts: the distributor holds none of %s yet: transfer the pool to %s before the first claim\n", o.Token.Hex(), c.Distributor.Hex())
	}
	return Deployment{ChainID: id.Uint64(), Token: c.Token.Hex(), Distributor: c.Distributor.Hex(), DeployBlock: c.Block}, nil
}

// CheckRecorded handles deploy-contracts --out naming a file an earlier run wrote: the
// distributor it records must have code on chain (a dev chain reset since
// loses it), and nothing is deployed again.
func CheckRecorded(ctx context.Context, rpc, path string, recorded []byte, progress io.Writer) error {
	var d Deployment
	if json.Unmarshal(recorded, &d) != nil {
		for _, line := range strings.Split(string(recorded), "\n") {
			if v, ok := strings.CutPrefix(line, "FIELDMINT_SETTLE_DISTRIBUTOR="); ok {
				d.Distributor = strings.TrimSpace(v)
			}
		}
	}
	if !common.IsHexAddress(d.Distributor) {
		return fmt.Errorf("deploy-contracts: %s exists but names no distributor: delete it to deploy anew", path)
	}
	client, err := ethclient.DialContext(ctx, rpc)
	if err != nil {
		return fmt.Errorf("deploy-contracts: dial %s: %w", rpc, err)
	}
	defer client.Close()
	code, err := client.CodeAt(ctx, common.HexToAddress(d.Distributor), nil)
	if err != nil {
		return fmt.Errorf("deploy-contracts: %w", err)
	}
	if len(code) == 0 {
		return fmt.Errorf("deploy-contracts: %s records distributor %s, which has no code on chain (a new or reset chain?): delete the file to deploy anew", path, d.Distributor)
	}
	fmt.Fprintf(progress, "deploy-contracts: %s exists and its distributor %s is on chain; nothing deployed\n", path, d.Distributor)
	return nil
}

// WriteRecord writes deploy-contracts' output to path whole or not at all:
// a half file would read as a deployment.
func WriteRecord(path string, data []byte, progress io.Writer) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("deploy-contracts: --out: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("deploy-contracts: --out: %w", err)
	}
	fmt.Fprintf(progress, "deploy-contracts: wrote %s\n", path)
	return nil
}

// ParseSigners reads deploy-contracts --signers (or --poster, a 1-of-1
// set) and --threshold.
func ParseSigners(list, poster string, threshold uint) ([]common.Address, uint8, error) {
	switch {
	case list != "" && poster != "":
		return nil, 0, errors.New("deploy-contracts: give --signers or --poster, not both (--poster A is --signers A --threshold 1)")
	case poster != "":
		list, threshold = poster, 1
	case list == "" && threshold > 1:
		return nil, 0, errors.New("deploy-contracts: --threshold needs --signers")
	}
	if threshold > 32 {
		return nil, 0, fmt.Errorf("deploy-contracts: --threshold %d: at most 32 signers", threshold)
	}
	var out []common.Address
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if !common.IsHexAddress(a) {
			return nil, 0, fmt.Errorf("deploy-contracts: signer %q is not an address", a)
		}
		out = append(out, common.HexToAddress(a))
	}
	return out, uint8(threshold), nil
}
