package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

func newHTTP(clients int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
}

// endpoints are the URLs the HTTP clients send readings to, in turn.
func (o Options) endpoints() []string {
	if len(o.Endpoints) > 0 {
		return o.Endpoints
	}
	return []string{o.URL}
}

// path is the endpoint of the load's wire format.
func (l *Load) path() string {
	if l.opts.V1 {
		return "/v1/readings"
	}
	return "/v2/readings"
}

// post sends one body to the ingest at url and returns the status and, for
// a fleet load, how many readings ingest accepted.
func (l *Load) post(ctx context.Context, url string, body []byte) (int, int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+l.path(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := l.http.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if !l.once || resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, 0, nil
	}
	var answer struct {
		Accepted int `json:"accepted"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return 0, 0, fmt.Errorf("loadgen: ingest's answer: %w", err)
	}
	return resp.StatusCode, answer.Accepted, nil
}

// WaitRegistered waits until the ingest at url knows every device of a
// fleet load, or ctx ends. A replica learns a registration from Kafka a
// moment after the replica that took it; readings sent to it before then
// would be refused as from unknown devices.
func (l *Load) WaitRegistered(ctx context.Context, url string) error {
	for d := 0; d < l.opts.Devices; {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/devices/"+fleetID(d), nil)
		if err != nil {
			return err
		}
		resp, err := l.http.Do(req)
		if err != nil {
			return fmt.Errorf("loadgen: ask %s for device %s: %w", url, fleetID(d), err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			d++
			continue
		case http.StatusNotFound:
		default:
			return fmt.Errorf("loadgen: ask %s for device %s: %s", url, fleetID(d), resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadgen: %s does not know device %s yet: %w", url, fleetID(d), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}
