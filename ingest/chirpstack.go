// LoRaWAN through ChirpStack: a network server posts its uplink events (the
// HTTP integration, JSON or protobuf) or publishes them to ingest's MQTT
// broker (the MQTT integration, QoS 1), and each uplink becomes a reading of
// the device registered as "eui-" followed by its DevEUI in lowercase hex.
//
// An uplink on fPort 200 carries a SignedReadingV2 (the device signed it, as
// any device does) and is verified like one. Any other uplink is trusted only
// as far as its network server is (LoRaWAN's session keys authenticate the
// device to the network server, not to fieldmint): ingest makes the reading
// from the event (the network server's time as seq and event time, the
// registered kind, the codec's measurements) and marks it trusted_by the
// network server, all the way to the readings table (docs/api.md).

package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// SignedFPort is the LoRaWAN port of uplinks whose payload is a
// SignedReadingV2: the device's own signature, checked like any other.
const SignedFPort = 200

// LoRaWANDevicePrefix starts the device id of a LoRaWAN device: "eui-"
// followed by its DevEUI, 16 lowercase hex digits.
const LoRaWANDevicePrefix = "eui-"

var (
	devEUIPattern = regexp.MustCompile(`^[0-9A-Fa-f]{16}$`)
	// networkServerName is what a network server may be called: it is
	// stored in every reading it vouches for, and is its MQTT user name.
	networkServerName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)
)

// networkServers are the configured LoRaWAN network servers: name -> the
// SHA-256 of each of its tokens (compared in constant time). A name may have
// two tokens while one replaces the other.
type networkServers map[string][][32]byte

// parseNetworkServers reads ingest.networkServers: name=token pairs.
func parseNetworkServers(pairs []string) (networkServers, error) {
	out := networkServers{}
	for _, p := range pairs {
		name, token, ok := strings.Cut(p, "=")
		switch {
		case !ok || !networkServerName.MatchString(name):
			return nil, errors.New("ingest: networkServers: each entry is name=token, the name 1-32 characters of a-z 0-9 . _ - starting with a letter or digit")
		case len(token) < 16:
			return nil, fmt.Errorf("ingest: networkServers: %s's token must be at least 16 characters", name)
		}
		out[name] = append(out[name], sha256.Sum256([]byte(token)))
	}
	return out, nil
}

// byToken is the network server whose token this is, or "".
func (n networkServers) byToken(token string) string {
	h := sha256.Sum256([]byte(token))
	found := ""
	for name, tokens := range n {
		for _, want := range tokens {
			if subtle.ConstantTimeCompare(h[:], want[:]) == 1 {
				found = name
			}
		}
	}
	return found
}

// postChirpStack is POST /v1/lorawan/chirpstack?event=TYPE, ChirpStack's
// HTTP integration, authenticated by "Authorization: Bearer TOKEN" (a header
// the integration is configured to send). Events other than "up" are
// answered 204 and dropped. An uplink is answered as POST /v2/readings
// answers a batch of one; ChirpStack itself ignores the answer and never
// retries (docs/api.md: use its MQTT integration to keep every uplink).
func (s *Service) postChirpStack(w http.ResponseWriter, r *http.Request) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	ns := ""
	if ok {
		ns = s.lorawan.byToken(strings.TrimSpace(bearer))
	}
	if ns == "" {
		s.countUplink(r.Context(), "http", CodeBadToken)
		fail(w, http.StatusUnauthorized, CodeBadToken, "send a configured network server's token as Authorization: Bearer TOKEN (ingest.networkServers)")
		return
	}
	if event := r.URL.Query().Get("event"); event != "up" {
		s.countUplink(r.Context(), "http", "IGNORED")
		w.WriteHeader(http.StatusNoContent) // join, status, log, ...: not readings
		return
	}
	ev := &pb.ChirpStackUplinkEvent{}
	if !s.decode(w, r, ev) {
		s.countUplink(r.Context(), "http", CodeMalformed)
		return
	}
	v := s.judgeUplink(r.Context(), ns, ev, "")
	s.countUplink(r.Context(), "http", v.code())
	v.write(w)
}

// judgeUplink submits an uplink event from network server ns; topicEUI,
// when the event came over MQTT, is the DevEUI its topic names.
func (s *Service) judgeUplink(ctx context.Context, ns string, ev *pb.ChirpStackUplinkEvent, topicEUI string) verdict {
	it, err := s.uplinkItem(ns, ev)
	switch {
	case err != nil:
		return refuse(http.StatusBadRequest, CodeMalformed, "uplink: %v", err)
	case topicEUI != "" && !strings.EqualFold(topicEUI, it.uplink.DevEui):
		return refuse(http.StatusBadRequest, CodeMalformed, "uplink of DevEUI %s published to the topic of %s", it.uplink.DevEui, topicEUI)
	}
	return s.submit(ctx, []item{it}, LoRaWANDevicePrefix+it.uplink.DevEui)
}

// uplinkItem is the reading an uplink carries, on its way through submit.
func (s *Service) uplinkItem(ns string, ev *pb.ChirpStackUplinkEvent) (item, error) {
	eui := ev.GetDeviceInfo().GetDevEui()
	if !devEUIPattern.MatchString(eui) {
		return item{}, fmt.Errorf("deviceInfo.devEui must be 16 hex digits, got %q", eui)
	}
	up := &pb.Uplink{NetworkServer: ns, DeduplicationId: ev.DeduplicationId, DevEui: strings.ToLower(eui),
		FCnt: ev.FCnt, FPort: ev.FPort, Dr: ev.Dr, FrequencyHz: ev.GetTxInfo().GetFrequency()}
	if len(up.DeduplicationId) > 64 || len(ev.RxInfo) > 64 {
		return item{}, errors.New("deduplicationId is over 64 characters, or rxInfo over 64 gateways")
	}
	for _, rx := range ev.RxInfo {
		snr, err := scaled(float64(rx.Snr), 32, 10)
		if err != nil || len(rx.GatewayId) > 64 {
			return item{}, fmt.Errorf("gateway %q: id over 64 characters or snr %v not a number", rx.GatewayId, rx.Snr)
		}
		up.Gateways = append(up.Gateways, &pb.UplinkGateway{GatewayId: rx.GatewayId, RssiDbm: rx.Rssi, SnrDb10: int32(snr)})
	}
	id := LoRaWANDevicePrefix + up.DevEui
	if ev.FPort == SignedFPort {
		sr := &pb.SignedReadingV2{}
		if err := proto.Unmarshal(ev.Data, sr); err != nil {
			return item{}, fmt.Errorf("fPort %d data is not a SignedReadingV2: %v", SignedFPort, err)
		}
		it := item{v2: sr, uplink: up}
		it.id, it.err = deviceIDOf(sr.GetReading())
		return it, nil
	}
	it := item{id: id, uplink: up, trustedBy: ns}
	dev, key := s.reg.Lookup(id)
	if dev == nil {
		return it, nil // admit answers UNKNOWN_DEVICE
	}
	it.dev, it.key = dev, key
	at := ev.GetTime().AsTime().UnixMilli()
	if ev.Time == nil || at <= 0 {
		return item{}, errors.New("the uplink has no time")
	}
	rd := &pb.Reading{DeviceId: id, Seq: uint64(at), EventTimeMs: at, Kind: dev.Kind}
	var err error
	if rd.Measurements, err = measurementsOf(ev); err != nil {
		return item{}, err
	}
	if it.trusted, err = (proto.MarshalOptions{Deterministic: true}).Marshal(rd); err != nil {
		return item{}, err
	}
	it.reading = rd
	return it, checkReading(rd)
}

// measurementsOf is a trusted uplink's measurements: the numbers (and
// booleans, as 0 or 1) of the codec's object, nested names joined with "_",
// each in thousandths, rounded half away from zero; without an object, how
// the network heard the device: the strongest gateway's rssi_dbm and snr_db.
func measurementsOf(ev *pb.ChirpStackUplinkEvent) (map[string]int64, error) {
	out := map[string]int64{}
	if obj := ev.GetObject(); obj != nil {
		return out, flatten(out, "", obj)
	}
	if len(ev.RxInfo) == 0 {
		return out, nil // checkReading: no measurement
	}
	best := slices.MaxFunc(ev.RxInfo, func(a, b *pb.ChirpStackRxInfo) int { return int(a.Rssi) - int(b.Rssi) })
	snr, err := thousandths(float64(best.Snr), 32)
	out["rssi_dbm"], out["snr_db"] = int64(best.Rssi)*1000, snr
	return out, err
}

func flatten(out map[string]int64, prefix string, s *structpb.Struct) error {
	for name, v := range s.Fields {
		if prefix != "" {
			name = prefix + "_" + name
		}
		if len(name) > 64 {
			return fmt.Errorf("object: measurement name %.20q... is over 64 bytes", name)
		}
		switch x := v.Kind.(type) {
		case *structpb.Value_NumberValue:
			n, err := thousandths(x.NumberValue, 64)
			if err != nil {
				return fmt.Errorf("object.%s: %v", name, err)
			}
			out[name] = n
		case *structpb.Value_BoolValue:
			out[name] = map[bool]int64{false: 0, true: 1000}[x.BoolValue]
		case *structpb.Value_StructValue:
			if err := flatten(out, name, x.StructValue); err != nil {
				return err
			}
		}
		if len(out) > 64 {
			return errors.New("object has over 64 measurements")
		}
	}
	return nil
}

// thousandths is v in thousandths (scaled by 1000).
func thousandths(v float64, bits int) (int64, error) { return scaled(v, bits, 1000) }

// scaled is v times scale, rounded half away from zero, computed from v's
// shortest decimal form (bits: 32 for a float, 64 for a double) so that 0.1
// in thousandths is 100, not what 0.1 times 1000 is in binary; and rounded
// once, from v itself (an SNR in tenths rounded from its thousandths would
// round twice: 10.4496 dB would be 105, not 104).
func scaled(v float64, bits int, scale int64) (int64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New("not a finite number")
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(v, 'g', -1, bits))
	if !ok {
		return 0, errors.New("not a number")
	}
	r.Mul(r, big.NewRat(scale, 1))
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Mul(m, big.NewInt(2)).CmpAbs(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(int64(r.Sign())))
	}
	if !q.IsInt64() {
		return 0, errors.New("too large")
	}
	return q.Int64(), nil
}

// chirpStackTopic is the DevEUI and event type of an MQTT integration topic,
// application/{applicationId}/device/{devEui}/event/{event}.
func chirpStackTopic(topic string) (eui, event string, ok bool) {
	p := strings.Split(topic, "/")
	if len(p) != 6 || p[0] != "application" || p[1] == "" || p[2] != "device" || p[4] != "event" || p[5] == "" {
		return "", "", false
	}
	return p[3], p[5], true
}

// judgeUplinkPublish is a network server's MQTT publish: JSON when the
// payload starts with '{' (ChirpStack's json = true), protobuf otherwise.
func (s *Service) judgeUplinkPublish(ns, topic string, payload []byte) (v verdict, event string) {
	eui, event, _ := chirpStackTopic(topic)
	if event != "up" {
		return verdict{status: http.StatusNoContent}, event
	}
	ev := &pb.ChirpStackUplinkEvent{}
	var err error
	if bytes.HasPrefix(bytes.TrimLeft(payload, " \t\r\n"), []byte("{")) {
		err = discardUnknownJSON(payload, ev)
	} else {
		err = proto.Unmarshal(payload, ev)
	}
	if err != nil {
		return refuse(http.StatusBadRequest, CodeMalformed, "payload does not decode as a ChirpStack uplink event: %v", err), event
	}
	return s.judgeUplink(context.Background(), ns, ev, eui), event
}

// discardUnknownJSON decodes protobuf JSON, skipping the fields of
// ChirpStack's events that fieldmint does not declare.
func discardUnknownJSON(b []byte, m proto.Message) error {
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, m)
}

// countUplink counts an uplink event judged, by where it came from and its
// reason code (OK: stored; IGNORED: an event that is not an uplink).
func (s *Service) countUplink(ctx context.Context, source, code string) {
	s.metrics.uplinks.Add(ctx, 1, metric.WithAttributes(attribute.String("source", source), attribute.String("reason", orOK(code))))
}
