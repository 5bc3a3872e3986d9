package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/roles"
)

// runDeployContracts is `fieldmint deploy-contracts`: the token (or an
// existing ERC-20) and the distributor, deployed, confirmed and checked;
// stdout is one JSON object (or, with --env, the FIELDMINT_* lines the
// roles read), progress goes to stderr.
func runDeployContracts(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	rpc := fs.String("rpc", "", "Ethereum JSON-RPC endpoint (required)")
	guardian := fs.String("guardian", "", "address that may revoke a pending root and pause claims (required)")
	timelock := fs.Duration("timelock", 0, "how long a proposed root waits before it can be activated, whole seconds, e.g. 24h (required; 0 makes roots active at once)")
	emission := fs.String("emission-per-epoch", "", "tokens emitted per epoch, in base units (decimal, required; the settler's settle.emissionPerEpoch)")
	firstEpoch := fs.Uint64("first-epoch", 0, "the first epoch that emits (epoch = event time / aggregate.epochLength; required)")
	tok := fs.String("token", "", "pay in this existing ERC-20 instead of deploying the fieldmint token (transfer the pool to the distributor afterwards)")
	poster := fs.String("poster", "", "address allowed to post roots (the settler's key); empty: the deployer")
	pool := fs.String("pool", "", "base units the new token mints to the distributor; empty: 100,000 epochs' emission")
	confirmations := fs.Uint64("confirmations", 2, "blocks (the deployment's included) to wait for before checking and printing")
	keyFile := fs.String("key-file", "", "file holding the deployer's hex private key (else env FIELDMINT_DEPLOY_KEY; never a flag value)")
	env := fs.Bool("env", false, "print the FIELDMINT_*=value lines the settler and the proof API read, instead of JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("deploy-contracts: unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var missing []string
	for _, name := range []string{"rpc", "guardian", "timelock", "emission-per-epoch", "first-epoch"} {
		if !set[name] {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("deploy-contracts: %s required (fieldmint deploy-contracts --help)", strings.Join(missing, ", "))
	}
	key, err := readKey("deploy-contracts", "FIELDMINT_DEPLOY_KEY", *keyFile)
	if err != nil {
		return err
	}
	o := roles.DeployOptions{RPC: *rpc, Key: key, Timelock: *timelock, FirstEpoch: *firstEpoch, Confirmations: max(*confirmations, 1)}
	for _, a := range []struct {
		flag, value string
		dst         *common.Address
	}{{"guardian", *guardian, &o.Guardian}, {"poster", *poster, &o.Poster}, {"token", *tok, &o.Token}} {
		if a.value == "" {
			continue
		}
		if !common.IsHexAddress(a.value) {
			return fmt.Errorf("deploy-contracts: --%s %q is not an address", a.flag, a.value)
		}
		*a.dst = common.HexToAddress(a.value)
	}
	var ok bool
	if o.Emission, ok = new(big.Int).SetString(*emission, 10); !ok {
		return fmt.Errorf("deploy-contracts: --emission-per-epoch %q is not a decimal integer of base units", *emission)
	}
	if *pool == "" {
		o.Pool = new(big.Int).Mul(o.Emission, big.NewInt(100_000))
	} else if o.Pool, ok = new(big.Int).SetString(*pool, 10); !ok {
		return fmt.Errorf("deploy-contracts: --pool %q is not a decimal integer of base units", *pool)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	d, err := roles.DeployContracts(ctx, o, os.Stderr)
	if err != nil {
		return err
	}
	if *env {
		_, err = io.WriteString(out, d.Env(o))
		return err
	}
	return json.NewEncoder(out).Encode(d)
}
