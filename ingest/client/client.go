// Package client is the device SDK: it registers devices and sends signed
// batches of readings to an ingest endpoint, retrying when told to.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Client talks to one ingest endpoint.
type Client struct {
	URL        string        // e.g. http://127.0.0.1:8080
	HTTP       *http.Client  // nil: a client with a 30 s timeout
	MaxRetries int           // retries of 429/503 answers and transport errors; 0: 3
	MaxBackoff time.Duration // longest wait between retries; 0: 5 s
	// OnRetry, if set, is told of each failed attempt that will be retried:
	// an *Error (429/503) or a transport error.
	OnRetry func(err error)
}

// Error is a refusal by ingest: Status and the machine-readable Code.
type Error struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`

	retryAfter time.Duration
}

func (e *Error) Error() string { return fmt.Sprintf("ingest: %d %s: %s", e.Status, e.Code, e.Message) }

// RetryAfter is the wait the server asked for (Retry-After), or 0.
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

// Retryable reports whether sending the same request later may succeed.
func (e *Error) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// Register registers a device, signing the registration with its key.
func (c *Client) Register(ctx context.Context, d *pb.Device, key ed25519.PrivateKey) error {
	reg, err := pb.SignRegistration(d, key)
	if err != nil {
		return err
	}
	return c.post(ctx, "/v1/devices", reg)
}

// Send posts a batch of signed readings. It returns nil only when ingest
// answered 2xx, i.e. Kafka has every reading.
func (c *Client) Send(ctx context.Context, readings []*pb.SignedReading) error {
	return c.post(ctx, "/v1/readings", &pb.ReadingBatch{Readings: readings})
}

func (c *Client) post(ctx context.Context, path string, m proto.Message) error {
	body, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	retries := c.MaxRetries
	if retries == 0 {
		retries = 3
	}
	backoff := 200 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, path, body)
		if err == nil {
			return nil
		}
		e, refused := err.(*Error)
		if (refused && !e.Retryable()) || attempt >= retries {
			return err
		}
		wait := c.MaxBackoff
		if wait <= 0 {
			wait = 5 * time.Second
		}
		if attempt < 16 {
			wait = min(wait, backoff<<attempt)
		}
		if refused && e.retryAfter > 0 {
			wait = e.retryAfter
		}
		if c.OnRetry != nil {
			c.OnRetry(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (c *Client) once(ctx context.Context, path string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := c.http().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	e := &Error{Status: resp.StatusCode}
	if json.Unmarshal(raw, e) != nil {
		e.Message = string(raw)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e.retryAfter = time.Duration(s) * time.Second
	}
	return e
}
