package ingest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// FuzzChirpStack: whatever a network server sends, over its HTTP
// integration (JSON or protobuf) or its MQTT integration (any topic),
// ingest writes to Kafka exactly the readings it answered accepted (at most
// one an event), and nothing when it refuses; every refusal has a code.
func FuzzChirpStack(fz *testing.F) {
	f, key := loraFixture(fz)
	jsonEv, pbEv := chirpStackExample(fz)
	at := time.Now()
	asJSON, _ := protojson.Marshal(now(jsonEv, at))
	coded := now(pbEv, at.Add(time.Second))
	coded.Object, _ = structpb.NewStruct(map[string]any{"rssi_dbm": -90.25, "snr_db": 3})
	sr, _ := pb.SignV2(&pb.Reading{DeviceId: LoRaWANDevicePrefix + csEUI, Seq: 3, EventTimeMs: at.UnixMilli(), Kind: pb.ResourceKind_RESOURCE_KIND_HOTSPOT,
		Measurements: map[string]int64{"rssi_dbm": -80_000}}, key)
	signed := now(pbEv, at)
	signed.FPort, signed.Data = SignedFPort, marshal(sr)
	topic := "application/a/device/" + csEUI + "/event/up"
	for _, b := range [][]byte{asJSON, marshal(now(pbEv, at)), marshal(coded), marshal(signed), []byte(`{"deviceInfo":{"devEui":"0101010101010101"},"time":"2026-01-01T00:00:00Z","object":{"x":1e300}}`)} {
		fz.Add(b, topic, false)
		fz.Add(b, topic, true)
	}
	fz.Add(asJSON, "application/a/device/0202020202020202/event/up", false)
	fz.Add(asJSON, "application/a/device/"+csEUI+"/event/join", false)
	fz.Fuzz(func(t *testing.T, payload []byte, topic string, overHTTP bool) {
		before := endOffsets(t, f.kc, f.kc.Topics().Raw)
		var v verdict
		if overHTTP {
			ct := "application/octet-stream"
			if bytes.HasPrefix(payload, []byte("{")) {
				ct = "application/json"
			}
			req := httptest.NewRequest(http.MethodPost, "/v1/lorawan/chirpstack?event=up", bytes.NewReader(payload))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+csToken)
			w := httptest.NewRecorder()
			f.svc.postChirpStack(w, req)
			var res BatchResult
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
				t.Fatalf("answer %d is not JSON: %q", w.Code, w.Body.String())
			}
			v = verdict{status: w.Code, res: &res}
			if w.Code != 200 && res.Code == "" {
				t.Fatalf("refused %d without a code", w.Code)
			}
		} else {
			var event string
			v, event = f.svc.judgeUplinkPublish(csName, topic, payload)
			if event != "up" {
				if added := endOffsets(t, f.kc, f.kc.Topics().Raw) - before; added != 0 {
					t.Fatalf("event %q wrote %d records", event, added)
				}
				return
			}
			if v.status != 200 && v.code() == "" {
				t.Fatalf("refused %d without a code", v.status)
			}
		}
		accepted := 0
		if v.status == 200 && v.res != nil {
			accepted = v.res.Accepted
		}
		if accepted > 1 {
			t.Fatalf("%d readings accepted of one uplink", accepted)
		}
		if added := endOffsets(t, f.kc, f.kc.Topics().Raw) - before; added != int64(accepted) {
			t.Fatalf("%d readings accepted, %d records written", accepted, added)
		}
		if accepted == 1 {
			raw := lastRaw(t, f)
			body := raw.GetTrustedReading()
			if raw.SignedV2 != nil {
				body = raw.SignedV2.Reading
			}
			rd := &pb.Reading{}
			if err := proto.Unmarshal(body, rd); err != nil || rd.DeviceId != LoRaWANDevicePrefix+csEUI || rd.Kind != pb.ResourceKind_RESOURCE_KIND_HOTSPOT {
				t.Fatalf("an accepted uplink wrote reading %v (%v)", rd, err)
			}
		}
	})
}
