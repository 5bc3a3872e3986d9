package audit

import "time"

// The rows of an export's Parquet files, one type per file. Each field
// names its ClickHouse column (ch) and its Parquet column (parquet); times
// are UTC milliseconds, as ClickHouse keeps them. docs/audit.md lists the
// files and what each column means.

// Reading is a decided reading (readings): valid or rejected with its
// reason, with the bytes the device signed and its signature.
type Reading struct {
	DeviceID       string           `ch:"device_id" parquet:"device_id"`
	Seq            uint64           `ch:"seq" parquet:"seq"`
	EventTime      time.Time        `ch:"event_time" parquet:"event_time,timestamp(millisecond)"`
	Epoch          uint64           `ch:"epoch" parquet:"epoch"`
	Kind           string           `ch:"kind" parquet:"kind,dict"`
	Owner          string           `ch:"owner" parquet:"owner,dict"`
	Measurements   map[string]int64 `ch:"measurements" parquet:"measurements"`
	LatE7          int32            `ch:"lat_e7" parquet:"lat_e7"`
	LonE7          int32            `ch:"lon_e7" parquet:"lon_e7"`
	ReceivedAt     time.Time        `ch:"received_at" parquet:"received_at,timestamp(millisecond)"`
	Status         string           `ch:"status" parquet:"status,dict"`
	Reason         string           `ch:"reason" parquet:"reason,dict"`
	Detail         string           `ch:"detail" parquet:"detail"`
	KafkaTopic     string           `ch:"kafka_topic" parquet:"kafka_topic,dict"`
	KafkaPartition uint32           `ch:"kafka_partition" parquet:"kafka_partition"`
	KafkaOffset    uint64           `ch:"kafka_offset" parquet:"kafka_offset"`
	DriftM         uint32           `ch:"drift_m" parquet:"drift_m"`
	WitnessOf      string           `ch:"witness_of" parquet:"witness_of"`
	WitnessSeq     uint64           `ch:"witness_seq" parquet:"witness_seq"`
	Wire           uint8            `ch:"wire" parquet:"wire"`
	ReadingBytes   []byte           `ch:"reading_bytes" parquet:"reading_bytes"`
	Signature      []byte           `ch:"signature" parquet:"signature"`
	// TrustedBy is the LoRaWAN network server that vouched for a reading
	// its device did not sign (wire 3); empty in exports made before it was kept.
	TrustedBy string `ch:"trusted_by" parquet:"trusted_by,dict"`
}

// Device is a device's registry record as it stands (devices, newest
// record): its key checks its readings' signatures.
type Device struct {
	DeviceID       string    `ch:"device_id" parquet:"device_id"`
	PublicKey      string    `ch:"public_key" parquet:"public_key"`
	Kind           string    `ch:"kind" parquet:"kind,dict"`
	Owner          string    `ch:"owner" parquet:"owner,dict"`
	LatE7          int32     `ch:"lat_e7" parquet:"lat_e7"`
	LonE7          int32     `ch:"lon_e7" parquet:"lon_e7"`
	RegisteredAt   time.Time `ch:"registered_at" parquet:"registered_at,timestamp(millisecond)"`
	Active         bool      `ch:"active" parquet:"active"`
	Denied         bool      `ch:"denied" parquet:"denied"`
	DeniedReason   string    `ch:"denied_reason" parquet:"denied_reason"`
	DeniedBy       string    `ch:"denied_by" parquet:"denied_by"`
	LastChange     time.Time `ch:"last_change" parquet:"last_change,timestamp(millisecond)"`
	MakerID        string    `ch:"maker_id" parquet:"maker_id,dict"`
	MovedAt        time.Time `ch:"moved_at" parquet:"moved_at,timestamp(millisecond)"`
	Deleted        bool      `ch:"deleted" parquet:"deleted"`
	KafkaPartition uint32    `ch:"kafka_partition" parquet:"kafka_partition"`
	KafkaOffset    uint64    `ch:"kafka_offset" parquet:"kafka_offset"`
	// Attestation is the maker's signature (hex) over the device's key and
	// kind; empty in records written before the registry kept it.
	Attestation string `ch:"attestation" parquet:"attestation"`
}

// Maker is a maker of the registry (the makers topic) when the epoch was
// exported: its key checks its devices' attestations.
type Maker struct {
	MakerID      string `parquet:"maker_id"`
	PublicKey    string `parquet:"public_key"` // ed25519, hex
	Name         string `parquet:"name"`
	Active       bool   `parquet:"active"`
	LastChangeMs int64  `parquet:"last_change_ms"`
}

// Score is a device's stored score of the epoch (device_scores): what the
// operator paid by, compared with what the readings give.
type Score struct {
	Epoch     uint64 `ch:"epoch" parquet:"epoch"`
	DeviceID  string `ch:"device_id" parquet:"device_id"`
	Owner     string `ch:"owner" parquet:"owner,dict"`
	Kind      string `ch:"kind" parquet:"kind,dict"`
	Readings  uint64 `ch:"readings" parquet:"readings"`
	Uptime    uint64 `ch:"uptime" parquet:"uptime"`
	Complete  uint64 `ch:"complete" parquet:"complete"`
	Moving    uint64 `ch:"moving" parquet:"moving"`
	Quality   uint64 `ch:"quality" parquet:"quality"`
	DriftM    uint64 `ch:"drift_m" parquet:"drift_m"`
	Trust     uint64 `ch:"trust" parquet:"trust"`
	Witnessed uint64 `ch:"witnessed" parquet:"witnessed"`
	Delivered uint64 `ch:"delivered" parquet:"delivered"`
	Weight    uint64 `ch:"weight" parquet:"weight"`
	Cell      uint64 `ch:"cell" parquet:"cell"`
	Sharing   uint64 `ch:"sharing" parquet:"sharing"`
	Area      uint64 `ch:"area" parquet:"area"`
	Occupied  uint64 `ch:"occupied" parquet:"occupied"`
	Crowding  uint64 `ch:"crowding" parquet:"crowding"`
	Frauds    uint64 `ch:"frauds" parquet:"frauds"`
	Evidence  string `ch:"evidence" parquet:"evidence,dict"`
	Score     uint64 `ch:"score" parquet:"score"`
}

// Evidence is a stored finding of the information checks (stream_evidence).
type Evidence struct {
	Epoch       uint64    `ch:"epoch" parquet:"epoch"`
	DeviceID    string    `ch:"device_id" parquet:"device_id"`
	Reason      string    `ch:"reason" parquet:"reason,dict"`
	Flagged     bool      `ch:"flagged" parquet:"flagged"`
	Other       string    `ch:"other" parquet:"other"`
	Measurement string    `ch:"measurement" parquet:"measurement,dict"`
	LagMs       int64     `ch:"lag_ms" parquet:"lag_ms"`
	FromTime    time.Time `ch:"from_time" parquet:"from_time,timestamp(millisecond)"`
	ToTime      time.Time `ch:"to_time" parquet:"to_time,timestamp(millisecond)"`
	Samples     uint64    `ch:"samples" parquet:"samples"`
	BetaBP      int64     `ch:"beta_bp" parquet:"beta_bp"`
	Value       int64     `ch:"value" parquet:"value"`
}

// Epoch is a closed epoch of the window (epochs).
type Epoch struct {
	Epoch     uint64    `ch:"epoch" parquet:"epoch"`
	StartTime time.Time `ch:"start_time" parquet:"start_time,timestamp(millisecond)"`
	EndTime   time.Time `ch:"end_time" parquet:"end_time,timestamp(millisecond)"`
	ClosedAt  time.Time `ch:"closed_at" parquet:"closed_at,timestamp(millisecond)"`
}

// Cut is where the epoch's scores cut the rejected topic (epoch_cuts): the
// fraud-class rejections counted are those up to these offsets.
type Cut struct {
	Epoch           uint64          `ch:"epoch" parquet:"epoch"`
	RejectedOffsets map[int32]int64 `ch:"rejected_offsets" parquet:"rejected_offsets"`
}

// Settlement is the settlement of the epoch, and of the epoch it builds on,
// in its furthest state. Token amounts are decimal base units.
type Settlement struct {
	Epoch    uint64 `parquet:"epoch"`
	Root     string `parquet:"root"`
	Total    string `parquet:"total"`
	Emission string `parquet:"emission"`
	Accounts uint32 `parquet:"accounts"`
	State    string `parquet:"state"`
	TxHash   string `parquet:"tx_hash"`
	Block    uint64 `parquet:"block"`
}

// Leaf is an account's leaf of the epoch's tree (reward_leaves), without
// its proof (the tree dump has every node). Amounts in decimal base units.
type Leaf struct {
	Account    string `parquet:"account"`
	Score      uint64 `parquet:"score"`
	Amount     string `parquet:"amount"`
	Cumulative string `parquet:"cumulative"`
}
