package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestMQTTShutdown runs ingest as deployed (Run, ingest.mqttListen): its
// /readyz has the MQTT listener, and stopping it while devices publish and
// others sit idle or leave ends Run within the HTTP drain's bound, every
// reading acknowledged by a PUBACK in Kafka.
func TestMQTTShutdown(t *testing.T) {
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "mqdown.", Partitions: 2}
	cfg := testConfig()
	cfg.DeviceRate, cfg.ClientRate = 0, 0
	_, reg := startService(t, cfg, kc) // registrations go through a first ingest
	const publishing, idle = 8, 200
	keys := registerWeather(t, reg.URL, "mq", publishing+idle)
	cfg.Listen, cfg.MQTTListen = freeport.Addr(), freeport.Addr()
	stop, ran := runIngest(t, cfg, kc)
	testenv.Eventually(t, 20*time.Second, 50*time.Millisecond, func() error {
		resp, err := http.Get("http://" + cfg.Listen + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var body struct {
			Checks []struct{ Name, Result string }
		}
		json.NewDecoder(resp.Body).Decode(&body)
		for _, c := range body.Checks {
			if c.Name == "ingest/mqtt" && c.Result == "ok" {
				return nil
			}
		}
		return io.ErrUnexpectedEOF
	})
	var conns []net.Conn
	for i := range idle {
		dev := client.NewDevice(deviceName("mq", publishing+i), pb.ResourceKind_RESOURCE_KIND_WEATHER, keys[publishing+i])
		c, code := dialMQTT(t, dialTCP(t, cfg.MQTTListen), 4, dev.ID, dev.MQTTPassword(cfg.Network, time.Now()))
		if code != 0 {
			t.Fatalf("idle device %d: CONNACK 0x%02x", i, code)
		}
		conns = append(conns, c.c)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range publishing {
		wg.Go(func() {
			dev := client.NewDevice(deviceName("mq", i), pb.ResourceKind_RESOURCE_KIND_WEATHER, keys[i])
			m, err := client.DialMQTT(ctx, dev, client.MQTTOptions{Broker: "tcp://" + cfg.MQTTListen, AckTimeout: time.Second})
			if err != nil {
				t.Error(err)
				return
			}
			defer m.Close()
			for {
				r, _ := dev.Reading(time.Now(), map[string]int64{"temperature_c": 20_000})
				// Once ingest is gone the publish is never acknowledged;
				// the short context ends the wait.
				sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
				err := m.Send(sctx, []*pb.SignedReadingV2{r})
				scancel()
				if err != nil {
					return
				}
				mu.Lock()
				acked[readingKey(t, r)] = true
				mu.Unlock()
			}
		})
	}
	testenv.WaitFor(t, 20*time.Second, "publishes acknowledged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) > 50
	})
	// Half the idle devices leave as ingest stops.
	for _, c := range conns[:idle/2] {
		go c.Close()
	}
	stopRun(t, stop, ran, 30*time.Second, "with MQTT devices connected")
	wg.Wait()
	seen := rawReadings(t, kc)
	for k := range acked {
		if seen[k] != 1 {
			t.Errorf("reading %s acknowledged, %d times in Kafka", k, seen[k])
		}
	}
}

// deviceName is the id registerWeather gives device i.
func deviceName(prefix string, i int) string { return fmt.Sprintf("%s-%d", prefix, i) }
