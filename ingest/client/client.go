// Package client is the device SDK: it registers devices (signed by the
// device key and the owner's Ethereum key), transfers, deactivates and
// denylists them, and builds, signs and sends batches of readings to an
// ingest endpoint, retrying with backoff when told to (429/503, Retry-After).
package client

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Client talks to one ingest endpoint.
type Client struct {
	URL        string        // e.g. http://127.0.0.1:8080
	HTTP       *http.Client  // nil: a client with a 30 s timeout
	MaxRetries int           // retries of 429/503 answers and transport errors; 0: 3
	MaxBackoff time.Duration // longest wait between retries; 0: 5 s
	// Network is the name owners' signatures are bound to: the endpoint's
	// ingest.network ("" means "fieldmint", the default).
	Network string
	// OnRetry, if set, is told of each failed attempt that will be retried:
	// an *Error (429/503) or a transport error.
	OnRetry func(err error)
	// Now is the clock that dates signed registrations and changes; nil: time.Now.
	Now func() time.Time

	mu         sync.Mutex
	lastIssued int64
}

// Error is a refusal by ingest: Status and the machine-readable Code. When
// a batch of readings is refused because none of its readings was accepted,
// Results has each reading's reason.
type Error struct {
	Status  int
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Results []ReadingResult `json:"results,omitempty"`

	retryAfter time.Duration
}

func (e *Error) Error() string { return fmt.Sprintf("ingest: %d %s: %s", e.Status, e.Code, e.Message) }

// RetryAfter is the wait the server asked for (Retry-After), or 0.
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

// Retryable reports whether sending the same request later may succeed.
func (e *Error) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable
}

// ReadingResult is ingest's verdict on one reading: Status "accepted" (Kafka
// has it) or "rejected" with a Code and Message.
type ReadingResult struct {
	Status  string `json:"status"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// Result is the answer to a batch of which at least one reading was
// accepted. Results[i] is the verdict on reading i.
type Result struct {
	Accepted int             `json:"accepted"`
	Rejected int             `json:"rejected"`
	Results  []ReadingResult `json:"results"`
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (c *Client) network() string {
	if c.Network == "" {
		return "fieldmint"
	}
	return c.Network
}

// issuedAt dates a signed registration or change: now in Unix
// milliseconds, but always after the last one this client dated, because
// ingest refuses a change of a device not newer than its last one.
func (c *Client) issuedAt() int64 {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastIssued = max(now().UnixMilli(), c.lastIssued+1)
	return c.lastIssued
}

// Owner signs for an owner or admin address: EIP-191 personal_sign, what a
// wallet does. OwnerKey makes one from a private key; a wallet or HSM
// integration implements it without exposing the key.
type Owner interface {
	Address() common.Address
	SignText(text string) ([]byte, error)
}

// OwnerKey is an Owner holding its secp256k1 private key in memory.
func OwnerKey(key *ecdsa.PrivateKey) Owner { return ownerKey{key} }

type ownerKey struct{ key *ecdsa.PrivateKey }

func (o ownerKey) Address() common.Address { return crypto.PubkeyToAddress(o.key.PublicKey) }

func (o ownerKey) SignText(text string) ([]byte, error) { return pb.SignText(text, o.key) }

// Register registers d (its owner field set to owner's address): the device
// key proves possession, the maker's attestation (made at manufacture, see
// pb.Attest) vouches for the hardware, the owner signs the binding.
// Registering the same device again with a new location moves its asserted
// location; registering a deactivated device reactivates it.
func (c *Client) Register(ctx context.Context, d *pb.Device, deviceKey ed25519.PrivateKey, att *pb.Attestation, owner Owner) error {
	d = proto.Clone(d).(*pb.Device)
	d.Owner = owner.Address().Hex()
	reg, err := pb.SignRegistration(d, deviceKey)
	if err != nil {
		return err
	}
	reg.Attestation = att
	reg.IssuedAtMs = c.issuedAt()
	if reg.OwnerSignature, err = owner.SignText(pb.RegistrationMessage(c.network(), d, reg.IssuedAtMs)); err != nil {
		return err
	}
	return c.post(ctx, "/v1/devices", reg, nil)
}

// Transfer hands a device to a new owner; owner is the current one.
func (c *Client) Transfer(ctx context.Context, deviceID string, newOwner common.Address, owner Owner) error {
	return c.change(ctx, &pb.DeviceChange{DeviceId: deviceID, Kind: pb.ChangeKind_CHANGE_KIND_TRANSFER, NewOwner: newOwner.Hex()}, owner)
}

// Deactivate retires a device: its readings are refused from then on.
func (c *Client) Deactivate(ctx context.Context, deviceID string, owner Owner) error {
	return c.change(ctx, &pb.DeviceChange{DeviceId: deviceID, Kind: pb.ChangeKind_CHANGE_KIND_DEACTIVATE}, owner)
}

// Deny puts a device on the denylist; admin must be one of ingest.admins.
func (c *Client) Deny(ctx context.Context, deviceID, reason string, admin Owner) error {
	return c.change(ctx, &pb.DeviceChange{DeviceId: deviceID, Kind: pb.ChangeKind_CHANGE_KIND_DENY, Reason: reason}, admin)
}

// Allow takes a device off the denylist.
func (c *Client) Allow(ctx context.Context, deviceID string, admin Owner) error {
	return c.change(ctx, &pb.DeviceChange{DeviceId: deviceID, Kind: pb.ChangeKind_CHANGE_KIND_ALLOW}, admin)
}

// Maker is a device maker's identity and signing key, as a factory holds
// them: it attests each device it builds.
type Maker struct {
	ID  string
	Key ed25519.PrivateKey
}

// Attest is the maker's attestation of a device key of a kind; nil (which
// ingest refuses) for a maker without a key.
func (m Maker) Attest(devicePub ed25519.PublicKey, kind pb.ResourceKind) *pb.Attestation {
	if len(m.Key) != ed25519.PrivateKeySize {
		return nil
	}
	return pb.Attest(m.ID, m.Key, devicePub, kind)
}

// AddMaker registers a maker (or replaces its key or name); admin must be
// one of ingest.admins.
func (c *Client) AddMaker(ctx context.Context, id, name string, pub ed25519.PublicKey, admin Owner) error {
	return c.makerChange(ctx, &pb.MakerChange{MakerId: id, Name: name, PublicKey: pub}, admin)
}

// RemoveMaker removes a maker: its devices' readings are refused from then
// on, and its attestations register nothing.
func (c *Client) RemoveMaker(ctx context.Context, id string, admin Owner) error {
	return c.makerChange(ctx, &pb.MakerChange{MakerId: id, Remove: true}, admin)
}

func (c *Client) makerChange(ctx context.Context, m *pb.MakerChange, admin Owner) error {
	m.IssuedAtMs = c.issuedAt()
	sig, err := admin.SignText(pb.MakerMessage(c.network(), m))
	if err != nil {
		return err
	}
	m.Signature = sig
	return c.post(ctx, "/v1/makers", m, nil)
}

func (c *Client) change(ctx context.Context, ch *pb.DeviceChange, signer Owner) error {
	ch.IssuedAtMs = c.issuedAt()
	sig, err := signer.SignText(pb.ChangeMessage(c.network(), ch))
	if err != nil {
		return err
	}
	ch.Signature = sig
	return c.post(ctx, "/v1/device-changes", ch, nil)
}

// Send posts a batch of signed readings. A nil error means at least one
// reading was accepted, and Kafka has every accepted one; the Result names
// the rejected ones (a rejected reading is never worth sending again). When
// none is accepted the error is an *Error with each reading's reason.
//
// The readings are in wire format v2 (Device.Reading makes them): the
// signature covers the bytes as sent, which the server verifies before it
// decodes them (docs/wire-format.md).
func (c *Client) Send(ctx context.Context, readings []*pb.SignedReadingV2) (*Result, error) {
	var res Result
	if err := c.post(ctx, "/v2/readings", &pb.ReadingBatchV2{Readings: readings}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// SendV1 is Send for readings in wire format v1 (Device.ReadingV1, or
// pb.Sign), which older firmware makes: the server re-encodes each reading
// canonically to verify it.
func (c *Client) SendV1(ctx context.Context, readings []*pb.SignedReading) (*Result, error) {
	var res Result
	if err := c.post(ctx, "/v1/readings", &pb.ReadingBatch{Readings: readings}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// post sends m, retrying what ingest says to retry, and decodes a 2xx body into out.
func (c *Client) post(ctx context.Context, path string, m proto.Message, out any) error {
	body, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	retries := c.MaxRetries
	if retries == 0 {
		retries = 3
	}
	maxWait := c.MaxBackoff
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	// Exponential from 200 ms with jitter, capped at MaxBackoff, unless the
	// server said when to come back (Retry-After).
	wait := &serverHinted{ExponentialBackOff: backoff.ExponentialBackOff{
		InitialInterval: 200 * time.Millisecond, RandomizationFactor: 0.25, Multiplier: 2, MaxInterval: maxWait}}
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		err := c.once(ctx, path, body, out)
		if e, refused := err.(*Error); refused {
			if !e.Retryable() {
				return struct{}{}, backoff.Permanent(err)
			}
			wait.hint = e.retryAfter
		}
		return struct{}{}, err
	}, backoff.WithBackOff(wait), backoff.WithMaxTries(uint(retries)+1), backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, _ time.Duration) {
			if c.OnRetry != nil {
				c.OnRetry(err)
			}
		}))
	return err
}

// serverHinted is an exponential backoff whose next wait is the server's
// Retry-After when the last answer carried one.
type serverHinted struct {
	backoff.ExponentialBackOff
	hint time.Duration
}

func (b *serverHinted) NextBackOff() time.Duration {
	next := b.ExponentialBackOff.NextBackOff()
	if b.hint > 0 {
		next, b.hint = b.hint, 0
	}
	return next
}

func (c *Client) once(ctx context.Context, path string, body []byte, out any) error {
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
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 == 2 {
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("ingest: undecodable %d answer: %w", resp.StatusCode, err)
			}
		}
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
