package devstack

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/roles"
)

// Settler is one independent settler of the dev stack, as dev.json lists it.
type Settler struct {
	Address            string `json:"address"`
	PrivateKey         string `json:"privateKey"`
	APIURL             string `json:"apiURL"`
	ClickHouseDatabase string `json:"clickhouseDatabase"`
}

// Operator is one operator of the dev stack: its roles' configuration and
// its settler's key. Operator 0 runs every role; the others, the roles an
// independent operator runs for itself (operatorRoles) on its own ClickHouse
// database, consumer groups and stage topics, reading the shared raw topic.
type Operator struct {
	Config roles.Config
	Key    *ecdsa.PrivateKey
}

// operatorRoles are what an independent operator runs: it computes every
// epoch from the shared log by itself and serves its own votes and trees.
var operatorRoles = []string{"validate", "aggregate", "settle", "api"}

// settlerKey is the dev key of settler i.
func settlerKey(i int) *ecdsa.PrivateKey { return DevKey("settler/" + strconv.Itoa(i)) }

// operators returns the dev stack's operators from the primary's
// configuration (settler 0 holds base's key), migrating each extra one's
// database. n below 1 is one.
func operators(ctx context.Context, base roles.Config, n int) ([]Operator, error) {
	n = max(n, 1)
	ops := []Operator{{Config: base, Key: settlerKey(0)}}
	ops[0].Config.Settle.PosterKey = hex.EncodeToString(crypto.FromECDSA(ops[0].Key))
	for i := 1; i < n; i++ {
		c := base
		suffix := "op" + strconv.Itoa(i)
		c.ClickHouse.Database = operatorDatabase(base.ClickHouse.Database, i)
		c.ClickHouse.Users = DevUsers(c.ClickHouse.Database)
		if c.Kafka.SharedTopicPrefix == "" {
			c.Kafka.SharedTopicPrefix = base.Kafka.TopicPrefix
		}
		c.Kafka.TopicPrefix = base.Kafka.TopicPrefix + suffix + "."
		c.Validate.Group = base.Validate.Group + "-" + suffix
		c.Aggregate.Group = base.Aggregate.Group + "-" + suffix
		c.API.Listen = freeport.Addr()
		key := settlerKey(i)
		c.Settle.PosterKey = hex.EncodeToString(crypto.FromECDSA(key))
		conn, err := clickhouse.OpenMigrated(ctx, c.ClickHouse)
		if err != nil {
			return nil, fmt.Errorf("dev: migrate operator %d's database %s: %w", i, c.ClickHouse.Database, err)
		}
		conn.Close()
		ops = append(ops, Operator{Config: c, Key: key})
	}
	return ops, nil
}

// signerAddresses are the operators' settler addresses.
func signerAddresses(n int) []common.Address {
	out := make([]common.Address, max(n, 1))
	for i := range out {
		out[i] = chain.Address(settlerKey(i))
	}
	return out
}

// Settlers describes the operators' settlers for dev.json.
func (s *Stack) Settlers() []Settler {
	out := make([]Settler, len(s.Operators))
	for i, o := range s.Operators {
		out[i] = Settler{Address: chain.Address(o.Key).Hex(), PrivateKey: "0x" + hex.EncodeToString(crypto.FromECDSA(o.Key)),
			APIURL: "http://" + o.Config.ProofAPI().Listen, ClickHouseDatabase: o.Config.ClickHouse.Database}
	}
	return out
}

// RoleRun is one role to run with the configuration it runs with.
type RoleRun struct {
	Role     roles.Role
	Config   roles.Config
	Operator int // 0: the primary, which runs every role
}

// Runs are every role of every operator: the primary's, then each
// independent operator's own.
func (s *Stack) Runs() []RoleRun {
	var out []RoleRun
	for _, r := range roles.Table {
		out = append(out, RoleRun{Role: r, Config: s.Config.Config})
	}
	for i, o := range s.Operators[1:] {
		for _, name := range operatorRoles {
			r, _ := roles.Lookup(name)
			out = append(out, RoleRun{Role: r, Config: o.Config, Operator: i + 1})
		}
	}
	return out
}
