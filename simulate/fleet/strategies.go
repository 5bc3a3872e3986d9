package fleet

// Strategy is what a simulated device does.
type Strategy string

// The strategies. Honest devices measure; each other strategy is one way of
// cheating, named for the report.
const (
	Honest   Strategy = "honest"
	Replay   Strategy = "replay"   // after three readings, only re-sends those
	Clock    Strategy = "clock"    // dates its readings ten minutes ahead, to be paid in a later epoch too
	Inflate  Strategy = "inflate"  // reports values beyond what the kind can measure, or sudden jumps
	Constant Strategy = "constant" // fabricates data: the same values every time
	Spoof    Strategy = "spoof"    // reports from 5 km away from where it was registered, hopping about
	Clone    Strategy = "clone"    // copies an honest device's readings as its own
	Sybil    Strategy = "sybil"    // one of four devices in one spot, all sending the same data
	Witness  Strategy = "witness"  // a hotspot reporting witnesses of beacons it never heard
	Flood    Strategy = "flood"    // sends ten readings a tick, a tenth of a second apart
	Forge    Strategy = "forge"    // signs with a key that is not its registered one
	// Counterfeit is a device made at home: a key attested by a maker key
	// of its own, which the network does not know.
	Counterfeit Strategy = "counterfeit"

	// Strategies written from validators/README.md to stay just under each
	// documented threshold, or to straddle a region border.

	// Dither fabricates a constant with a dither of one unit: never the same
	// values twice in a row, so STUCK_SENSOR (exact repeats) never fires.
	Dither Strategy = "dither"
	// Trickle sends two readings per tick, 1001 ms apart: just over every
	// kind's minInterval, so RATE_EXCEEDED never fires.
	Trickle Strategy = "trickle"
	// Drifter reports from 450 m off its asserted location, under
	// maxDriftM (500 m): a device moved to a better spot that keeps
	// claiming the old one.
	Drifter Strategy = "drifter"
	// Border is one box with two keys, registered 110 m apart on either side
	// of a region border (a whole degree of latitude), both reporting the
	// same weather: SYBIL_CLUSTER and CLONED_STREAM compare devices within
	// a region only.
	Border Strategy = "border"
	// Hopper replays its old readings, moving its asserted location to
	// another region before each: the validators' history of a device is
	// kept per partition, and a region is a partition.
	Hopper Strategy = "hopper"
)

// Cheats lists the cheating strategies, in the order they are handed out.
var Cheats = []Strategy{Replay, Clock, Inflate, Constant, Spoof, Clone, Sybil, Witness, Flood, Forge, Counterfeit,
	Dither, Trickle, Drifter, Border, Hopper}
