package client

import (
	"context"
	"errors"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"github.com/cenkalti/backoff/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/fieldmintpb/fieldmintpbconnect"
)

// GRPC talks to ingest's gRPC service (fieldmint.v1.IngestService, on the
// HTTP port) with the gRPC protocol over HTTP/2: in clear text (h2c) for
// an http:// URL, over TLS for https://. Submit sends one batch; Stream
// sends many in order over one stream, with up to the server's window of
// them unacknowledged.
type GRPC struct {
	client fieldmintpbconnect.IngestServiceClient
	opts   GRPCOptions
}

// GRPCOptions configures NewGRPC.
type GRPCOptions struct {
	URL  string       // ingest's base URL, e.g. http://127.0.0.1:8080
	HTTP *http.Client // nil: HTTP/2 only (h2c for http://)
	// MaxBackoff is the longest wait between two attempts (default 5 s).
	MaxBackoff time.Duration
	// OnRetry, if set, is told of each failed attempt that will be made again.
	OnRetry func(err error)
}

// NewGRPC returns a client of the gRPC service at o.URL; it connects on first use.
func NewGRPC(o GRPCOptions) *GRPC {
	if o.HTTP == nil {
		t := &http.Transport{Protocols: new(http.Protocols), ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 16}
		t.Protocols.SetHTTP2(true)
		t.Protocols.SetUnencryptedHTTP2(true)
		o.HTTP = &http.Client{Transport: t}
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	return &GRPC{client: fieldmintpbconnect.NewIngestServiceClient(o.HTTP, o.URL, connect.WithGRPC()), opts: o}
}

// backoff is the wait between attempts: exponential from 200 ms with
// jitter, capped at MaxBackoff, or the server's RetryInfo when it gave one.
func (g *GRPC) backoff() *serverHinted {
	return &serverHinted{ExponentialBackOff: backoff.ExponentialBackOff{
		InitialInterval: 200 * time.Millisecond, RandomizationFactor: 0.25, Multiplier: 2, MaxInterval: g.opts.MaxBackoff}}
}

// Submit sends one batch and returns once ingest has answered: the readings
// accepted are in Kafka. It sends the batch again, until ctx ends, while the
// answer is worth waiting for (Kafka unavailable, overloaded, rate limited,
// the connection lost); a batch sent twice is recognised downstream as a
// duplicate. As with Client.Send, a batch of which no reading was accepted
// is an *Error with each reading's reason.
func (g *GRPC) Submit(ctx context.Context, readings []*pb.SignedReadingV2) (*Result, error) {
	wait := g.backoff()
	return backoff.Retry(ctx, func() (*Result, error) {
		resp, err := g.client.Submit(ctx, connect.NewRequest(&pb.SubmitRequest{Readings: readings}))
		if err != nil {
			e := grpcRefusal(err)
			if !e.Retryable() {
				return nil, backoff.Permanent(error(e))
			}
			wait.hint = e.retryAfter
			return nil, e
		}
		return resultOf(resp.Msg), nil
	}, backoff.WithBackOff(wait), backoff.WithMaxTries(0), backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, _ time.Duration) {
			if g.opts.OnRetry != nil {
				g.opts.OnRetry(err)
			}
		}))
}

func resultOf(m *pb.SubmitResponse) *Result {
	res := &Result{Accepted: int(m.Accepted), Rejected: int(m.Rejected), Results: make([]ReadingResult, len(m.Results))}
	for i, r := range m.Results {
		res.Results[i] = ReadingResult{Status: "rejected", Code: r.Code, Message: r.Message}
		if r.Accepted {
			res.Results[i] = ReadingResult{Status: "accepted"}
		}
	}
	return res
}

// statusOf is the HTTP status a gRPC code stands for in an *Error.
var statusOf = map[connect.Code]int{
	connect.CodeInvalidArgument: http.StatusBadRequest, connect.CodeUnauthenticated: http.StatusUnauthorized,
	connect.CodePermissionDenied: http.StatusForbidden, connect.CodeResourceExhausted: http.StatusTooManyRequests,
	connect.CodeUnavailable: http.StatusServiceUnavailable,
}

// grpcRefusal turns an error of a call into an *Error: the code and retry
// delay ingest put in its details, the per-reading results when there are
// some. An error without ingest's ErrorInfo (the connection, a proxy) is a
// 503 to retry, unless its gRPC code says the request itself is wrong.
func grpcRefusal(err error) *Error {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return &Error{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Message: err.Error()}
	}
	e := &Error{Status: statusOf[ce.Code()], Code: ce.Code().String(), Message: ce.Message()}
	if e.Status == 0 {
		e.Status = http.StatusServiceUnavailable // unknown, canceled, internal: the transport
	}
	ours := false
	for _, d := range ce.Details() {
		m, err := d.Value()
		if err != nil {
			continue // a detail of a type this client does not know
		}
		switch m := m.(type) {
		case *errdetails.ErrorInfo:
			e.Code, ours = m.Reason, m.Domain == "fieldmint"
		case *errdetails.RetryInfo:
			e.retryAfter = m.GetRetryDelay().AsDuration()
		case *pb.SubmitResponse:
			e.Results = resultOf(m).Results
		}
	}
	switch {
	case ours && e.Code == "TOO_LARGE":
		e.Status = http.StatusRequestEntityTooLarge
	case !ours && ce.Code() == connect.CodeResourceExhausted:
		e.Status = http.StatusRequestEntityTooLarge // connect's limit on a message's size
	}
	return e
}
