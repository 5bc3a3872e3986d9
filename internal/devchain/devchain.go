// Package devchain runs a single-node Ethereum development chain in process:
// go-ethereum's full node with the simulated beacon (what ethclient/simulated
// and `geth --dev` use), serving JSON-RPC over HTTP, persisted in a data
// directory so that a restart resumes the chain, after a clean close or a
// kill -9 alike. A block is sealed as soon as
// a transaction arrives, and an empty one every few seconds so that block
// time keeps moving.
package devchain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/fieldmint/fieldmint/internal/freeport"
)

// ChainID is the dev chain's id (go-ethereum's dev chain id).
var ChainID = params.AllDevChainProtocolChanges.ChainID

// Options of a dev chain.
type Options struct {
	DataDir     string                      // empty: in memory
	Host        string                      // JSON-RPC listen host; empty: 127.0.0.1
	Port        int                         // JSON-RPC port; 0: a free one
	Alloc       map[common.Address]*big.Int // genesis balances; must be the same on every restart
	EmptyBlocks time.Duration               // interval of empty blocks; 0: 5s
}

// Chain is a running dev chain.
type Chain struct {
	URL    string // JSON-RPC endpoint
	stack  *node.Node
	beacon *catalyst.SimulatedBeacon
	db     ethdb.KeyValueSyncer // the chain database, synced after each block
	mu     sync.Mutex           // serializes sealing
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// Start starts the chain.
func Start(o Options) (*Chain, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		var err error
		if o.Port, err = freeport.Port(o.Host); err != nil {
			return nil, err
		}
	}
	if o.EmptyBlocks == 0 {
		o.EmptyBlocks = 5 * time.Second
	}
	nodeConf := node.DefaultConfig
	nodeConf.Name = "fieldmint-dev"
	nodeConf.DataDir = o.DataDir
	nodeConf.IPCPath = ""
	nodeConf.P2P = p2p.Config{NoDiscovery: true, MaxPeers: 0, ListenAddr: ""}
	nodeConf.HTTPHost, nodeConf.HTTPPort = o.Host, o.Port
	nodeConf.HTTPModules = []string{"eth", "net", "web3"}
	nodeConf.HTTPCors = []string{"*"} // wallets and the claim page call it from a browser
	nodeConf.HTTPVirtualHosts = []string{"*"}
	nodeConf.AuthPort = 0
	nodeConf.WSHost = ""

	alloc := core.SystemContractAllocs()
	dev := map[common.Address]types.Account{}
	for a, bal := range o.Alloc {
		dev[a] = types.Account{Balance: bal}
	}
	maps.Copy(alloc, dev)
	genesis := core.DeveloperGenesisBlock(30_000_000, nil)
	maps.Copy(genesis.Alloc, alloc)

	ethConf := ethconfig.Defaults
	ethConf.Genesis = genesis
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.TxPool.NoLocals = true
	// Durable across a kill -9: the hash scheme in archive mode writes each
	// block's state to the database as the block is sealed. The default
	// (path scheme) keeps recent state in memory until a clean close, so a
	// killed dev chain came back at genesis without its contracts.
	ethConf.StateScheme = rawdb.HashScheme
	ethConf.NoPruning = true

	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, err
	}
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, err
	}
	fs := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(fs)}})
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("devchain: start node: %w", err)
	}
	beacon, err := catalyst.NewSimulatedBeacon(0, common.Address{}, backend)
	if err != nil {
		stack.Close()
		return nil, err
	}
	c := &Chain{URL: "http://" + net.JoinHostPort(o.Host, strconv.Itoa(o.Port)), stack: stack, beacon: beacon, db: backend.ChainDb(),
		stop: make(chan struct{}), done: make(chan struct{})}
	txs := make(chan core.NewTxsEvent, 16)
	sub := backend.TxPool().SubscribeTransactions(txs, true)
	go func() {
		defer close(c.done)
		defer sub.Unsubscribe()
		tick := time.NewTicker(o.EmptyBlocks)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-txs:
				time.Sleep(10 * time.Millisecond) // let concurrent sends share the block
				c.Commit()
			case <-tick.C:
				c.Commit()
			}
		}
	}()
	return c, nil
}

// Commit seals a block with whatever is pending, and syncs the database's
// write-ahead log: go-ethereum writes asynchronously and flushes its log
// only every few hundred kilobytes, so a killed dev chain, whose blocks are
// tiny, lost every block since the last flush (its contracts and roots
// among them).
func (c *Chain) Commit() common.Hash {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.beacon.Commit()
	if err := c.db.SyncKeyValue(); err != nil {
		panic(fmt.Sprintf("devchain: sync the chain database: %v", err)) // a dev chain that cannot write its disk cannot go on
	}
	return h
}

// Client dials the chain's JSON-RPC endpoint.
func (c *Chain) Client(ctx context.Context) (*ethclient.Client, error) {
	return ethclient.DialContext(ctx, c.URL)
}

// Close stops the chain, flushing its state to the data directory. It is
// safe to call more than once.
func (c *Chain) Close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		err = errors.Join(c.beacon.Stop(), c.stack.Close())
	})
	return err
}
