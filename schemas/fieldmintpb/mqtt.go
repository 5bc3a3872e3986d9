package fieldmintpb

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MQTTTopic is the one topic a device publishes its readings to: the payload
// is a POST /v2/readings body (docs/wire-format.md).
func MQTTTopic(deviceID string) string { return "fieldmint/v2/" + deviceID + "/readings" }

// MQTTPasswordDomain prefixes what a device signs to connect over MQTT.
const MQTTPasswordDomain = "fieldmint/mqtt-connect/v1\n"

// mqttPasswordBytes is what an MQTT password's signature covers: the
// network (a password for one deployment is void in another), the device
// (the client id) and when it was made.
func mqttPasswordBytes(network, deviceID string, issuedAtMs int64) []byte {
	return fmt.Appendf(nil, "%snetwork: %s\ndevice: %s\nissued_at_ms: %d", MQTTPasswordDomain, network, deviceID, issuedAtMs)
}

// MQTTPassword is the password a device connects with: "v1.<issued at, Unix
// ms>.<ed25519 signature, base64url>". It is valid for ingest.mqttPasswordMaxAge
// after at, so a device makes a new one for every connection.
func MQTTPassword(network, deviceID string, at time.Time, key ed25519.PrivateKey) string {
	ms := at.UnixMilli()
	sig := ed25519.Sign(key, mqttPasswordBytes(network, deviceID, ms))
	return "v1." + strconv.FormatInt(ms, 10) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// VerifyMQTTPassword checks a password made by MQTTPassword for deviceID on
// network under the device's public key, and returns when it was made.
func VerifyMQTTPassword(network, deviceID, password string, pub ed25519.PublicKey) (time.Time, error) {
	parts := strings.Split(password, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return time.Time{}, errors.New(`password is not "v1.<issued_at_ms>.<signature>"`)
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, errors.New("password's issued_at_ms is not a positive integer")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != ed25519.SignatureSize || len(pub) != ed25519.PublicKeySize {
		return time.Time{}, ErrBadSignature
	}
	if !ed25519.Verify(pub, mqttPasswordBytes(network, deviceID, ms), sig) {
		return time.Time{}, ErrBadSignature
	}
	return time.UnixMilli(ms), nil
}
