package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/devstack"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// chainStack is a bench's dev stack (ClickHouse, a chain with the
// contracts, a broker) on free ports, with no timelock and no fleet, and the
// role processes the bench starts on it.
type chainStack struct {
	*stack
	st   *devstack.Stack
	conn driver.Conn
}

func (e Env) startChainStack(ctx context.Context, name string) (*chainStack, error) {
	s, err := e.newStack()
	if err != nil {
		return nil, err
	}
	cfg := devstack.Defaults()
	cfg.Dev.DataDir, cfg.Dev.Devices, cfg.Dev.Timelock = s.dir, 0, 0
	cfg.Dev.Settlers, cfg.Dev.Threshold = 1, 1 // one settler, posting alone: the bench measures the API, not the quorum
	// Short epochs: a settler votes only once an epoch's cut of the raw log
	// is final (its end, plus lateness and margin, both 0 here), and the
	// benches settle the epoch now running.
	cfg.Aggregate.EpochLength = 10 * time.Second
	e.logf("%s: starting ClickHouse, a dev chain and the contracts ...", name)
	var st *devstack.Stack
	// A free port can be taken between asking for it and listening on it
	// (another process of a parallel run): then ask for new ones.
	for try := 0; ; try++ {
		for _, p := range []*int{&cfg.Dev.KafkaPort, &cfg.Dev.CHTCPPort, &cfg.Dev.CHHTTPPort, &cfg.Dev.RPCPort} {
			if *p, err = freeport.Port("127.0.0.1"); err != nil {
				s.stop()
				return nil, err
			}
		}
		st, err = devstack.StartStack(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || try == 3 || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		s.stop()
		return nil, err
	}
	conn, err := clickhouse.Open(ctx, st.Config.ClickHouse)
	if err != nil {
		st.Close()
		s.stop()
		return nil, err
	}
	return &chainStack{stack: s, st: st, conn: conn}, nil
}

// close stops the roles before the stack they use (a settler outliving
// ClickHouse logs refused connections).
func (c *chainStack) close() {
	c.stop()
	c.conn.Close()
	c.st.Close()
}

// roleEnv is the environment a settler or API process needs on the stack.
func (c *chainStack) roleEnv() []string {
	cfg := c.st.Config
	return []string{
		"FIELDMINT_CLICKHOUSE_ADDR=" + cfg.ClickHouse.Addr, "FIELDMINT_SETTLE_RPC=" + cfg.Settle.RPC,
		"FIELDMINT_KAFKA_BROKERS=" + strings.Join(cfg.Kafka.Brokers, ","), // the settler's votes topic
		"FIELDMINT_AGGREGATE_ALLOWEDLATENESS=0s", "FIELDMINT_SETTLE_CUTMARGIN=0s",
		"FIELDMINT_SETTLE_DISTRIBUTOR=" + cfg.Settle.Distributor, "FIELDMINT_SETTLE_FROMBLOCK=" + strconv.FormatUint(cfg.Settle.FromBlock, 10),
		"FIELDMINT_SETTLE_EMISSIONPEREPOCH=" + cfg.Settle.EmissionPerEpoch, "FIELDMINT_LOG_LEVEL=warn",
	}
}

// startSettler starts `fieldmint settle` with the stack's poster key, and
// extra environment.
func (c *chainStack) startSettler(extra ...string) error {
	_, err := c.start("settle", append(append(c.roleEnv(), "FIELDMINT_SETTLE_POSTERKEY="+c.st.Config.Settle.PosterKey), extra...), "settle")
	return err
}

// startAPI starts `fieldmint api` on a free port, with extra environment,
// and returns its address once it answers.
func (c *chainStack) startAPI(ctx context.Context, extra ...string) (string, int, error) {
	listen := freeport.Addr()
	api, err := c.start("api", append(append(c.roleEnv(), "FIELDMINT_API_LISTEN="+listen), extra...), "api")
	if err != nil {
		return "", 0, err
	}
	return listen, api.PID(), c.waitHealthy(ctx, "api", listen)
}

// closeEpoch records epoch closed and scored, as the aggregator does, so
// the settler settles it.
func (c *chainStack) closeEpoch(ctx context.Context, epoch uint64) error {
	length := c.st.Config.Aggregate.EpochLength
	start := time.UnixMilli(int64(epoch) * length.Milliseconds()).UTC()
	if err := c.conn.Exec(ctx, "INSERT INTO epochs VALUES (?, ?, ?, now64(3))", epoch, start, start.Add(length)); err != nil {
		return err
	}
	return c.conn.Exec(ctx, "INSERT INTO scored_epochs VALUES (?, now64(3))", epoch)
}

// waitSettled waits until epoch's root is active, returning when it was
// computed, proposed and made active (seconds since start).
func (c *chainStack) waitSettled(ctx context.Context, epoch uint64, start time.Time) (computed, proposed, active float64, err error) {
	at := map[tables.State]*float64{tables.Computed: &computed, tables.Proposed: &proposed, tables.Active: &active}
	for order := []tables.State{tables.Computed, tables.Proposed, tables.Active}; len(at) > 0; time.Sleep(50 * time.Millisecond) {
		if ctx.Err() != nil || time.Since(start) > 10*time.Minute {
			return 0, 0, 0, fmt.Errorf("bench: the settler did not activate epoch %d's root within 10 minutes", epoch)
		}
		if err := c.alive(); err != nil {
			return 0, 0, 0, err
		}
		s, ok, err := tables.SettlementOf(ctx, c.conn, epoch)
		if err != nil || !ok {
			continue
		}
		for _, state := range order { // a state passed between two looks counts as reached now
			if p, ok := at[state]; ok {
				*p = time.Since(start).Seconds()
				delete(at, state)
			}
			if state == s.State {
				break
			}
		}
	}
	return computed, proposed, active, nil
}

// account is the i-th account of a bench epoch: an address made up from i
// (nobody holds its key).
func account(i int) common.Address {
	return common.BytesToAddress(crypto.Keccak256([]byte("fieldmint bench account " + strconv.Itoa(i)))[12:])
}

// accounts are the first n bench accounts.
func accounts(n int) []common.Address {
	out := make([]common.Address, n)
	for i := range out {
		out[i] = account(i)
	}
	return out
}

// seedScores writes a device_scores row for each device, device d owned by
// owners[d % len(owners)], with scores from 1 to 97.
func seedScores(ctx context.Context, conn driver.Conn, epoch uint64, owners []common.Address, devices int) error {
	const chunk = 100_000
	for from := 0; from < devices; from += chunk {
		rows := make([]tables.DeviceScore, 0, chunk)
		for d := from; d < min(from+chunk, devices); d++ {
			score := uint64(1 + d%97)
			rows = append(rows, tables.DeviceScore{Epoch: epoch, DeviceID: "bench-" + strconv.Itoa(d), Owner: owners[d%len(owners)].Hex(),
				Kind: "RESOURCE_KIND_WEATHER", Readings: 100, Uptime: score, Weight: 1, Sharing: 1, Score: score})
		}
		if err := tables.InsertDeviceScores(ctx, conn, rows); err != nil {
			return err
		}
	}
	return nil
}
