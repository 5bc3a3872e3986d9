package tables

import "slices"

// Class says what a rejection reason says about the device.
type Class string

const (
	// Fraud: the reading breaks a rule a working, honest device keeps; the
	// scoring forfeits the device's pay around it (docs/scoring.md).
	Fraud Class = "fraud"
	// Benign: no verdict on the device (a retry, the pipeline's timing, a
	// producer bug). The reading earns nothing, and costs nothing else.
	Benign Class = "benign"
)

// Reason is one rejection code of readings.reason, as the validators'
// catalog (validators/README.md) and the aggregator (LATE) write it.
type Reason struct {
	Code  string
	Class Class
	By    string // the stage that decides it: validators or aggregator
}

// Reasons is the rejection catalog, in the order the validators' checks
// run, then the aggregator's. A test holds it to validators.Reasons and
// aggregator.ReasonLate.
var Reasons = []Reason{
	{"DUPLICATE", Benign, "validators"}, // a retry; replays beyond scoring.duplicateRatio count as fraud
	{"SEQUENCE_REPLAY", Fraud, "validators"},
	{"DEVICE_DENYLISTED", Fraud, "validators"},
	{"DEVICE_INACTIVE", Fraud, "validators"},
	{"MAKER_REMOVED", Fraud, "validators"},
	{"CLOCK_FUTURE", Fraud, "validators"},
	{"CLOCK_STALE", Fraud, "validators"},
	{"UNKNOWN_MEASUREMENT", Fraud, "validators"},
	{"OUT_OF_RANGE", Fraud, "validators"},
	{"RATE_EXCEEDED", Fraud, "validators"},
	{"STUCK_SENSOR", Fraud, "validators"},
	{"IMPLAUSIBLE_JUMP", Fraud, "validators"},
	{"IMPOSSIBLE_MOVEMENT", Fraud, "validators"},
	{"LOCATION_DRIFT", Fraud, "validators"},
	{"WITNESS_SELF", Fraud, "validators"},
	{"WITNESS_UNKNOWN_BEACON", Fraud, "validators"},
	{"WITNESS_TOO_CLOSE", Fraud, "validators"},
	{"WITNESS_TOO_STRONG", Fraud, "validators"},
	{"CLONED_STREAM", Fraud, "validators"},
	{"SYBIL_CLUSTER", Fraud, "validators"},
	{"UNDECODABLE", Benign, "validators"},
	{"LATE", Benign, "aggregator"},
}

// BenignReasons returns the codes of class Benign, in catalog order.
func BenignReasons() []string {
	var out []string
	for _, r := range Reasons {
		if r.Class == Benign {
			out = append(out, r.Code)
		}
	}
	return out
}

// IsFraud reports whether code is a fraud-class rejection. A code outside
// the catalog is fraud: an unknown rejection is never waved through.
func IsFraud(code string) bool {
	return !slices.Contains(BenignReasons(), code)
}

// ReasonsBy returns the codes stage decides, in catalog order.
func ReasonsBy(stage string) []string {
	var out []string
	for _, r := range Reasons {
		if r.By == stage {
			out = append(out, r.Code)
		}
	}
	return out
}
