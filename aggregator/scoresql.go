package aggregator

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// The epoch's scores are computed by one query on the server, so that
// closing an epoch of a million devices moves no row through Go: reading
// them, sorting them and writing them back took longer than computing them
// (docs/scoring.md, "Speed"). The formula is the one finish and base state
// in Go, step for step in the same integer arithmetic; the tests hold the
// two equal on every epoch they score (TestWorkedExample, TestScoreQuery).

// query is SQL text with its positional arguments, each added with the
// text that binds it. Integers from the validated policy are written into
// the text; strings (kinds, measurement names, reasons, topics) are bound.
type query struct {
	strings.Builder
	args []any
}

func (q *query) add(sql string, args ...any) {
	q.WriteString(sql)
	q.args = append(q.args, args...)
}

// scoreQuery returns the SELECT that scores epoch: one row per device with
// a valid reading in it, the columns epoch then tables.ScoreColumns. evidence is
// the information checks' verdict (Evidence): the reason that stops each
// flagged device's pay.
func scoreQuery(s Scoring, epochLength time.Duration, epoch uint64, rejectedTopic string, cut map[int32]int64, evidence map[string]string) *query {
	q := &query{}
	kinds := make([]pb.ResourceKind, 0, len(s.Kinds))
	for k := range s.Kinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	q.add("WITH kind_parts AS (")
	for i, k := range kinds {
		if i > 0 {
			q.add("\n  UNION ALL\n")
		}
		kindParts(q, k, s.Kinds[k], epochLength, epoch)
	}
	q.add("),\n")
	fraudCounts(q, s, epoch, rejectedTopic, cut)
	// paid: no fraud, no stream without information, some uptime, a live
	// sensor and a trusted place (see DeviceScore.paid). The paid devices of
	// a kind in a cell share it; the cells with a paid device in an area
	// crowd it.
	flagged, reasons := []string{""}, []string{""} // never empty: ClickHouse types an empty array as Array(Nothing)
	for _, d := range slices.Sorted(maps.Keys(evidence)) {
		flagged, reasons = append(flagged, d), append(reasons, evidence[d])
	}
	fmt.Fprintf(q, `
SELECT toUInt64(%d) AS epoch, device_id, owner, kind, readings, uptime, complete, moving, quality, drift_m, trust, witnessed, delivered,
       weight, cell, sharing, area, occupied, crowding, frauds, evidence,
       if(paid, intDiv(intDiv(intDiv(intDiv(base, sharing) * quality, 10000) * trust, 10000) * crowding, 10000), toUInt64(0)) AS score
FROM (
  SELECT *, intDiv(10000 * least(crowd_target, occupied), occupied) AS crowding
  FROM (
    SELECT *, greatest(countIf(paid) OVER (PARTITION BY kind, cell), 1) AS sharing,
              greatest(uniqExactIf(cell, paid) OVER (PARTITION BY kind, area), 1) AS occupied
    FROM (
      SELECT p.*, toUInt64(f.frauds) AS frauds, `, epoch)
	q.add(`arrayElement(?, indexOf(?, device_id)) AS evidence,
             frauds = 0 AND evidence = '' AND uptime > 0 AND quality > 0 AND trust > 0 AS paid
      FROM kind_parts AS p LEFT JOIN fraud_counts AS f USING device_id)))`, reasons, flagged)
	return q
}

// kindParts adds the SELECT of one kind's parts of the formula that come
// from the device's own valid readings in the epoch, with the multipliers
// and the points (base) that depend on the device alone. The readings table
// is ordered by kind first, so each kind reads its own range.
func kindParts(q *query, k pb.ResourceKind, ks KindScoring, epochLength time.Duration, epoch uint64) {
	start, interval := int64(epoch)*epochLength.Milliseconds(), ks.Interval.Milliseconds()
	intervals := uint64(epochLength / ks.Interval)
	required := ks.required()
	slot := fmt.Sprintf("intDiv(toUnixTimestamp64Milli(event_time) - %d, %d)", start, interval)
	// base, as DeviceScore.base: rewarded witnesses, or a counter's
	// increase capped at the capacity of each interval of uptime (in
	// 128 bits, as bits.Mul64 and Div64), or uptime.
	base := "uptime * weight"
	switch {
	case ks.WitnessesPerBeacon > 0:
		base = "witnessed * weight"
	case ks.Counter != "":
		base = fmt.Sprintf("toUInt64(intDiv(toUInt128(least(delivered, %d * uptime)) * weight, %d))", ks.capacity(), ks.capacity())
	}
	q.add("  SELECT device_id, owner_ AS owner, kind_ AS kind, valid AS readings, uptime, complete, moving, ")
	fmt.Fprintf(q, "if(uptime = 0 OR (%d > 0 AND moving = 0), toUInt64(0), intDiv(10000 * complete, uptime)) AS quality, drift AS drift_m, ", len(required))
	fmt.Fprintf(q, "multiIf(drift <= %d, toUInt64(10000), drift <= %d, toUInt64(%d), toUInt64(0)) AS trust, ", ks.TrustFullM, ks.TrustPartialM, ks.TrustPartialBP)
	witnessed := "toUInt64(0)"
	if ks.WitnessesPerBeacon > 0 {
		witnessed = fmt.Sprintf("least(toUInt64(w.witnessed), %d)", intervals)
	}
	fmt.Fprintf(q, "%s AS witnessed, delivered, weight, cell, area, toUInt64(%d) AS crowd_target, %s AS base\n", witnessed, ks.CrowdTarget, base)
	q.add("  FROM (SELECT device_id, any(owner) AS owner_, ? AS kind_, toUInt64(count()) AS valid, ", k.String())
	fmt.Fprintf(q, "least(uniqExact(%s), %d) AS uptime, ", slot, intervals)
	q.add(fmt.Sprintf("least(uniqExactIf(%s, hasAll(mapKeys(measurements), ?)), %d) AS complete, ", slot, intervals), required)
	// How many required measurements spread past their noise floor over
	// the epoch's time.
	q.add("toUInt64(0")
	for _, m := range required {
		q.add(" + (maxIf(measurements[?], mapContains(measurements, ?)) - minIf(measurements[?], mapContains(measurements, ?))", m, m, m, m)
		fmt.Fprintf(q, " > %d)", ks.Measurements[m])
	}
	q.add(") AS moving, toUInt64(max(drift_m)) AS drift, ")
	// What the counter rose by: the sum of its increases in event-time order.
	if ks.Counter == "" {
		q.add("toUInt64(0) AS delivered, ")
	} else {
		q.add(`toUInt64(arraySum(arrayMap(x -> greatest(x, 0), arrayDifference(arrayMap(r -> r.3,
             arraySort(groupArrayIf((event_time, seq, measurements[?]), mapContains(measurements, ?)))))))) AS delivered, `, ks.Counter, ks.Counter)
	}
	fmt.Fprintf(q, "toUInt64(%d) AS weight, ", ks.Weight)
	// The cell of the first valid reading (by event time, then sequence).
	fmt.Fprintf(q, `geoToH3(argMin((lat_e7, lon_e7), (event_time, seq)).1 / 1e7, argMin((lat_e7, lon_e7), (event_time, seq)).2 / 1e7, toUInt8(%d)) AS cell,
             h3ToParent(cell, toUInt8(%d)) AS area
        FROM readings
        WHERE kind = ? AND epoch = %d AND status = 'valid'
        GROUP BY device_id) AS p`, ks.CellResolution, ks.CrowdResolution, epoch)
	q.args = append(q.args, k.String())
	if ks.WitnessesPerBeacon > 0 {
		q.add("\n  LEFT JOIN (")
		witnesses(q, k, ks, start, epoch)
		q.add(") AS w USING device_id")
	}
}

// witnesses adds the SELECT of each device's rewarded witnesses in the
// epoch: its valid witness reports of beacons it heard among their first
// witnessesPerBeacon witnesses (by the report's event time, then device
// id), one per beaconer and interval. A beacon must be a valid beacon
// reading of this epoch or the one before: the validators cannot see a
// beacon of another region, this query sees every region.
func witnesses(q *query, k pb.ResourceKind, ks KindScoring, start int64, epoch uint64) {
	fmt.Fprintf(q, `SELECT device_id, uniqExact(witness_of, intDiv(toUnixTimestamp64Milli(heard) - %d, %d)) AS witnessed
    FROM (SELECT device_id, witness_of, min(event_time) AS heard,
                 row_number() OVER (PARTITION BY witness_of, witness_seq ORDER BY min(event_time), device_id) AS rank
          FROM readings
          WHERE kind = ? AND epoch = %d AND status = 'valid' AND witness_of != ''
            AND (witness_of, witness_seq) IN (SELECT device_id, seq FROM readings
                WHERE kind = ? AND epoch BETWEEN %d AND %d AND status = 'valid' AND mapContains(measurements, 'beacon_tx_dbm'))
          GROUP BY device_id, witness_of, witness_seq)
    WHERE rank <= %d
    GROUP BY device_id`, start, ks.Interval.Milliseconds(), epoch, epoch-min(epoch, 1), epoch, ks.WitnessesPerBeacon)
	q.args = append(q.args, k.String(), k.String())
}

// fraudCounts adds fraud_counts: each device's fraud-class rejections of
// epochs epoch-Probation .. epoch+Hold (by the readings' own event time)
// in the rejected topic up to cut. DUPLICATE is benign as a retry: a device
// with more than DuplicateRatio of them per valid reading in those epochs
// is replaying, and every DUPLICATE beyond that counts as fraud. The valid
// readings are counted only for the devices that sent DUPLICATEs: counting
// every device's over five epochs was most of this part's time.
func fraudCounts(q *query, s Scoring, epoch uint64, rejectedTopic string, cut map[int32]int64) {
	parts, offsets := make([]int32, 0, len(cut)), make([]int64, 0, len(cut))
	for p := range cut {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	for _, p := range parts {
		offsets = append(offsets, cut[p])
	}
	from, through := epoch-min(epoch, s.Probation), epoch+s.Hold
	q.add(fmt.Sprintf(`rejections AS (
  SELECT device_id, countIf(reason NOT IN ?) AS fraud_rejections, countIf(reason = 'DUPLICATE') AS duplicates
  FROM readings
  WHERE epoch BETWEEN %d AND %d AND status = 'rejected' AND kafka_topic = ?
    AND toInt64(kafka_offset) <= transform(toInt32(kafka_partition), ?, ?, toInt64(-1))
  GROUP BY device_id),
`, from, through), append([]string{""}, s.Benign...), rejectedTopic, parts, offsets)
	fmt.Fprintf(q, `fraud_counts AS (
  SELECT device_id, fraud_rejections + if(%[3]d > 0 AND duplicates > %[3]d * valid, duplicates - %[3]d * valid, toUInt64(0)) AS frauds
  FROM rejections AS r
  LEFT JOIN (SELECT device_id, count() AS valid FROM readings
             WHERE epoch BETWEEN %[1]d AND %[2]d AND status = 'valid'
               AND device_id IN (SELECT device_id FROM rejections WHERE duplicates > 0)
             GROUP BY device_id) AS v USING device_id)`, from, through, s.DuplicateRatio)
}
