package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
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
func runDeployContracts(ctx context.Context, flags *flag.FlagSet, args []string, out io.Writer) error {
	rpc := flags.String("rpc", "", "Ethereum JSON-RPC endpoint (required)")
	guardian := flags.String("guardian", "", "address that may revoke a pending root and pause claims (required)")
	timelock := flags.Duration("timelock", 0, "how long a proposed root waits before it can be activated, whole seconds, e.g. 24h (required; 0 makes roots active at once)")
	emission := flags.String("emission-per-epoch", "", "tokens emitted per epoch, in base units (decimal, required; the settler's settle.emissionPerEpoch)")
	firstEpoch := flags.Uint64("first-epoch", 0, "the first epoch that emits (epoch = event time / aggregate.epochLength; required)")
	tok := flags.String("token", "", "pay in this existing ERC-20 instead of deploying the fieldmint token (transfer the pool to the distributor afterwards)")
	signers := flags.String("signers", "", "comma-separated addresses of the settlers whose signatures post roots (1 to 32); empty: --poster, or else the deployer")
	threshold := flags.Uint("threshold", 0, "how many of --signers must sign each root: more than half and at most all (0: the smallest majority)")
	poster := flags.String("poster", "", "one address that signs and posts roots alone (a 1-of-1 --signers); empty: the deployer")
	pool := flags.String("pool", "", "base units the new token mints to the distributor; empty: 100,000 epochs' emission")
	confirmations := flags.Uint64("confirmations", 2, "blocks (the deployment's included) to wait for before checking and printing")
	keyFile := flags.String("key-file", "", "file holding the deployer's hex private key (else env FIELDMINT_DEPLOY_KEY; never a flag value)")
	env := flags.Bool("env", false, "print the FIELDMINT_*=value lines the settler and the proof API read, instead of JSON")
	outFile := flags.String("out", "", "write the output to this file instead of stdout (roles read --env output with FIELDMINT_ENV_FILE); if it exists, an earlier run deployed: check that its distributor has code on chain and deploy nothing")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("deploy-contracts: unexpected arguments %q", flags.Args())
	}
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var missing []string
	for _, name := range []string{"rpc", "guardian", "timelock", "emission-per-epoch", "first-epoch"} {
		if !set[name] {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("deploy-contracts: %s required (fieldmint deploy-contracts --help)", strings.Join(missing, ", "))
	}
	progress := flags.Output() // stderr; the test's buffer
	if *outFile != "" {
		if recorded, err := os.ReadFile(*outFile); err == nil {
			return roles.CheckRecorded(ctx, *rpc, *outFile, recorded, progress)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("deploy-contracts: --out: %w", err)
		}
	}
	key, err := roles.ReadKey("deploy-contracts", "FIELDMINT_DEPLOY_KEY", *keyFile)
	if err != nil {
		return err
	}
	o := roles.DeployOptions{RPC: *rpc, Key: key, Timelock: *timelock, FirstEpoch: *firstEpoch, Confirmations: max(*confirmations, 1)}
	for _, a := range []struct {
		flag, value string
		dst         *common.Address
	}{{"guardian", *guardian, &o.Guardian}, {"token", *tok, &o.Token}} {
		if a.value == "" {
			continue
		}
		if !common.IsHexAddress(a.value) {
			return fmt.Errorf("deploy-contracts: --%s %q is not an address", a.flag, a.value)
		}
		*a.dst = common.HexToAddress(a.value)
	}
	if o.Signers, o.Threshold, err = roles.ParseSigners(*signers, *poster, *threshold); err != nil {
		return err
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
	d, err := roles.DeployContracts(ctx, o, progress)
	if err != nil {
		return err
	}
	var result []byte
	if *env {
		result = []byte(d.Env(o))
	} else if result, err = json.Marshal(d); err != nil {
		return err
	}
	if !*env {
		result = append(result, '\n')
	}
	if *outFile == "" {
		_, err = out.Write(result)
		return err
	}
	return roles.WriteRecord(*outFile, result, progress)
}
