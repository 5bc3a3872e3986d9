package roles

// The runners of the roles. Each role runs under outage.Supervise: an
// outage of a dependency (Kafka, ClickHouse, the chain's RPC) stops the
// role's work and costs lag, never the process, which exits only on a fault
// no waiting can fix (permanent).

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/api"
	"github.com/fieldmint/fieldmint/explorer"
	"github.com/fieldmint/fieldmint/ingest"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/outage"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/quorum"
	"github.com/fieldmint/fieldmint/validators"
)

// lagInterval is how often the consumer roles measure their group's lag.
const lagInterval = 15 * time.Second

// ready registers a role's readiness check (served at /readyz) until ctx
// ends.
func ready(ctx context.Context, name string, c telemetry.Check) {
	context.AfterFunc(ctx, telemetry.AddCheck(name, c))
}

// permanent is what no waiting fixes: a schema this build does not know, a
// distributor that is not the configured one, a keystore that does not
// decrypt, an address that cannot be listened on.
func permanent(err error) bool {
	var op *net.OpError
	return errors.Is(err, clickhouse.ErrSchema) || errors.Is(err, settler.ErrContractMismatch) || errors.Is(err, settler.ErrKeystore) ||
		(errors.As(err, &op) && op.Op == "listen")
}

// role is one role's supervision: its name and the dependencies it waits
// for, each watched (and its readiness check registered, as
// <role>/<kind>) until ctx ends.
type role struct {
	ctx  context.Context
	name string
	log  *slog.Logger
	deps []*outage.Dependency
}

// newRole checks the configuration sections the role reads (a fault no
// waiting can fix) and watches each dependency the role needs.
func newRole(ctx context.Context, name string, c Config, sections []string, log *slog.Logger, watch ...func(*role) error) (*role, error) {
	if err := c.Check(sections); err != nil {
		return nil, err
	}
	if c.Telemetry.OutageAlertAfter > 0 {
		outage.AlertAfter = c.Telemetry.OutageAlertAfter
	}
	r := &role{ctx: ctx, name: name, log: log}
	for _, w := range watch {
		if err := w(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *role) watch(kind, target string, open outage.Prober) error {
	d, release, err := outage.Watch(kind+" "+target, open, r.log)
	if err != nil {
		return err
	}
	context.AfterFunc(r.ctx, release)
	ready(r.ctx, r.name+"/"+kind, d.Check)
	r.deps = append(r.deps, d)
	return nil
}

func (r *role) run(run func(context.Context) error) error {
	return outage.Supervise(r.ctx, outage.Role{Name: r.name, Deps: r.deps, Run: run, Permanent: permanent}, r.log)
}

// watchKafka watches the brokers: a client of its own that reaches any of
// them (a broker of several down is no outage).
func watchKafka(c kafka.Config) func(*role) error {
	return func(r *role) error {
		return r.watch("kafka", strings.Join(c.Brokers, ","), func() (func(context.Context) error, func(), error) {
			cl, err := kgo.NewClient(c.Opts()...)
			if err != nil {
				return nil, nil, err
			}
			return cl.Ping, cl.Close, nil
		})
	}
}

func watchClickHouse(c clickhouse.Config) func(*role) error {
	return func(r *role) error {
		return r.watch("clickhouse", c.Addr, func() (func(context.Context) error, func(), error) { return clickhouse.Prober(c) })
	}
}

// watchRPC watches the chain's RPC endpoint, named by its scheme and host
// only: a provider's URL often carries an API key in its path or query.
func watchRPC(endpoint string) func(*role) error {
	return func(r *role) error {
		name := "endpoint"
		if u, err := url.Parse(endpoint); err == nil {
			name = u.Scheme + "://" + u.Host
		}
		return r.watch("rpc", name, func() (func(context.Context) error, func(), error) {
			cl, err := chain.Dial(context.Background(), endpoint)
			if err != nil {
				return nil, nil, err
			}
			return func(ctx context.Context) error { _, err := cl.BlockNumber(ctx); return err }, cl.Close, nil
		})
	}
}

// runner is a stage's service: it runs until ctx ends.
type runner interface {
	Run(ctx context.Context) error
}

// runKafkaRole runs a role that needs Kafka alone (ingest, validate): the
// topics made sure of (any role may be the first to start), then the
// service that build makes; group, when set, is the consumer group whose
// lag is watched.
func runKafkaRole(ctx context.Context, name string, c Config, group string, log *slog.Logger, build func() (runner, error)) error {
	r, err := newRole(ctx, name, c, []string{"kafka", name}, log, watchKafka(c.Kafka))
	if err != nil {
		return err
	}
	if group != "" {
		if err := kafka.Watch(ctx, c.Kafka, name, group, lagInterval); err != nil {
			return err
		}
	}
	return r.run(func(ctx context.Context) error {
		if err := kafka.EnsureTopics(ctx, c.Kafka); err != nil {
			return err
		}
		s, err := build()
		if err != nil {
			return outage.Permanent(err)
		}
		return s.Run(ctx)
	})
}

// RunIngest runs the ingest role until ctx ends.
func RunIngest(ctx context.Context, c Config, log *slog.Logger) error {
	return runKafkaRole(ctx, "ingest", c, "", log, func() (runner, error) { return ingest.New(c.Ingest, c.Kafka, log) })
}

// RunValidate runs a validator instance until ctx ends.
func RunValidate(ctx context.Context, c Config, log *slog.Logger) error {
	return runKafkaRole(ctx, "validate", c, c.Validate.Group, log, func() (runner, error) { return validators.New(c.Validate, c.Kafka, log) })
}

// withClickHouse opens ClickHouse (its schema checked) for body and closes
// it after: a run's own connection, gone with the run.
func withClickHouse(ctx context.Context, c clickhouse.Config, body func(conn driver.Conn) error) error {
	conn, err := clickhouse.Open(ctx, c)
	if err != nil {
		return err
	}
	defer conn.Close()
	return body(conn)
}

// RunAggregate runs the aggregator until ctx ends.
func RunAggregate(ctx context.Context, c Config, log *slog.Logger) error {
	c.ClickHouse = c.ClickHouse.As("aggregate")
	r, err := newRole(ctx, "aggregate", c, []string{"kafka", "clickhouse", "aggregate"}, log, watchKafka(c.Kafka), watchClickHouse(c.ClickHouse))
	if err != nil {
		return err
	}
	if err := kafka.Watch(ctx, c.Kafka, "aggregate", c.Aggregate.Group, lagInterval); err != nil {
		return err
	}
	return r.run(func(ctx context.Context) error {
		if err := kafka.EnsureTopics(ctx, c.Kafka); err != nil {
			return err
		}
		return withClickHouse(ctx, c.ClickHouse, func(conn driver.Conn) error {
			blocks := clickhouse.NewInserter(c.ClickHouse)
			defer blocks.Close()
			s, err := aggregator.New(c.Aggregate, c.Kafka, conn, blocks, log)
			if err != nil {
				return outage.Permanent(err)
			}
			return s.Run(ctx)
		})
	})
}

// newChainRole is the supervision of a role that reads ClickHouse and the
// chain (settle, api): its section and ClickHouse's checked, both watched.
func newChainRole(ctx context.Context, name string, c Config, rpc string, log *slog.Logger) (*role, error) {
	return newRole(ctx, name, c, []string{"clickhouse", name}, log, watchClickHouse(c.ClickHouse), watchRPC(rpc))
}

// RunSettle runs the settler until ctx ends: the one process with the
// poster key. o.ResumeFrom, when not 0, first recomputes epochs from there
// on (the operator's answer to a revoked or parked epoch), once.
func RunSettle(ctx context.Context, c Config, o Options, log *slog.Logger) error {
	c.ClickHouse = c.ClickHouse.As("settle")
	resumeFrom := o.ResumeFrom
	r, err := newChainRole(ctx, "settle", c, c.Settle.RPC, log)
	if err != nil {
		return err
	}
	return r.run(func(ctx context.Context) error {
		return withClickHouse(ctx, c.ClickHouse, func(conn driver.Conn) error {
			s, err := settler.New(ctx, c.Settle, conn, log)
			if err != nil {
				return err
			}
			defer s.Close()
			// Votes go through Kafka's settlement.votes topic, and each
			// epoch's cut is taken of the raw topic at its end plus the
			// aggregator's lateness.
			if err := kafka.EnsureTopics(ctx, c.Kafka); err != nil {
				return err
			}
			x, err := quorum.NewExchange(c.Kafka, s.Domain(), log)
			if err != nil {
				return err
			}
			defer x.Close()
			s.UseExchange(x, c.Aggregate.AllowedLateness)
			s.OnSettled = o.OnSettled
			if resumeFrom != 0 {
				if err := s.Resume(ctx, resumeFrom); err != nil {
					return err
				}
				resumeFrom = 0 // done: a restart after an outage does not resume again
			}
			return s.Run(ctx)
		})
	})
}

// RunAPI serves the proof API, the claim page and the explorer until ctx
// ends. It holds no key; run as many as the traffic needs.
func RunAPI(ctx context.Context, c Config, log *slog.Logger) error {
	c.ClickHouse = c.ClickHouse.As("api")
	if c.Settle.APIListen != "" {
		log.Warn("settle.apiListen is deprecated and will be removed in the next release: set api.listen (FIELDMINT_API_LISTEN, --api.listen)", "listen", c.Settle.APIListen)
	}
	a := c.ProofAPI()
	r, err := newChainRole(ctx, "api", c, a.RPC, log)
	if err != nil {
		return err
	}
	return r.run(func(ctx context.Context) error {
		return withClickHouse(ctx, c.ClickHouse, func(conn driver.Conn) error {
			client, err := chain.Dial(ctx, a.RPC)
			if err != nil {
				return err
			}
			defer client.Close()
			srv, err := api.New(ctx, conn, client, common.HexToAddress(a.Distributor))
			if err != nil {
				return err
			}
			srv.Explorer, srv.FromBlock, srv.Log = explorer.New(conn, srv), a.FromBlock, log
			log.Info("api: serving proofs and the explorer", "explorer", "http://"+a.Listen+"/explorer", "listen", a.Listen, "distributor", a.Distributor)
			return srv.Serve(ctx, a.Listen)
		})
	})
}
