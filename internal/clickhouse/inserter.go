package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"sync"

	chgo "github.com/ClickHouse/ch-go"
	"github.com/ClickHouse/ch-go/proto"
)

// Inserter INSERTs whole columnar blocks over ch-go, the native protocol
// client clickhouse-go is built on. clickhouse-go takes a column's values
// as `any` and appends them one by one, by reflection for Map and
// LowCardinality columns; that was 40% of the aggregator's CPU. ch-go's
// typed columns (proto.ColStr and its kin) are filled by the caller and
// encoded as they are.
//
// It holds one connection, dialled when first used and dropped after any
// error (a failed INSERT can leave the protocol mid-stream), so the next
// Insert dials afresh. Inserts are serialized.
type Inserter struct {
	c      Config
	mu     sync.Mutex
	client *chgo.Client
}

// NewInserter returns an Inserter for c's database; it connects on first use.
func NewInserter(c Config) *Inserter { return &Inserter{c: c} }

// Insert sends input as one block to table, with the query's settings. The
// server's answer (or ctx's deadline) ends it: nil means the block is
// stored.
func (w *Inserter) Insert(ctx context.Context, table string, input proto.Input, settings map[string]string) error {
	if len(input) == 0 || input[0].Data.Rows() == 0 {
		return fmt.Errorf("clickhouse: insert into %s: no rows", table)
	}
	// Columns of unequal length are a bug of the caller's; sent, the
	// server would wait for the rest of the block until its
	// receive_timeout (300 s) before answering.
	for _, col := range input[1:] {
		if col.Data.Rows() != input[0].Data.Rows() {
			return fmt.Errorf("clickhouse: insert into %s: column %s has %d rows, %s has %d", table, col.Name, col.Data.Rows(), input[0].Name, input[0].Data.Rows())
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.client == nil || w.client.IsClosed() {
		client, err := w.dial(ctx)
		if err != nil {
			return err
		}
		w.client = client
	}
	q := chgo.Query{Body: input.Into(table), Input: input}
	for k, v := range settings {
		q.Settings = append(q.Settings, chgo.Setting{Key: k, Value: v, Important: true})
	}
	if err := w.client.Do(ctx, q); err != nil {
		w.client.Close()
		w.client = nil
		return fmt.Errorf("clickhouse: insert into %s: %w", table, err)
	}
	return nil
}

func (w *Inserter) dial(ctx context.Context) (*chgo.Client, error) {
	tlsCfg, err := w.c.TLS.Config()
	if err != nil {
		return nil, fmt.Errorf("clickhouse.%w", err)
	}
	client, err := chgo.Dial(ctx, chgo.Options{
		Address: w.c.Addr, Database: w.c.Database, User: w.c.Username, Password: w.c.Password, TLS: tlsCfg,
		ClientName:  "fieldmint",
		DialTimeout: dialTimeout,
		// The caller's deadline bounds an INSERT: a loaded server can
		// take longer than ch-go's default 3 s to answer a large block.
		ReadTimeout: chgo.NoTimeout,
	})
	if err != nil {
		// ch-go's dial error names the address and the server's answer,
		// never the password.
		return nil, fmt.Errorf("clickhouse: dial %s: %w", w.c.Addr, err)
	}
	return client, nil
}

// Close drops the connection, if any.
func (w *Inserter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.client == nil {
		return nil
	}
	err := w.client.Close()
	w.client = nil
	if errors.Is(err, chgo.ErrClosed) {
		return nil
	}
	return err
}
