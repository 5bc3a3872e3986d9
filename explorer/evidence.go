package explorer

// A device's evidence: its rejected readings (the device page shows the
// newest, the rejections answer lists them by epoch and reason) and the
// information checks' findings about its streams.

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/fieldmint/fieldmint/api/wire"
)

// RejectedReading is a rejected reading with its evidence.
type RejectedReading struct {
	Epoch        uint64           `json:"epoch"`
	Seq          uint64           `json:"seq"`
	EventTime    string           `json:"eventTime"`
	ReceivedAt   string           `json:"receivedAt"`
	Reason       string           `json:"reason"`
	Detail       string           `json:"detail"` // the values that tripped the rule, and the rule
	Measurements map[string]int64 `json:"measurements"`
	LatE7        int32            `json:"latE7"`
	LonE7        int32            `json:"lonE7"`
}

// rejectedReadings reads the device's newest rejected readings, of one
// epoch and one reason if given.
func (x *Explorer) rejectedReadings(ctx context.Context, kind, id string, epoch *uint64, reason string, limit uint64) ([]RejectedReading, error) {
	var e uint64
	if epoch != nil {
		e = *epoch
	}
	rows, err := x.Conn.Query(ctx, sqlRejectedReadings, kind, id, epoch != nil, e, reason, reason, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RejectedReading{}
	for rows.Next() {
		var x RejectedReading
		var at, received time.Time
		if err := rows.Scan(&x.Epoch, &x.Seq, &at, &received, &x.Reason, &x.Detail, &x.Measurements, &x.LatE7, &x.LonE7); err != nil {
			return nil, err
		}
		x.EventTime, x.ReceivedAt = at.UTC().Format(time.RFC3339Nano), received.UTC().Format(time.RFC3339Nano)
		out = append(out, x)
	}
	return out, rows.Err()
}

// exploreRejections serves GET /v1/explorer/devices/{id}/rejections?epoch=N&reason=R&limit=L
// (default 100, at most 1000): the device's rejected readings with their
// evidence, newest first.
func (x *Explorer) exploreRejections(w http.ResponseWriter, r *http.Request) {
	id, bad := badDevice(w, r)
	if bad {
		return
	}
	limit, ok := wire.Limit(w, r, 100)
	if !ok {
		return
	}
	q := r.URL.Query()
	var epoch *uint64
	if s := q.Get("epoch"); s != "" {
		e, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			wire.WriteError(w, http.StatusBadRequest, wire.CodeBadEpoch, "epoch must be a non-negative integer")
			return
		}
		epoch = &e
	}
	info, found, err := x.deviceInfo(r.Context(), id)
	if err != nil {
		wire.WriteError(w, http.StatusInternalServerError, wire.CodeInternal, "query failed")
		return
	}
	if !found {
		wire.WriteError(w, http.StatusNotFound, wire.CodeNotFound, "device "+strconv.Quote(id)+" is not registered")
		return
	}
	out, err := x.rejectedReadings(r.Context(), info.Kind, id, epoch, q.Get("reason"), limit)
	if err != nil {
		wire.WriteError(w, http.StatusInternalServerError, wire.CodeInternal, "query failed")
		return
	}
	wire.WriteJSON(w, map[string]any{"deviceId": id, "rejections": out})
}

// Finding is an information check's strongest evidence about the device in
// an epoch (stream_evidence; docs/scoring.md, "Streams without information
// of their own"): what its stream was compared with, and how close it came.
type Finding struct {
	Reason      string `json:"reason"`
	Flagged     bool   `json:"flagged"` // it stopped the device's pay
	Other       string `json:"other"`   // the device it tracked or kept time with; "" for its own past
	Measurement string `json:"measurement"`
	LagMs       int64  `json:"lagMs"`
	From        string `json:"from"` // the stretch compared of the earlier stream
	To          string `json:"to"`
	Samples     uint64 `json:"samples"`
	BetaBP      int64  `json:"betaBP"`
	Value       int64  `json:"value"`
}

// findings reads the information checks' evidence about a device in the
// given epochs, by the table's key (epoch, device).
func (x *Explorer) findings(ctx context.Context, id string, epochs []uint64) (map[uint64][]Finding, error) {
	rows, err := x.Conn.Query(ctx, sqlFindings, epochs, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint64][]Finding{}
	for rows.Next() {
		var e uint64
		var f Finding
		var from, to time.Time
		if err := rows.Scan(&e, &f.Reason, &f.Flagged, &f.Other, &f.Measurement, &f.LagMs, &from, &to, &f.Samples, &f.BetaBP, &f.Value); err != nil {
			return nil, err
		}
		f.From, f.To = from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano)
		out[e] = append(out[e], f)
	}
	return out, rows.Err()
}
