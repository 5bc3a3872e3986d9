package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Stream sends batches over ingest's Stream call: in the order given, up to
// the server's window of them unacknowledged, each acknowledged in order once
// Kafka has its accepted readings. The batches not yet acknowledged are the
// outbox: when a stream ends (the connection lost, ingest restarted or
// stopping, Kafka unavailable) they are sent again, in order, on a new
// stream, until each is acknowledged or refused for good. A batch that reached
// Kafka but whose acknowledgement was lost is so sent twice; the validators
// recognise the second as a duplicate.
type Stream struct {
	g      *GRPC
	ctx    context.Context
	cancel context.CancelFunc
	max    int // most batches in the outbox; Send waits beyond

	mu      sync.Mutex
	changed *sync.Cond // the outbox, sent, closing or the session changed
	outbox  []*Ack     // not acknowledged, oldest first
	sent    int        // outbox[:sent] are sent on the current stream
	live    bool       // a stream is open
	closing bool       // Close was called: no more batches
	next    uint64
	done    chan struct{} // run has returned
}

// Ack is the fate of one batch sent on a Stream.
type Ack struct {
	batch    uint64
	readings []*pb.SignedReadingV2
	done     chan struct{}
	res      *Result
	err      error
}

// Wait returns the batch's result once ingest acknowledged it (at least
// one reading accepted), or an *Error (none accepted, or the batch refused
// for good), or ctx's error.
func (a *Ack) Wait(ctx context.Context) (*Result, error) {
	select {
	case <-a.done:
		return a.res, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *Ack) finish(res *Result, err error) {
	a.res, a.err = res, err
	close(a.done)
}

// Stream opens a stream that lives until Close or until ctx ends; outbox is
// how many batches Send may queue ahead of their acknowledgements (at least
// the server's window to keep the stream full; 0: 256).
func (g *GRPC) Stream(ctx context.Context, outbox int) *Stream {
	if outbox <= 0 {
		outbox = 256
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Stream{g: g, ctx: ctx, cancel: cancel, max: outbox, done: make(chan struct{})}
	s.changed = sync.NewCond(&s.mu)
	context.AfterFunc(ctx, func() { s.mu.Lock(); s.changed.Broadcast(); s.mu.Unlock() })
	go s.run()
	return s
}

// Send queues a batch, waiting while the outbox is full; the returned Ack
// tells its fate.
func (s *Stream) Send(ctx context.Context, readings []*pb.SignedReadingV2) (*Ack, error) {
	stop := context.AfterFunc(ctx, func() { s.mu.Lock(); s.changed.Broadcast(); s.mu.Unlock() })
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.outbox) >= s.max && ctx.Err() == nil && s.ctx.Err() == nil && !s.closing {
		s.changed.Wait()
	}
	switch {
	case s.closing:
		return nil, errors.New("ingest: stream closed")
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case s.ctx.Err() != nil:
		return nil, s.ctx.Err()
	}
	s.next++
	a := &Ack{batch: s.next, readings: readings, done: make(chan struct{})}
	s.outbox = append(s.outbox, a)
	s.changed.Broadcast()
	return a, nil
}

// Close waits until every batch sent is acknowledged or refused (or ctx
// ends: the rest then fail with ctx's error), then closes the stream.
func (s *Stream) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.changed.Broadcast()
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.cancel()
		<-s.done
		return ctx.Err()
	}
}

// run opens streams, one after the other, until the outbox is empty after
// Close, or the stream's context ends.
func (s *Stream) run() {
	defer close(s.done)
	defer s.cancel()
	wait := s.g.backoff()
	for {
		err := s.session()
		s.mu.Lock()
		s.live, s.sent = false, 0
		s.changed.Broadcast()
		finished := s.closing && len(s.outbox) == 0
		s.mu.Unlock()
		switch {
		case s.ctx.Err() != nil:
			s.failAll(s.ctx.Err())
			return
		case err == nil && finished:
			return
		case err == nil:
			wait.Reset()
			continue
		}
		e := grpcRefusal(err)
		if !e.Retryable() {
			// The head of the outbox is the batch the server could not take.
			s.mu.Lock()
			if len(s.outbox) > 0 {
				head := s.outbox[0]
				s.outbox = s.outbox[1:]
				head.finish(nil, e)
			}
			s.changed.Broadcast()
			s.mu.Unlock()
			continue
		}
		wait.hint = e.retryAfter
		if s.g.opts.OnRetry != nil {
			s.g.opts.OnRetry(e)
		}
		select {
		case <-time.After(wait.NextBackOff()):
		case <-s.ctx.Done():
		}
	}
}

// failAll fails every batch in the outbox.
func (s *Stream) failAll(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.outbox {
		a.finish(nil, err)
	}
	s.outbox = nil
}

// session is one stream: it waits for batches, sends them within the
// window, and takes the acknowledgements, until it fails (the error) or the
// outbox is empty after Close (nil).
func (s *Stream) session() error {
	s.mu.Lock()
	for len(s.outbox) == 0 && !s.closing && s.ctx.Err() == nil {
		s.changed.Wait() // no stream is held open for nothing
	}
	empty := len(s.outbox) == 0
	s.mu.Unlock()
	if empty {
		return nil
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	cs := s.g.client.Stream(ctx)
	// Go's HTTP/2 client notices a cancelled request only between reads of
	// the request body, which connect feeds through a pipe: while that pipe
	// stays open and empty, a cancelled stream's Receive never returns.
	// Closing our side when the session ends lets it.
	defer context.AfterFunc(ctx, func() { cs.CloseRequest() })()
	if err := cs.Send(nil); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	first, err := cs.Receive()
	if err != nil {
		return err
	}
	window := int(first.Window)
	if window <= 0 {
		return fmt.Errorf("ingest: stream opened without a window")
	}
	s.mu.Lock()
	s.live = true
	s.mu.Unlock()
	writer := make(chan error, 1)
	go func() { writer <- s.write(ctx, cs.Send, cs.CloseRequest, window) }()
	defer func() {
		cancel()
		s.mu.Lock()
		s.live = false
		s.changed.Broadcast()
		s.mu.Unlock()
		<-writer
	}()
	for {
		msg, err := cs.Receive()
		if errors.Is(err, io.EOF) {
			return nil // the server ended the stream after the last acknowledgement
		}
		if err != nil {
			return err
		}
		s.mu.Lock()
		if s.sent == 0 || msg.Batch != s.outbox[0].batch {
			s.mu.Unlock()
			return fmt.Errorf("ingest: acknowledgement of batch %d out of order", msg.Batch)
		}
		head := s.outbox[0]
		s.outbox = s.outbox[1:]
		s.sent--
		s.changed.Broadcast()
		s.mu.Unlock()
		switch {
		case msg.Refused != nil:
			head.finish(nil, &Error{Status: http.StatusBadRequest, Code: msg.Refused.Code, Message: msg.Refused.Message})
		case msg.Result.GetAccepted() == 0:
			res := resultOf(msg.Result)
			head.finish(nil, &Error{Status: http.StatusBadRequest, Code: firstCode(res), Message: "no reading accepted", Results: res.Results})
		default:
			head.finish(resultOf(msg.Result), nil)
		}
	}
}

// write sends the outbox's batches as the window allows; once Close was
// called and every batch is acknowledged it closes its side of the stream.
func (s *Stream) write(ctx context.Context, send func(*pb.StreamRequest) error, closeSend func() error, window int) error {
	for {
		s.mu.Lock()
		for s.live && ctx.Err() == nil && !(s.sent < len(s.outbox) && s.sent < window) && !(s.closing && len(s.outbox) == 0) {
			s.changed.Wait()
		}
		if !s.live || ctx.Err() != nil {
			s.mu.Unlock()
			return nil
		}
		if s.closing && len(s.outbox) == 0 {
			s.mu.Unlock()
			return closeSend()
		}
		a := s.outbox[s.sent]
		s.sent++
		s.mu.Unlock()
		if err := send(&pb.StreamRequest{Batch: a.batch, Readings: a.readings}); err != nil {
			return err // the reader learns why from Receive
		}
	}
}

func firstCode(res *Result) string {
	for _, r := range res.Results {
		if r.Code != "" {
			return r.Code
		}
	}
	return ""
}
