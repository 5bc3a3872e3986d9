package aggregator

// The information checks' policy: what a stream must show to be paid as an
// independent device (docs/scoring.md, "Streams without information of their
// own"). The checks themselves are in evidence.go, their data in
// evidencedata.go.

import (
	"fmt"
	"time"
)

// Reasons the information checks stop a device's pay for an epoch. They are
// not rejections of readings: they judge a stretch of a stream (the epoch's
// evidence window), and stand in device_scores.evidence and in
// stream_evidence with what tripped them.
const (
	// ReasonTracked: a measurement's changes follow another device's, as a
	// copy's do, however much noise was added: the part of them that the
	// other device explains is more than a shared weather explains.
	ReasonTracked = "TRACKED_STREAM"
	// ReasonLooped: a measurement's changes repeat the device's own past.
	ReasonLooped = "LOOPED_STREAM"
	// ReasonSharedClock: the device's readings keep time, to the
	// millisecond, with another device of its owner at the same spot: one
	// generator behind several identities.
	ReasonSharedClock = "SHARED_CLOCK"
	// ReasonGenerated: a load's or counter's changes are as evenly spread
	// as a random number generator's, not the steps and noise of a load.
	ReasonGenerated = "GENERATED_STREAM"
	// ReasonNoisy: a measurement changes between readings more than any
	// sensor of the kind does: noise added to hide a copy, or no sensor.
	ReasonNoisy = "NOISY_STREAM"
)

// EvidenceReasons lists the information checks' reasons, in the order a
// device's evidence names the one that stopped its pay.
var EvidenceReasons = []string{ReasonTracked, ReasonLooped, ReasonSharedClock, ReasonGenerated, ReasonNoisy}

// Information is the information checks' policy, shared by every kind (each
// kind says which measurements they read: KindScoring.Track, Noise and
// Generator).
type Information struct {
	// Back and Ahead: epoch e's evidence window runs from Back before its
	// start to Ahead after its end. The statistics need many readings (a
	// 30 s epoch has six), and a loop shows only once it repeats, so the
	// window reaches into the epochs around it: an epoch is scored only
	// once the window after it has closed (Scoring.Delay). Both 0: the
	// checks are off.
	Back  time.Duration `yaml:"back"`
	Ahead time.Duration `yaml:"ahead"`
	// MinSamples: the fewest matched changes a comparison needs to decide.
	MinSamples int `yaml:"minSamples"`
	// BetaBP and ZMilli: a stream tracks another (or its own past) when the
	// slope of its changes on the other's is above BetaBP (basis points:
	// 5000, a half) by ZMilli thousandths of a standard error (3500).
	// A copy's slope is one whatever noise it adds; a real neighbour's is
	// the share of its changes that weather common to both explains, which
	// at a few seconds is less than its own noise.
	BetaBP int64 `yaml:"betaBP"`
	ZMilli int64 `yaml:"zMilli"`
	// LoopZMilli and MinPeriod: a stream repeats its own past when, folded
	// at some period of MinPeriod or more, the variance of its values
	// between the fold's phases against the variance within them (the F
	// ratio) lies LoopZMilli thousandths of a standard score (7000: seven)
	// above what a stream that repeats nothing gives (docs/scoring.md).
	// Seven: a hundred periods are tried for every stream and epoch, and the
	// honest fleet's streams reach 5.6.
	LoopZMilli int64         `yaml:"loopZMilli"`
	MinPeriod  time.Duration `yaml:"minPeriod"`
	// RadiusM: the devices of a kind within this distance are compared.
	RadiusM int64 `yaml:"radiusM"`
	// MaxLag: the longest delay at which a stream is compared with
	// another's (a copy sent a moment, or minutes, after its original).
	MaxLag time.Duration `yaml:"maxLag"`
	// SiteRadiusM and LockstepMs: devices of one owner within SiteRadiusM
	// whose readings' times differ by the same amount, within LockstepMs,
	// over the whole window, share one clock.
	SiteRadiusM int64 `yaml:"siteRadiusM"`
	LockstepMs  int64 `yaml:"lockstepMs"`
	// KurtosisMilli: a generator measurement whose changes have a kurtosis
	// below this (thousandths: 2000) is flatter than noise: Gaussian noise
	// has 3, a load's steps far more, a uniform random walk 1.8.
	KurtosisMilli int64 `yaml:"kurtosisMilli"`
}

// DefaultInformation is the policy of docs/scoring.md: ten minutes back and
// eight ahead (222 readings at 5 s: a loop of up to four minutes shows
// twice within the window of its first epoch), neighbours within 5 km,
// copies up to two minutes late, devices of one owner within 50 m.
func DefaultInformation() Information {
	return Information{Back: 10 * time.Minute, Ahead: 8 * time.Minute, MinSamples: 36, BetaBP: 5000, ZMilli: 3500, LoopZMilli: 7000, MinPeriod: 2 * time.Minute,
		RadiusM: 5000, MaxLag: 2 * time.Minute, SiteRadiusM: 50, LockstepMs: 5, KurtosisMilli: 2000}
}

// On reports whether the checks run.
func (in Information) On() bool { return in.Back > 0 || in.Ahead > 0 }

func (in Information) validate() error {
	switch {
	case !in.On():
		return nil
	case in.Back < 0 || in.Ahead < 0 || in.Back+in.Ahead > 24*time.Hour:
		return fmt.Errorf("%w: information: back and ahead must be 0 to 24h together", ErrScoring)
	case in.MinSamples < 8 || in.MinSamples > 10_000:
		return fmt.Errorf("%w: information: minSamples must be 8 to 10000", ErrScoring)
	case in.BetaBP < 0 || in.BetaBP >= 10_000:
		return fmt.Errorf("%w: information: betaBP must be 0 to 9999 (a copy's slope is 10000)", ErrScoring)
	case in.ZMilli < 1000 || in.ZMilli > 100_000 || in.LoopZMilli < 1000 || in.LoopZMilli > 100_000:
		return fmt.Errorf("%w: information: zMilli and loopZMilli must be 1000 to 100000", ErrScoring)
	case in.MinPeriod < 0 || in.MinPeriod > in.Back+in.Ahead:
		return fmt.Errorf("%w: information: minPeriod must be 0 to back+ahead", ErrScoring)
	case in.RadiusM < 0 || in.RadiusM > 100_000 || in.SiteRadiusM < 0 || in.SiteRadiusM > in.RadiusM:
		return fmt.Errorf("%w: information: radiusM must be 0 to 100000, siteRadiusM 0 to radiusM", ErrScoring)
	case in.MaxLag < 0 || in.MaxLag > in.Back+in.Ahead:
		return fmt.Errorf("%w: information: maxLag must be 0 to back+ahead", ErrScoring)
	case in.LockstepMs < 0 || in.KurtosisMilli < 0 || in.KurtosisMilli > 3000:
		return fmt.Errorf("%w: information: lockstepMs must be 0 or more, kurtosisMilli 0 to 3000 (Gaussian noise)", ErrScoring)
	}
	return nil
}

// Delay is how many epochs after an epoch its scores wait for: the fraud
// hold, or the epochs the evidence window reaches into, whichever is more.
func (s Scoring) Delay(epochLength time.Duration) uint64 {
	if !s.Information.On() || epochLength <= 0 {
		return s.Hold
	}
	return max(s.Hold, uint64((s.Information.Ahead+epochLength-1)/epochLength))
}

// trackDefaults and noiseDefaults are each kind's measurements for the
// checks, at the dev fleet's 5 s interval (a network with another interval
// sets its own: noise grows with the interval, as the weather moves more
// between readings). Energy's voltage is left out of tracking: the meters
// on one feeder share it. A hotspot is paid for the witnesses it reports,
// not its own readings: its witness reports are compared with their own
// past (a coverage kind's witnesses), its readings with nothing.
var trackDefaults = map[string][]string{
	"RESOURCE_KIND_WEATHER":   {"temperature_c", "humidity_pct", "pressure_hpa"},
	"RESOURCE_KIND_ENERGY":    {"power_w", "energy_wh"},
	"RESOURCE_KIND_BANDWIDTH": {"throughput_mbps", "latency_ms", "served_gb"},
}

// noiseDefaults: the most a measurement changes between two readings 5 s
// apart, root mean square leaving out the largest tenth (thousandths): a
// weather sensor's noise and the air's turbulence; a meter's jitter between
// its loads' steps. The simulator's honest devices reach about two thirds
// of each (docs/scoring.md). A link's throughput steps with every session,
// too often for a ceiling.
var noiseDefaults = map[string]map[string]int64{
	"RESOURCE_KIND_WEATHER": {"temperature_c": 100, "humidity_pct": 800, "pressure_hpa": 60},
	"RESOURCE_KIND_ENERGY":  {"power_w": 8_000},
}

// generatorDefaults: a meter's load, not the counter that integrates it (a
// counter rounded to its unit changes by one unit or none between readings,
// which is flatter than noise however real the load). Not a link's
// throughput: a busy link steps with sessions half its intervals, as
// flat as a generator's (kurtosis 2, measured in the simulator's fleet).
var generatorDefaults = map[string][]string{
	"RESOURCE_KIND_ENERGY": {"power_w"},
}

// validateInformation checks a kind's measurements for the checks.
func (ks KindScoring) validateInformation(kind string) error {
	for _, m := range append(append([]string{}, ks.Track...), ks.Generator...) {
		if !hasKey(ks.Measurements, m) {
			return fmt.Errorf("%w: %s: %q (track, generator) is not one of the kind's measurements", ErrScoring, kind, m)
		}
	}
	for m, v := range ks.Noise {
		if !hasKey(ks.Measurements, m) || v <= 0 {
			return fmt.Errorf("%w: %s: noise %q must be one of the kind's measurements, above 0", ErrScoring, kind, m)
		}
	}
	return nil
}
