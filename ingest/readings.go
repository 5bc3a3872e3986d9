package ingest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// ReadingResult is the outcome of one reading of a batch.
type ReadingResult struct {
	Status  string `json:"status"`            // "accepted" or "rejected"
	Code    string `json:"code,omitempty"`    // rejected: the reason code
	Message string `json:"message,omitempty"` // rejected: what is wrong
}

// BatchResult is the body of every answer to POST /v1/readings that got as
// far as judging the readings one by one: Results[i] is the outcome of
// reading i. When no reading was accepted the status is a 4xx and Code and
// Message are the first rejection's, as in Error.
type BatchResult struct {
	Code     string          `json:"code,omitempty"`
	Message  string          `json:"message,omitempty"`
	Accepted int             `json:"accepted"`
	Rejected int             `json:"rejected"`
	Results  []ReadingResult `json:"results"`
}

// readingStatus is the HTTP status of a batch whose every reading was
// rejected, by the first one's code.
var readingStatus = map[string]int{
	CodeMalformed: http.StatusBadRequest, CodeKindMismatch: http.StatusBadRequest,
	CodeUnknownDevice: http.StatusUnauthorized, CodeBadSignature: http.StatusUnauthorized,
	CodeDeviceInactive: http.StatusForbidden, CodeDeviceDenylisted: http.StatusForbidden,
	CodeNoAttestation: http.StatusForbidden, CodeMakerRemoved: http.StatusForbidden,
	CodeForeignReading: http.StatusForbidden,
}

// postReadings is POST /v1/readings: wire format v1, whose signatures cover
// each reading's canonical re-encoding (docs/wire-format.md).
func (s *Service) postReadings(w http.ResponseWriter, r *http.Request) {
	var batch pb.ReadingBatch
	if !s.decode(w, r, &batch) {
		return
	}
	items := make([]item, len(batch.Readings))
	for i, sr := range batch.Readings {
		items[i] = item{v1: sr, reading: sr.GetReading(), id: sr.GetReading().GetDeviceId()}
	}
	s.judge(w, r, items)
}

// postReadingsV2 is POST /v2/readings: wire format v2, whose signatures
// cover each reading's bytes as sent. Only the device id is read before the
// signature is verified; the rest is decoded once it is.
func (s *Service) postReadingsV2(w http.ResponseWriter, r *http.Request) {
	var batch pb.ReadingBatchV2
	if !s.decode(w, r, &batch) {
		return
	}
	s.judge(w, r, itemsV2(&batch))
}

// itemsV2 are a v2 batch's readings, each with the device id its bytes name.
func itemsV2(batch *pb.ReadingBatchV2) []item {
	items := make([]item, len(batch.Readings))
	for i, sr := range batch.Readings {
		items[i] = item{v2: sr}
		items[i].id, items[i].err = deviceIDOf(sr.GetReading())
	}
	return items
}

// item is one reading of a batch on its way through the checks: v1 or v2.
type item struct {
	v1      *pb.SignedReading
	v2      *pb.SignedReadingV2
	id      string      // device id
	err     error       // v2: the bytes hold no device id
	reading *pb.Reading // v1: as sent; v2: decoded once the signature verified
	dev     *pb.Device
	key     *pb.Key
	// A LoRaWAN uplink (ingest/chirpstack.go): its metadata; and when the
	// device did not sign it, the network server that vouches for it and the
	// reading ingest encoded from it.
	uplink    *pb.Uplink
	trustedBy string
	trusted   []byte
}

// signed returns what the item's signature covers, and the signature.
func (it *item) signed() ([]byte, []byte) {
	if it.v2 != nil {
		return pb.SignedBytesV2(it.v2.GetReading()), it.v2.GetSignature()
	}
	msg, _ := pb.CanonicalBytes(it.reading)
	return msg, it.v1.GetSignature()
}

// verdict is ingest's answer to a batch of readings, whatever carried it
// (HTTP, MQTT): an HTTP status and either each reading's result or one
// refusal of the whole batch, with the wait before a retry.
type verdict struct {
	status int
	res    *BatchResult  // judged one by one: 2xx, or 4xx with every reading rejected
	err    *Error        // the whole batch refused
	retry  time.Duration // 429 and 503: when to come back
}

func refuse(status int, code, format string, args ...any) verdict {
	v := verdict{status: status, err: &Error{Code: code, Message: fmt.Sprintf(format, args...)}}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		v.retry = time.Second
	}
	return v
}

// code is the verdict's reason code ("" when every reading was accepted).
func (v verdict) code() string {
	if v.err != nil {
		return v.err.Code
	}
	return v.res.Code
}

// message is the verdict's text for a refusal.
func (v verdict) message() string {
	if v.err != nil {
		return v.err.Message
	}
	return v.res.Message
}

// write answers an HTTP request with the verdict: a 429 or 503 with a
// Retry-After of whole seconds, at least 1.
func (v verdict) write(w http.ResponseWriter) {
	if v.retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(v.retry.Seconds())))))
	}
	if v.err != nil {
		writeJSON(w, v.status, *v.err)
		return
	}
	writeJSON(w, v.status, *v.res)
}

// judge answers an HTTP request with submit's verdict.
func (s *Service) judge(w http.ResponseWriter, r *http.Request, items []item) {
	s.submit(r.Context(), items, "").write(w)
}

// submit judges each reading of a batch on its own (fields, device,
// signature): the good ones are written to Kafka and answered "accepted"
// only after Kafka acknowledged them; the others are answered "rejected"
// with a reason and never written. Problems of the whole batch (size, rate,
// broker) refuse every reading with one code. When only is set (a
// connection that proved it is that device), a reading of any other device
// is rejected FOREIGN_READING.
func (s *Service) submit(ctx context.Context, items []item, only string) verdict {
	v, wait := s.begin(ctx, items, only)
	if wait != nil {
		return wait()
	}
	return v
}

// begin is submit up to the point where the accepted readings are on their
// way to Kafka: it returns either the verdict, when the batch is decided
// without Kafka, or wait, which returns it once Kafka has answered. Batches
// begun one after the other reach Kafka in that order (a gRPC stream relies
// on it: a device's readings must arrive in sequence).
func (s *Service) begin(ctx context.Context, items []item, only string) (verdict, func() verdict) {
	if len(items) == 0 {
		return refuse(http.StatusBadRequest, CodeEmptyBatch, "batch has no readings"), nil
	}
	if len(items) > s.cfg.MaxBatch {
		return refuse(http.StatusRequestEntityTooLarge, CodeTooLarge, "batch has %d readings, limit %d", len(items), s.cfg.MaxBatch), nil
	}
	res := BatchResult{Results: make([]ReadingResult, len(items))}
	reject := func(i int, code, format string, args ...any) {
		res.Results[i] = ReadingResult{Status: "rejected", Code: code, Message: fmt.Sprintf(format, args...)}
		res.Rejected++
	}
	// Readings that pass the registry checks go on to signature verification.
	cand := make([]int, 0, len(items))
	for i := range items {
		it := &items[i]
		if it.v1 != nil {
			it.err = checkReading(it.reading)
		}
		if it.err != nil {
			reject(i, CodeMalformed, "%v", it.err)
			continue
		}
		if only != "" && it.id != only {
			reject(i, CodeForeignReading, "reading of device %q sent by device %q", it.id, only)
			continue
		}
		if code, msg := s.admit(it); code != "" {
			reject(i, code, "%s", msg)
			continue
		}
		cand = append(cand, i)
	}
	good := s.verify(items, cand, reject)
	if len(good) == 0 {
		first := 0
		for res.Results[first].Code == "" {
			first++
		}
		res.Code, res.Message = res.Results[first].Code, fmt.Sprintf("no reading accepted; reading %d: %s", first, res.Results[first].Message)
		s.metrics.countResults(ctx, &res)
		return verdict{status: readingStatus[res.Code], res: &res}, nil
	}
	perDevice := map[string]int{}
	for _, i := range good {
		perDevice[items[i].id]++
	}
	if wait := s.devices.take(perDevice); wait > 0 {
		v := refuse(http.StatusTooManyRequests, CodeRateLimited, "a device of this batch sends more than %g readings per second (burst %d); nothing was accepted", s.cfg.DeviceRate, s.cfg.DeviceBurst)
		v.retry = wait
		return v, nil
	}
	received := s.now().UnixMilli()
	// A v2 reading goes to Kafka as it came, bytes and all: nothing is
	// re-encoded, and its signature stays verifiable downstream.
	records, bad, err := s.rawRecords(items, good, received)
	if err != nil {
		return refuse(http.StatusBadRequest, CodeMalformed, "reading %d: %v", bad, err), nil
	}
	// Admitted whole or not at all, before anything is produced: a refused
	// request leaves nothing behind to be doubled by its retry.
	if !s.inflight.TryAcquire(int64(len(records))) {
		return refuse(http.StatusTooManyRequests, CodeOverloaded, "too many readings are waiting for the broker (limit %d); retry", s.cfg.MaxInFlight), nil
	}
	n := int64(len(records))
	acked := s.produce(ctx, records, func() { s.inflight.Release(n) })
	return verdict{}, func() verdict {
		if err := acked(); err != nil {
			s.log.Warn("ingest: produce failed", "readings", len(records), "err", err)
			return refuse(http.StatusServiceUnavailable, CodeBrokerUnavailable, "readings not confirmed by Kafka, retry (a reading sent twice is recognised as a duplicate): %v", err)
		}
		for _, i := range good {
			res.Results[i] = ReadingResult{Status: "accepted"}
		}
		res.Accepted = len(good)
		s.metrics.countResults(ctx, &res)
		return verdict{status: http.StatusOK, res: &res}
	}
}

// verify checks the signatures of the candidates cand (indexes into items)
// and returns those that verified and decoded, rejecting the others.
func (s *Service) verify(items []item, cand []int, reject func(i int, code, format string, args ...any)) []int {
	// All signatures at once, with other requests' waiting (in chunks when
	// bad ones have been seen lately); only a failing chunk is checked one
	// by one, to name the bad readings, and the good ones still go through.
	// An uplink a network server vouches for has none.
	msgs, sigs, keys := make([][]byte, 0, len(cand)), make([][]byte, 0, len(cand)), make([]*pb.Key, 0, len(cand))
	for _, i := range cand {
		if items[i].trustedBy == "" {
			msg, sig := items[i].signed()
			msgs, sigs, keys = append(msgs, msg), append(sigs, sig), append(keys, items[i].key)
		}
	}
	all, valid := s.signatures.Verify(msgs, sigs, keys)
	good, j := cand[:0], -1
	for _, i := range cand {
		it := &items[i]
		if it.trustedBy != "" {
			good = append(good, i)
			continue
		}
		j++
		switch {
		case !all && !valid[j]:
			reject(i, CodeBadSignature, "signature does not verify under device %q's key", it.id)
			continue
		case it.v2 != nil:
			// Signed by the device: now decoded, and held to the checks a v1
			// reading met before its signature was looked at.
			if err := decodeReading(it); err != nil {
				reject(i, CodeMalformed, "%v", err)
				continue
			}
			if code, msg := s.admit(it); code != "" {
				reject(i, code, "%s", msg)
				continue
			}
		}
		good = append(good, i)
	}
	return good
}

// admit holds an item's device to the registry: known, allowed, attested,
// and (once the reading is decoded) of the kind the reading claims. It sets
// the item's device and key, and returns a reason code and message when the
// reading must be refused.
func (s *Service) admit(it *item) (string, string) {
	if it.dev == nil {
		it.dev, it.key = s.reg.Lookup(it.id)
	}
	dev := it.dev
	switch {
	case dev == nil && it.uplink != nil:
		return CodeUnknownDevice, fmt.Sprintf("no device is registered for DevEUI %s: register it as %q", it.uplink.DevEui, LoRaWANDevicePrefix+it.uplink.DevEui)
	case dev == nil:
		return CodeUnknownDevice, fmt.Sprintf("device %q is not registered", it.id)
	case dev.Denied:
		return CodeDeviceDenylisted, fmt.Sprintf("device %q is denylisted", it.id)
	case !dev.Active:
		return CodeDeviceInactive, fmt.Sprintf("device %q is deactivated", it.id)
	case dev.MakerId == "":
		return CodeNoAttestation, fmt.Sprintf("device %q was registered without a maker's attestation: register it again with one", it.id)
	case s.makerRemoved(dev.MakerId):
		return CodeMakerRemoved, fmt.Sprintf("device %q: its maker %q was removed from this network", it.id, dev.MakerId)
	case it.reading != nil && dev.Kind != it.reading.Kind:
		return CodeKindMismatch, fmt.Sprintf("device %q is registered as %s", it.id, dev.Kind)
	}
	return "", ""
}

// errNotConfirmed: Kafka neither acknowledged nor refused in time.
var errNotConfirmed = errors.New("no acknowledgement within ingest.produceTimeout")

// produce writes records, already admitted to the in-flight bound, and
// returns acked, which returns nil once Kafka acknowledged every one (it
// must be called, once); settled is called once the
// fate of every record is known, possibly after produce returned. It gives up waiting after
// ingest.produceTimeout: records not yet sent are then failed by the client,
// but records already sent to a broker that went away cannot be (the
// idempotent producer must learn their fate first), so they may still be
// stored after the answer said retry. The retry is then a duplicate, which
// the validators recognise. They keep their share of the in-flight bound
// until their fate is known, so a broker that stops answering soon turns
// requests away with 429 OVERLOADED instead of piling them up.
func (s *Service) produce(ctx context.Context, records []*kgo.Record, settled func()) (acked func() error) {
	// The request's context carries its trace into the records' headers.
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProduceTimeout)
	var (
		mu       sync.Mutex
		left     = len(records)
		firstErr error
		done     = make(chan struct{})
	)
	promise := func(_ *kgo.Record, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if left--; left == 0 {
			cancel()
			settled()
			close(done)
		}
	}
	for _, rec := range records {
		rec.Context = ctx
		s.producer.Produce(ctx, rec, promise)
	}
	deadline := time.Now().Add(s.cfg.ProduceTimeout + 100*time.Millisecond) // the client fails unsent records at the timeout itself
	return func() error {
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		select {
		case <-done:
			mu.Lock()
			defer mu.Unlock()
			return firstErr
		case <-timer.C:
			return errNotConfirmed
		}
	}
}
