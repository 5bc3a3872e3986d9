package validators

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/fieldmint/fieldmint/internal/geo"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// witness judges a hotspot's witness report. home is the witness's
// asserted location, lookup finds another device's registry record.
func (x *cross) witness(r *pb.Reading, dev *pb.Device, lookup func(string) *pb.Device, rules CrossRules, region func(*pb.Location) string) Decision {
	w := r.GetWitness()
	if w == nil {
		return Decision{}
	}
	if w.BeaconDeviceId == r.DeviceId {
		return reject(ReasonWitnessSelf, "witnessed its own beacon %d", w.BeaconSeq)
	}
	b, sent := x.beacons[beaconKey{w.BeaconDeviceId, w.BeaconSeq}]
	beaconer := lookup(w.BeaconDeviceId)
	if sent && abs(r.EventTimeMs-b.eventMs) > rules.WitnessWindow.Milliseconds() {
		sent = false // an old beacon heard again is no evidence of coverage now
	}
	if !sent {
		// A beaconer of another region is decided by another validator:
		// whether it beaconed is not visible here (scoring checks it at
		// epoch close, over every region), but where it stands is, so the
		// distance and the strength are checked all the same, against the
		// strongest transmitter allowed.
		if beaconer == nil || dev == nil || region(beaconer.Location) == region(dev.Location) {
			return reject(ReasonWitnessUnknownBeacon, "no beacon %d of %s within %s", w.BeaconSeq, w.BeaconDeviceId, rules.WitnessWindow)
		}
		b = beacon{}
	}
	// Distances between asserted locations: where the owners said they are.
	wLat, wLon := r.GetLocation().GetLatE7(), r.GetLocation().GetLonE7()
	if l := dev.GetLocation(); l != nil {
		wLat, wLon = l.LatE7, l.LonE7
	}
	bLat, bLon := b.lat, b.lon
	if l := beaconer.GetLocation(); l != nil {
		bLat, bLon = l.LatE7, l.LonE7
	}
	if (wLat == 0 && wLon == 0) || (bLat == 0 && bLon == 0) {
		return Decision{}
	}
	d := geo.DistanceM(wLat, wLon, bLat, bLon)
	if d < rules.WitnessMinDistM {
		return reject(ReasonWitnessTooClose, "%d m from beaconer %s, least %d m", d, w.BeaconDeviceId, rules.WitnessMinDistM)
	}
	rssi, ok := r.Measurements[RSSIMeasurement]
	if !ok || rules.WitnessFreqMHz <= 0 {
		return Decision{}
	}
	tx := b.txMilli
	if tx == 0 {
		tx = rules.MaxTxMilliDBm
	}
	strongest := tx - FSPLMilliDB(d, rules.WitnessFreqMHz) + rules.WitnessMarginMilliDB
	if rssi > strongest {
		return reject(ReasonWitnessTooStrong, "rssi %d mdBm at %d m from %s (tx %d mdBm): free space allows at most %d mdBm", rssi, d, w.BeaconDeviceId, tx, strongest)
	}
	return Decision{}
}

// log10Micro[i] is log10(1 + i/1024) * 1e6, rounded, for the mantissa of
// integer logarithms (built once; six digits leave no room for a libm's
// last-bit differences).
var log10Micro = func() (t [1025]int64) {
	for i := range t {
		t[i] = int64(math.Round(math.Log10(1+float64(i)/1024) * 1e6))
	}
	return
}()

// log10E6 is log10(n) * 1e6 for n >= 1, in integers.
func log10E6(n int64) int64 {
	e := bits.Len64(uint64(n)) - 1 // n = 2^e * (1 + f)
	var f int64
	if e >= 10 {
		f = (n >> (e - 10)) & 1023
	} else {
		f = (n << (10 - e)) & 1023
	}
	const log10of2 = 301_030 // log10(2) * 1e6
	return int64(e)*log10of2 + log10Micro[f]
}

// FSPLMilliDB is the free-space path loss over d metres at f MHz, in
// thousandths of a dB: 20 log10(d) + 20 log10(f) - 27.55.
func FSPLMilliDB(dM, fMHz int64) int64 {
	return (20*log10E6(max(dM, 1))+20*log10E6(fMHz))/1000 - 27_550
}

func formatPeers(peers []string) string {
	if len(peers) > 5 {
		return fmt.Sprintf("%v and %d more", peers[:5], len(peers)-5)
	}
	return fmt.Sprint(peers)
}
