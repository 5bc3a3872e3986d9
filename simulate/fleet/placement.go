package fleet

// Who the fleet's devices are and where they stand: kinds, places and roles
// from the seed, honest neighbours in clusters, and the cheats that need a
// partner (a ring, a pair, a copied device, a site).

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// New builds the fleet deterministically from cfg.
func New(cfg Config, log *slog.Logger) (*Fleet, error) {
	if cfg.Devices <= 0 || len(cfg.Owners) == 0 || cfg.Interval < 2*time.Second || cfg.FraudPercent < 0 || cfg.FraudPercent > 100 {
		return nil, errors.New("fleet: devices and owners are required, an interval of 2s or more (hotspots report witnesses half way between readings, and validators want 1s between a device's readings), fraudPercent 0-100")
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 16
	}
	cfg.Protocol = cmp.Or(cfg.Protocol, "http")
	if !slices.Contains(Protocols, cfg.Protocol) || ((cfg.Protocol == "mqtt" || cfg.Protocol == "mixed") && cfg.MQTT == "") {
		return nil, fmt.Errorf("fleet: protocol %q: want one of %v, and with mqtt or mixed the broker's address (ingest.mqttListen)", cfg.Protocol, Protocols)
	}
	variants := cfg.Variants
	if variants == nil {
		strategies := cfg.Strategies
		if strategies == nil {
			strategies = Cheats
		}
		for _, s := range strategies {
			variants = append(variants, Variant{Strategy: s, Params: DefaultParams(s), Label: string(s)})
		}
	}
	center := cfg.Center
	if center == nil {
		center = &pb.Location{LatE7: 387_200_000, LonE7: -91_400_000}
	}
	seed := sha256.Sum256([]byte("fieldmint-fleet/" + cfg.Seed))
	f := &Fleet{cfg: cfg, log: log, counts: map[string]*Counts{}, air: newAir(center, binary.LittleEndian.Uint64(seed[:8])), variants: variants}
	cheaters := cfg.Devices * cfg.FraudPercent / 100
	every := 0
	if cheaters > 0 {
		every = cfg.Devices / cheaters
	}
	p := placer{groups: map[string]*group{}, lastHonest: map[pb.ResourceKind]*Device{}}
	for i := 0; i < cfg.Devices; i++ {
		key := seedKey(cfg.Seed, i, "device")
		h := sha256.Sum256(key)
		rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
		d := &Device{
			Kind:     pb.ResourceKind(1 + rng.IntN(4)),
			owner:    cfg.Owners[i%len(cfg.Owners)],
			key:      key,
			wrongKey: seedKey(cfg.Seed, i, "wrong"),
			rng:      rng,
			seq:      cfg.SeqBase,
			Strategy: Honest,
			Variant:  string(Honest),
			air:      f.air,
			drift:    time.Duration(rng.IntN(4000)-2000) * time.Millisecond,
			// Within about 17 km north-south and 8 km east-west of the centre.
			Location: &pb.Location{LatE7: center.LatE7 + int32(rng.IntN(3_000_000)) - 1_500_000, LonE7: center.LonE7 + int32(rng.IntN(1_800_000)) - 900_000},
		}
		if every > 0 && i%every == every-1 && p.cheats < cheaters {
			v := variants[p.cheats%len(variants)]
			d.Strategy, d.Variant, d.params = v.Strategy, v.Label, v.Params.over(DefaultParams(v.Strategy))
			p.cheats++
		}
		d.via = cfg.Protocol
		if cfg.Protocol == "mixed" {
			d.via = []string{"http", "mqtt", "grpc"}[i%3]
		}
		p.place(d, center)
		d.Owner, d.home = d.owner.Address(), d.Location
		d.ID = fmt.Sprintf("%s-%04d", kindNames[d.Kind-1], i)
		d.values = d.baseline()
		d.constant = maps.Clone(d.values)
		f.Devices = append(f.Devices, d)
	}
	f.pickTargets()
	return f, nil
}

// placer places devices as they are made.
type placer struct {
	cheats     int
	groups     map[string]*group           // a ring's, a pair's or a site's members so far, by variant
	lastHonest map[pb.ResourceKind]*Device // the latest honest device of each kind
}

type group struct {
	n     int
	first *Device
}

// place sets a device's kind and place for its strategy. A third of the
// honest devices stand 100 m to 2 km from an earlier honest device of
// their kind (real networks grow in clusters: a street, a village), so the
// honest fleet has neighbours as close as cheats put their copies.
func (p *placer) place(d *Device, center *pb.Location) {
	g := p.groups[d.Variant]
	if g == nil {
		g = &group{}
		p.groups[d.Variant] = g
	}
	switch d.Strategy {
	case Honest:
		if near := p.lastHonest[d.Kind]; near != nil && d.rng.IntN(3) == 0 {
			d.Location = offset(d.rng, near.Location, 100, 2000)
		}
		p.lastHonest[d.Kind] = d
	case Witness, WitnessLoop:
		d.Kind = pb.ResourceKind_RESOURCE_KIND_HOTSPOT
	case Loop, NearCopy:
		d.Kind = pb.ResourceKind_RESOURCE_KIND_WEATHER
	case CounterCopy, CounterLoop:
		d.Kind = pb.ResourceKind_RESOURCE_KIND_ENERGY
	case Sybil:
		// Sybils come four to a spot: this one and three more like it.
		d.Kind = pb.ResourceKind_RESOURCE_KIND_WEATHER
		if g.n%4 == 0 {
			g.first = d
		}
		d.Location = &pb.Location{LatE7: g.first.Location.LatE7 + int32(g.n%4)*200, LonE7: g.first.Location.LonE7}
		g.n++
	case Border:
		// Pairs: 55 m south and north of the nearest whole degree of
		// latitude north of the area, a kilometre apart from the next pair.
		d.Kind = pb.ResourceKind_RESOURCE_KIND_WEATHER
		border := (center.LatE7/10_000_000 + 1) * 10_000_000
		d.Location = &pb.Location{LatE7: border - 5_000 + int32(g.n%2)*10_000, LonE7: center.LonE7 + int32(g.n/2)*120_000}
		g.n++
	case MultiKind:
		// A site: the owner's real weather station first, then an energy
		// meter, a bandwidth node and a hotspot a few metres from it, one
		// program behind the three.
		role := g.n % 4
		d.Kind = []pb.ResourceKind{pb.ResourceKind_RESOURCE_KIND_WEATHER, pb.ResourceKind_RESOURCE_KIND_ENERGY,
			pb.ResourceKind_RESOURCE_KIND_BANDWIDTH, pb.ResourceKind_RESOURCE_KIND_HOTSPOT}[role]
		if role == 0 {
			g.first = d
		} else {
			d.program, d.owner = g.first, g.first.owner
			d.Location = &pb.Location{LatE7: g.first.Location.LatE7 + int32(role)*20, LonE7: g.first.Location.LonE7}
			d.drift = g.first.drift - g.first.drift%time.Second // the program's clock: a whole-second offset, steady
		}
		g.n++
	}
}

// offset is a place between lo and hi metres from loc, in a random
// direction.
func offset(r *rand.Rand, loc *pb.Location, lo, hi float64) *pb.Location {
	dist, dir := lo+(hi-lo)*r.Float64(), 2*math.Pi*r.Float64()
	cos := math.Cos(float64(loc.LatE7) / 1e7 * math.Pi / 180)
	return &pb.Location{LatE7: loc.LatE7 + int32(dist*math.Cos(dir)/0.011132), LonE7: loc.LonE7 + int32(dist*math.Sin(dir)/0.011132/cos)}
}

// pickTargets gives each copying cheat the honest device it copies: clones
// one of any kind, 2 km from it; near copies a weather station, a
// kilometre or so away; counter copies a meter, in the next street.
func (f *Fleet) pickTargets() {
	honest := map[pb.ResourceKind][]*Device{}
	var all []*Device
	for _, d := range f.Devices {
		if d.Strategy == Honest {
			honest[d.Kind] = append(honest[d.Kind], d)
			all = append(all, d)
		}
	}
	for i, d := range f.Devices {
		switch d.Strategy {
		case Clone:
			if len(all) == 0 {
				continue
			}
			t := all[d.rng.IntN(len(all))]
			d.target, d.Kind = t, t.Kind
			d.ID = fmt.Sprintf("%s-%04d", kindNames[d.Kind-1], i)
			d.values = d.baseline()
			d.Location = &pb.Location{LatE7: t.Location.LatE7 + 180_000, LonE7: t.Location.LonE7}
		case NearCopy, CounterCopy:
			if ts := honest[d.Kind]; len(ts) > 0 {
				d.target = ts[d.rng.IntN(len(ts))]
				d.Location = offset(d.rng, d.target.Location, map[Strategy]float64{NearCopy: 800, CounterCopy: 150}[d.Strategy],
					map[Strategy]float64{NearCopy: 1500, CounterCopy: 400}[d.Strategy])
			}
		}
	}
}
