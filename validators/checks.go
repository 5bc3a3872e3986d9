package validators

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Rejection reason codes: the catalog documented in validators/README.md.
// Every rejected reading carries exactly one.
const (
	// ReasonDuplicate: the same signed reading as the device's last accepted
	// one (a retried send). Benign, and not counted twice.
	ReasonDuplicate = "DUPLICATE"
	// ReasonSequenceReplay: a sequence number at or below the device's last
	// accepted one, with different content: a replayed or reordered reading.
	ReasonSequenceReplay = "SEQUENCE_REPLAY"
	// ReasonClockFuture: event time further ahead of the ingest clock than MaxFuture.
	ReasonClockFuture = "CLOCK_FUTURE"
	// ReasonClockStale: event time further behind the ingest clock than MaxPast.
	ReasonClockStale = "CLOCK_STALE"
	// ReasonOutOfRange: a measurement outside the physical range of its kind.
	ReasonOutOfRange = "OUT_OF_RANGE"
	// ReasonUnknownMeasurement: a measurement name the device's kind does not have.
	ReasonUnknownMeasurement = "UNKNOWN_MEASUREMENT"
	// ReasonUndecodable: the raw record does not decode (a producer bug, never
	// a device's fault alone); kept so that no record is silently dropped.
	ReasonUndecodable = "UNDECODABLE"
)

// Range is an inclusive range of a measurement, in thousandths of its unit.
type Range struct{ Min, Max int64 }

// KindRules are the checks' parameters for one resource kind.
type KindRules struct {
	Score        uint64           // points a valid reading earns
	Measurements map[string]Range // allowed measurements and their ranges
}

// DefaultRules are the physical ranges of each kind's measurements.
func DefaultRules() map[pb.ResourceKind]KindRules {
	return map[pb.ResourceKind]KindRules{
		pb.ResourceKind_RESOURCE_KIND_HOTSPOT: {Score: 1, Measurements: map[string]Range{
			"rssi_dbm": {-140_000, 0}, "snr_db": {-30_000, 40_000}, "beacons": {0, 10_000_000},
		}},
		pb.ResourceKind_RESOURCE_KIND_WEATHER: {Score: 1, Measurements: map[string]Range{
			"temperature_c": {-90_000, 60_000}, "humidity_pct": {0, 100_000}, "pressure_hpa": {850_000, 1_090_000},
		}},
		pb.ResourceKind_RESOURCE_KIND_ENERGY: {Score: 1, Measurements: map[string]Range{
			"power_w": {0, 50_000_000}, "voltage_v": {0, 500_000},
		}},
		pb.ResourceKind_RESOURCE_KIND_BANDWIDTH: {Score: 1, Measurements: map[string]Range{
			"throughput_mbps": {0, 100_000_000}, "latency_ms": {0, 10_000_000},
		}},
	}
}

// deviceState is what the checks remember of one device: its last accepted reading.
type deviceState struct {
	lastSeq uint64
	lastSig [32]byte // sha256 of the last accepted signature
}

// Checker decides readings. It is not safe for concurrent use; the service
// runs one per partition set.
type Checker struct {
	rules     map[pb.ResourceKind]KindRules
	maxFuture time.Duration
	maxPast   time.Duration
	state     map[string]deviceState // committed
	pending   map[string]deviceState // decided in the open transaction
}

// NewChecker returns a checker with empty history.
func NewChecker(rules map[pb.ResourceKind]KindRules, maxFuture, maxPast time.Duration) *Checker {
	return &Checker{rules: rules, maxFuture: maxFuture, maxPast: maxPast, state: map[string]deviceState{}, pending: map[string]deviceState{}}
}

// Decision is the outcome for one reading: Reason is empty when it is valid.
type Decision struct {
	Reason string
	Detail string
	Score  uint64
}

func (c *Checker) last(device string) (deviceState, bool) {
	if st, ok := c.pending[device]; ok {
		return st, true
	}
	st, ok := c.state[device]
	return st, ok
}

// Check decides one reading. Times are judged against the ingest clock
// (received_at), never the validator's, so a replayed log decides the same.
// A valid reading becomes the device's last one in the pending state.
func (c *Checker) Check(raw *pb.RawReading) Decision {
	r := raw.GetSigned().GetReading()
	sig := sha256.Sum256(raw.GetSigned().GetSignature())
	if st, ok := c.last(r.DeviceId); ok && r.Seq <= st.lastSeq {
		if r.Seq == st.lastSeq && sig == st.lastSig {
			return Decision{Reason: ReasonDuplicate, Detail: fmt.Sprintf("seq %d already accepted", r.Seq)}
		}
		return Decision{Reason: ReasonSequenceReplay, Detail: fmt.Sprintf("seq %d, last accepted %d", r.Seq, st.lastSeq)}
	}
	skew := time.Duration(r.EventTimeMs-raw.ReceivedAtMs) * time.Millisecond
	if skew > c.maxFuture {
		return Decision{Reason: ReasonClockFuture, Detail: fmt.Sprintf("event time %s ahead of ingest, limit %s", skew, c.maxFuture)}
	}
	if -skew > c.maxPast {
		return Decision{Reason: ReasonClockStale, Detail: fmt.Sprintf("event time %s behind ingest, limit %s", -skew, c.maxPast)}
	}
	rules := c.rules[r.Kind]
	names := make([]string, 0, len(r.Measurements))
	for name := range r.Measurements {
		names = append(names, name)
	}
	sort.Strings(names) // the first offending measurement is reported, deterministically
	for _, name := range names {
		v := r.Measurements[name]
		rg, ok := rules.Measurements[name]
		if !ok {
			return Decision{Reason: ReasonUnknownMeasurement, Detail: fmt.Sprintf("%s is not a measurement of %s", name, r.Kind)}
		}
		if v < rg.Min || v > rg.Max {
			return Decision{Reason: ReasonOutOfRange, Detail: fmt.Sprintf("%s=%d outside [%d, %d]", name, v, rg.Min, rg.Max)}
		}
	}
	c.pending[r.DeviceId] = deviceState{lastSeq: r.Seq, lastSig: sig}
	return Decision{Score: rules.Score}
}

// Commit makes the pending decisions history (the transaction committed).
func (c *Checker) Commit() {
	for k, v := range c.pending {
		c.state[k] = v
	}
	clear(c.pending)
}

// Abort forgets the pending decisions (the transaction aborted: the readings
// will be decided again).
func (c *Checker) Abort() { clear(c.pending) }

// remember records an accepted reading read back from the valid topic.
func (c *Checker) remember(r *pb.Reading, signature []byte) {
	if st, ok := c.state[r.DeviceId]; !ok || r.Seq >= st.lastSeq {
		c.state[r.DeviceId] = deviceState{lastSeq: r.Seq, lastSig: sha256.Sum256(signature)}
	}
}
