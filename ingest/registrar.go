package ingest

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// change decides and writes one registry change (a device or a maker) so
// that every ingest replica agrees on it, as a compare-and-set on the log.
//
// All replicas share one Kafka transactional id. A replica's registrar
// client initializes it once, which fences the replica that held it before:
// that replica's next commit fails. Each change waits until this replica's
// registry has applied everything committed so far, decides against it, and
// commits its record in a transaction. So a commit succeeds only if no other
// replica took the id after this one read the registry: of two replicas
// registering one key at the same moment, exactly one commits, and the other
// takes the id back, decides again on the registry that now holds the
// winner, and answers as it would have to a later request. Within one
// process, changes take turns (s.changes). The registry's state comes only
// from the log, and the log holds only committed changes, so every replica
// and every later reader ends in the same state.
//
// decide reads s.reg and either answers the request itself and returns nil
// (a refusal, or a retry of a change already applied), or returns the record
// to write and done, run once the record is committed, to apply it locally
// and answer.
func (s *Service) change(w http.ResponseWriter, r *http.Request, decide func() (rec *kgo.Record, done func())) {
	s.changes.Lock()
	defer s.changes.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ProduceTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := s.tryChange(ctx, decide)
		if err == nil {
			return
		}
		if s.registrar != nil {
			s.registrar.Close() // fenced or failed: the next attempt starts over, fencing in turn
			s.registrar = nil
		}
		// Two replicas taking the id in turn would fence each other for
		// ever: wait a random, growing while before taking it back.
		wait := time.Duration(rand.Int64N(int64(min(2*time.Millisecond<<attempt, 200*time.Millisecond))))
		s.log.Debug("registry change raced another replica's, deciding again", "attempt", attempt, "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			fail(w, http.StatusServiceUnavailable, CodeBrokerUnavailable, "registry change not confirmed by Kafka, retry: %v", err)
			return
		}
	}
}

// tryChange runs decide once under the fence. A nil error means the request
// was answered: by decide, or by done after the commit.
func (s *Service) tryChange(ctx context.Context, decide func() (*kgo.Record, func())) error {
	if s.registrar == nil {
		cl, err := kgo.NewClient(append(s.kc.Opts(), kgo.TransactionalID(s.topics.Devices+".registrar"))...)
		if err != nil {
			return err
		}
		s.registrar = cl
	}
	cl := s.registrar
	if err := cl.BeginTransaction(); err != nil { // a new client's InitProducerID is the fence
		return err
	}
	abort := func() { _ = cl.EndTransaction(context.WithoutCancel(ctx), kgo.TryAbort) }
	if err := s.reg.CaughtUp(ctx); err != nil {
		abort()
		return err
	}
	rec, done := decide()
	if rec == nil {
		abort()
		return nil
	}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		abort()
		return err
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return err
	}
	done()
	return nil
}

// closeRegistrar releases the registrar client at shutdown.
func (s *Service) closeRegistrar() {
	s.changes.Lock()
	defer s.changes.Unlock()
	if s.registrar != nil {
		s.registrar.Close()
		s.registrar = nil
	}
}
