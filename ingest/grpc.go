// gRPC, gRPC-Web and Connect on the HTTP port (docs/api.md "gRPC"): one
// connectrpc handler serves all three; the judge is submit's, as for HTTP
// and MQTT.

package ingest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/fieldmintpb/fieldmintpbconnect"
)

// CodeShuttingDown: the replica is stopping; the stream's unacknowledged
// batches go to another one.
const CodeShuttingDown = "SHUTTING_DOWN"

// ErrorDomain is the domain of the google.rpc.ErrorInfo on every gRPC
// error ingest returns; its reason is fieldmint's code.
const ErrorDomain = "fieldmint"

type grpcIngest struct{ s *Service }

// grpcHandler is IngestService's route prefix and handler. Messages larger
// than ingest.maxBodyBytes are refused by connect (RESOURCE_EXHAUSTED).
// Streams are long-lived: the server's whole-request read timeout is lifted
// for them (a stream idle longer than the HTTP/2 keep-alive still ends).
func (s *Service) grpcHandler() (string, http.Handler) {
	path, h := fieldmintpbconnect.NewIngestServiceHandler(grpcIngest{s}, connect.WithReadMaxBytes(int(s.cfg.MaxBodyBytes)))
	return path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == fieldmintpbconnect.IngestServiceStreamProcedure {
			http.NewResponseController(w).SetReadDeadline(time.Time{})
		}
		h.ServeHTTP(w, r)
	})
}

// Submit is the unary call: POST /v2/readings in gRPC's clothes.
func (g grpcIngest) Submit(ctx context.Context, req *connect.Request[pb.SubmitRequest]) (*connect.Response[pb.SubmitResponse], error) {
	if v, limited := g.s.limitClient(&http.Request{RemoteAddr: req.Peer().Addr, Header: req.Header()}); limited {
		return nil, grpcError(v)
	}
	v := g.s.submit(ctx, itemsV2(&pb.ReadingBatchV2{Readings: req.Msg.Readings}), "")
	g.s.metrics.countGRPC(ctx, "Submit", v.code())
	if v.status/100 == 2 {
		return connect.NewResponse(submitResponse(v.res)), nil
	}
	return nil, grpcError(v)
}

// ack is a batch of a stream on its way: judged (wait nil) or waiting for Kafka.
type ack struct {
	batch uint64
	taken time.Time
	v     verdict
	wait  func() verdict
}

// Stream takes batches in order and acknowledges each, in the same order,
// once Kafka has answered: up to ingest.grpcWindow batches are judged and
// on their way to Kafka at once, and the server reads no more until the
// oldest is acknowledged. Batches are begun one after the other, so a
// device's readings reach Kafka in the order sent. A batch that cannot be
// taken now (Kafka, overload, rate) ends the stream after the earlier
// acknowledgements; nothing after it is judged.
func (g grpcIngest) Stream(ctx context.Context, st *connect.BidiStream[pb.StreamRequest, pb.StreamResponse]) error {
	s := g.s
	if v, limited := s.limitClient(&http.Request{RemoteAddr: st.Peer().Addr, Header: st.RequestHeader()}); limited {
		return grpcError(v)
	}
	s.metrics.grpcStreams.Add(ctx, 1)
	defer s.metrics.grpcStreams.Add(context.Background(), -1)
	window := s.cfg.GRPCWindow
	if err := st.Send(&pb.StreamResponse{Window: uint32(window)}); err != nil {
		return err
	}
	var (
		acks    = make(chan ack, window) // never blocks: at most window batches are taken
		slots   = make(chan struct{}, window)
		mu      sync.Mutex // held while a batch is begun, and to stop
		stopped bool
		recvErr error // why the receiver stopped, read once acks is closed
	)
	stop := func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
	}
	// Once the handler returns, the receiver begins nothing more (its
	// Receive then fails as the stream closes).
	defer stop()
	// The receiver: reads a batch when a slot is free and begins it.
	go func() {
		defer close(acks)
		for {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			req, err := st.Receive()
			mu.Lock()
			if stopped {
				mu.Unlock()
				return
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					recvErr = err
				}
				mu.Unlock()
				return
			}
			a := ack{batch: req.Batch, taken: time.Now()}
			a.v, a.wait = s.begin(ctx, itemsV2(&pb.ReadingBatchV2{Readings: req.Readings}), "")
			acks <- a
			mu.Unlock()
			if a.wait == nil && a.v.retry > 0 {
				return // taken no further: the client resends from here
			}
		}
	}()
	send := func(a ack) error {
		v := a.v
		if a.wait != nil {
			v = a.wait()
		}
		s.metrics.countGRPC(ctx, "Stream", v.code())
		if v.retry > 0 || v.status == http.StatusServiceUnavailable {
			return grpcError(v)
		}
		resp := &pb.StreamResponse{Batch: a.batch}
		if v.res != nil {
			resp.Result = submitResponse(v.res)
		} else {
			resp.Refused = &pb.BatchRefusal{Code: v.err.Code, Message: v.err.Message}
		}
		if err := st.Send(resp); err != nil {
			return err
		}
		s.metrics.grpcAck.Record(ctx, time.Since(a.taken).Seconds())
		<-slots
		return nil
	}
	for {
		select {
		case a, ok := <-acks:
			if !ok {
				return recvErr // nil: the client closed its side and has every acknowledgement
			}
			if err := send(a); err != nil {
				return err
			}
		case <-s.closing:
			// Acknowledge what was begun, begin nothing more, and send the
			// client elsewhere for the rest.
			stop()
			for len(acks) > 0 {
				if err := send(<-acks); err != nil {
					return err
				}
			}
			return grpcError(refuse(http.StatusServiceUnavailable, CodeShuttingDown, "ingest is stopping: send the batches not acknowledged again, to another replica"))
		}
	}
}

func submitResponse(res *BatchResult) *pb.SubmitResponse {
	out := &pb.SubmitResponse{Accepted: uint32(res.Accepted), Rejected: uint32(res.Rejected), Results: make([]*pb.ReadingVerdict, len(res.Results))}
	for i, r := range res.Results {
		out.Results[i] = &pb.ReadingVerdict{Accepted: r.Status == "accepted", Code: r.Code, Message: r.Message}
	}
	return out
}

// grpcCodes are the gRPC codes of refusals, by HTTP status.
var grpcCodes = map[int]connect.Code{
	http.StatusBadRequest: connect.CodeInvalidArgument, http.StatusUnsupportedMediaType: connect.CodeInvalidArgument,
	http.StatusRequestEntityTooLarge: connect.CodeResourceExhausted, http.StatusTooManyRequests: connect.CodeResourceExhausted,
	http.StatusUnauthorized: connect.CodeUnauthenticated, http.StatusForbidden: connect.CodePermissionDenied,
	http.StatusServiceUnavailable: connect.CodeUnavailable,
}

// grpcError is a refusal as a gRPC error: "CODE: message", a
// google.rpc.ErrorInfo whose reason is the code, a RetryInfo when it is
// worth sending again later, and the per-reading results when the readings
// were judged one by one.
func grpcError(v verdict) *connect.Error {
	code, ok := grpcCodes[v.status]
	if !ok {
		code = connect.CodeInvalidArgument
	}
	e := connect.NewError(code, errors.New(v.code()+": "+v.message()))
	if d, err := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: v.code(), Domain: ErrorDomain}); err == nil {
		e.AddDetail(d)
	}
	if v.retry > 0 {
		if d, err := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(v.retry)}); err == nil {
			e.AddDetail(d)
		}
	}
	if v.res != nil {
		if d, err := connect.NewErrorDetail(submitResponse(v.res)); err == nil {
			e.AddDetail(d)
		}
	}
	return e
}
