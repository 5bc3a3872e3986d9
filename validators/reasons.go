package validators

// Rejection reason codes: the catalog documented in validators/README.md.
// Every rejected reading carries exactly one. Codes are stable: analysts and
// dashboards group by them.
const (
	// ReasonDuplicate: a signed reading the device already had accepted (a
	// retried send), among its last DuplicateWindow accepted ones. Benign,
	// and not counted twice.
	ReasonDuplicate = "DUPLICATE"
	// ReasonSequenceReplay: a sequence number at or below the device's last
	// accepted one, with other content: a replayed or reordered reading.
	ReasonSequenceReplay = "SEQUENCE_REPLAY"
	// ReasonDeviceDenylisted: an admin denylisted the device before ingest
	// received the reading.
	ReasonDeviceDenylisted = "DEVICE_DENYLISTED"
	// ReasonDeviceInactive: the owner deactivated the device before ingest
	// received the reading.
	ReasonDeviceInactive = "DEVICE_INACTIVE"
	// ReasonMakerRemoved: an admin removed the device's maker from the
	// network before ingest received the reading: its devices are unpaid.
	ReasonMakerRemoved = "MAKER_REMOVED"
	// ReasonClockFuture: event time further ahead of the ingest clock than MaxFuture.
	ReasonClockFuture = "CLOCK_FUTURE"
	// ReasonClockStale: event time further behind the ingest clock than MaxPast.
	ReasonClockStale = "CLOCK_STALE"
	// ReasonUnknownMeasurement: a measurement name the device's kind does not have.
	ReasonUnknownMeasurement = "UNKNOWN_MEASUREMENT"
	// ReasonOutOfRange: a measurement outside the physical range of its kind.
	ReasonOutOfRange = "OUT_OF_RANGE"
	// ReasonRateExceeded: a reading dated less than the kind's MinInterval
	// after the device's last accepted one (or before it): more readings
	// than the device can take.
	ReasonRateExceeded = "RATE_EXCEEDED"
	// ReasonStuckSensor: the same values as the last StuckAfter accepted
	// readings: a dead sensor, or data made up.
	ReasonStuckSensor = "STUCK_SENSOR"
	// ReasonImplausibleJump: a measurement changed more since the last
	// reading than the physics of the kind allows.
	ReasonImplausibleJump = "IMPLAUSIBLE_JUMP"
	// ReasonImpossibleMovement: the reported position moved faster since the
	// last reading than the kind can travel.
	ReasonImpossibleMovement = "IMPOSSIBLE_MOVEMENT"
	// ReasonLocationDrift: the reported position is further from the
	// location asserted at registration than the kind may be.
	ReasonLocationDrift = "LOCATION_DRIFT"
	// ReasonUndecodable: the raw record does not decode (a producer bug, never
	// a device's fault alone); kept so that no record is silently dropped.
	ReasonUndecodable = "UNDECODABLE"
)

// Reasons lists the codes in the order the checks run; the first that
// fails decides.
var Reasons = []string{
	ReasonDuplicate, ReasonSequenceReplay, ReasonDeviceDenylisted, ReasonDeviceInactive, ReasonMakerRemoved, ReasonClockFuture, ReasonClockStale,
	ReasonUnknownMeasurement, ReasonOutOfRange, ReasonRateExceeded, ReasonStuckSensor, ReasonImplausibleJump,
	ReasonImpossibleMovement, ReasonLocationDrift, ReasonWitnessSelf, ReasonWitnessUnknownBeacon, ReasonWitnessTooClose,
	ReasonWitnessTooStrong, ReasonClonedStream, ReasonSybilCluster, ReasonUndecodable,
}
