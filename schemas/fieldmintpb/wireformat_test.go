package fieldmintpb

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// wireFormatDoc reads docs/wire-format.md and returns it with a lookup of
// its "name   hex" vector lines.
func wireFormatDoc(t *testing.T) (string, func(name string) string) {
	t.Helper()
	raw, err := os.ReadFile("../../docs/wire-format.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	return doc, func(name string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + name + `\s+([0-9a-f]+)$`).FindStringSubmatch(doc)
		if m == nil {
			t.Fatalf("docs/wire-format.md has no %q line", name)
		}
		return m[1]
	}
}

// nodeSign is a Node.js script that prints the public key of the Ed25519
// seed argv[1] and its signature of the bytes argv[2] (both hex). The seed
// is wrapped in PKCS#8 (RFC 8410), so Node can load it.
const nodeSign = `const c = require("crypto");
const k = c.createPrivateKey({key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(process.argv[1], "hex")]), format: "der", type: "pkcs8"});
console.log(c.createPublicKey(k).export({format: "der", type: "spki"}).subarray(-32).toString("hex"));
console.log(c.sign(null, Buffer.from(process.argv[2], "hex"), k).toString("hex"));`

func nodeBin(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: run `make deps`")
	}
	return node
}

// TestWireFormatVector holds the test vector published in
// docs/wire-format.md to three independent sources: the canonical bytes to
// the hand-assembled encoding, the public key and signature to Node.js's
// Ed25519 (OpenSSL underneath, not Go's crypto/ed25519), and the JSON example
// to the server's decoding and verification.
func TestWireFormatVector(t *testing.T) {
	doc, field := wireFormatDoc(t)
	seed, pub, canonical, sig := field("seed"), field("public key"), field("canonical bytes"), field("signature")

	if canonical != hex.EncodeToString(handAssembled()) {
		t.Errorf("documented canonical bytes differ from the hand-assembled encoding")
	}
	got, _ := CanonicalBytes(vectorReading())
	if canonical != hex.EncodeToString(got) {
		t.Errorf("documented canonical bytes differ from CanonicalBytes")
	}

	out, err := exec.Command(nodeBin(t), "-e", nodeSign, seed, canonical).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 || lines[0] != pub || lines[1] != sig {
		t.Errorf("Node.js derives public key and signature\n%s\nthe document says\n%s\n%s", out, pub, sig)
	}

	seedBytes, _ := hex.DecodeString(seed)
	s, err := Sign(vectorReading(), ed25519.NewKeyFromSeed(seedBytes))
	if err != nil || hex.EncodeToString(s.Signature) != sig {
		t.Errorf("Sign gives %x (%v), the document %s", s.GetSignature(), err, sig)
	}

	var batch ReadingBatch
	if err := protojson.Unmarshal(jsonExample(t, doc, `{"readings":[{"reading":{`), &batch); err != nil || len(batch.Readings) != 1 {
		t.Fatalf("the JSON example does not decode as a ReadingBatch: %v", err)
	}
	pubBytes, _ := hex.DecodeString(pub)
	if err := Verify(batch.Readings[0], ed25519.PublicKey(pubBytes)); err != nil {
		t.Errorf("the JSON example's signature does not verify: %v", err)
	}
	if !bytes.Equal(batch.Readings[0].Signature, s.GetSignature()) {
		t.Errorf("the JSON example's signature is not the vector's")
	}
}

// jsonExample returns the document's JSON example that starts with prefix.
func jsonExample(t *testing.T, doc, prefix string) []byte {
	t.Helper()
	for _, m := range regexp.MustCompile("(?s)```json\n(.*?)\n```").FindAllStringSubmatch(doc, -1) {
		if strings.HasPrefix(m[1], prefix) {
			return []byte(m[1])
		}
	}
	t.Fatalf("docs/wire-format.md has no JSON example starting %s", prefix)
	return nil
}

// TestWireFormatVectorV2 holds the v2 test vector of docs/wire-format.md to
// Go's encoder and SignV2, to Node.js's Ed25519 (which signs the documented
// signed bytes with the v1 vector's seed), and the JSON example to the
// server's verification, which never re-encodes.
func TestWireFormatVectorV2(t *testing.T) {
	doc, field := wireFormatDoc(t)
	seed, pub := field("seed"), field("public key")
	reading, signed, sig := field("v2 reading bytes"), field("v2 signed bytes"), field("v2 signature")

	if want := hex.EncodeToString([]byte(SigningDomainV2)) + reading; signed != want {
		t.Errorf("documented signed bytes are not the v2 domain followed by the reading bytes")
	}
	canonical, _ := CanonicalBytes(vectorReading())
	if reading != hex.EncodeToString(canonical[len(SigningDomain):]) {
		t.Errorf("documented v2 reading bytes are not the reading in field-number order")
	}
	var decoded Reading
	raw, _ := hex.DecodeString(reading)
	if err := proto.Unmarshal(raw, &decoded); err != nil || !proto.Equal(&decoded, vectorReading()) {
		t.Errorf("documented v2 reading bytes decode to %v (%v), not the vector's reading", &decoded, err)
	}

	out, err := exec.Command(nodeBin(t), "-e", nodeSign, seed, signed).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	if lines := strings.Fields(string(out)); len(lines) != 2 || lines[0] != pub || lines[1] != sig {
		t.Errorf("Node.js derives public key and signature\n%s\nthe document says\n%s\n%s", out, pub, sig)
	}
	seedBytes, _ := hex.DecodeString(seed)
	s, err := SignV2(vectorReading(), ed25519.NewKeyFromSeed(seedBytes))
	if err != nil || hex.EncodeToString(s.Reading) != reading || hex.EncodeToString(s.Signature) != sig {
		t.Errorf("SignV2 gives %x / %x (%v), the document %s / %s", s.GetReading(), s.GetSignature(), err, reading, sig)
	}

	var batch ReadingBatchV2
	if err := protojson.Unmarshal(jsonExample(t, doc, `{"readings":[{"reading":"`), &batch); err != nil || len(batch.Readings) != 1 {
		t.Fatalf("the v2 JSON example does not decode as a ReadingBatchV2: %v", err)
	}
	pubBytes, _ := hex.DecodeString(pub)
	if err := VerifyV2(batch.Readings[0], ed25519.PublicKey(pubBytes)); err != nil {
		t.Errorf("the v2 JSON example's signature does not verify: %v", err)
	}
	if hex.EncodeToString(batch.Readings[0].Reading) != reading || hex.EncodeToString(batch.Readings[0].Signature) != sig {
		t.Errorf("the v2 JSON example is not the vector")
	}
	// The domains keep the formats apart: neither signature verifies as the other.
	if Verify(&SignedReading{Reading: vectorReading(), Signature: s.Signature}, ed25519.PublicKey(pubBytes)) == nil {
		t.Errorf("a v2 signature verifies as v1")
	}
	v1sig, _ := hex.DecodeString(field("signature"))
	if VerifyV2(&SignedReadingV2{Reading: raw, Signature: v1sig}, ed25519.PublicKey(pubBytes)) == nil {
		t.Errorf("a v1 signature verifies as v2")
	}
}

// TestMQTTVector holds the MQTT lines of docs/wire-format.md to the topic and
// password code, the password's signature to Node.js's Ed25519, and the
// payload to the v2 vector.
func TestMQTTVector(t *testing.T) {
	doc, field := wireFormatDoc(t)
	seed, pub, signed, payload := field("seed"), field("public key"), field("mqtt signed bytes"), field("mqtt payload")
	m := regexp.MustCompile(`(?m)^mqtt topic\s+(\S+)$`).FindStringSubmatch(doc)
	if m == nil || m[1] != MQTTTopic("d1") {
		t.Errorf("documented topic %v, MQTTTopic gives %s", m, MQTTTopic("d1"))
	}
	const issued = 1700000000000
	if want := hex.EncodeToString(mqttPasswordBytes("fieldmint", "d1", issued)); signed != want {
		t.Errorf("documented signed bytes differ from mqttPasswordBytes: %s", want)
	}
	out, err := exec.Command(nodeBin(t), "-e", nodeSign, seed, signed).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 || lines[0] != pub {
		t.Fatalf("node printed %q", out)
	}
	nodeSig, _ := hex.DecodeString(lines[1])
	pw := regexp.MustCompile(`(?m)^mqtt password\s+(\S+)$`).FindStringSubmatch(doc)
	if pw == nil || pw[1] != "v1.1700000000000."+base64.RawURLEncoding.EncodeToString(nodeSig) {
		t.Errorf("documented password %v is not v1.<issued>.<Node.js's signature>", pw)
	}
	seedBytes, _ := hex.DecodeString(seed)
	key := ed25519.NewKeyFromSeed(seedBytes)
	if got := MQTTPassword("fieldmint", "d1", time.UnixMilli(issued), key); pw == nil || got != pw[1] {
		t.Errorf("MQTTPassword gives %s", got)
	}
	if at, err := VerifyMQTTPassword("fieldmint", "d1", pw[1], key.Public().(ed25519.PublicKey)); err != nil || at.UnixMilli() != issued {
		t.Errorf("the documented password does not verify: %v, %v", at, err)
	}
	if _, err := VerifyMQTTPassword("elsewhere", "d1", pw[1], key.Public().(ed25519.PublicKey)); err == nil {
		t.Errorf("the documented password verifies on another network")
	}
	raw, _ := hex.DecodeString(payload)
	var batch ReadingBatchV2
	if err := proto.Unmarshal(raw, &batch); err != nil || len(batch.Readings) != 1 {
		t.Fatalf("the payload is not one ReadingBatchV2 reading: %v", err)
	}
	if hex.EncodeToString(batch.Readings[0].Reading) != field("v2 reading bytes") || hex.EncodeToString(batch.Readings[0].Signature) != field("v2 signature") {
		t.Errorf("the payload's reading is not the v2 vector")
	}
}

// TestGRPCVector holds docs/wire-format.md's gRPC lines to the v2 vector: a
// SubmitRequest of it is byte for byte the ReadingBatchV2 (the MQTT payload),
// and the stream frame is a gRPC frame of a StreamRequest numbered 1 of it;
// the documented paths are the service's.
func TestGRPCVector(t *testing.T) {
	doc, field := wireFormatDoc(t)
	submit, frame, payload := field("grpc submit request"), field("grpc stream frame"), field("mqtt payload")
	if submit != payload {
		t.Errorf("the documented SubmitRequest differs from the ReadingBatchV2 payload")
	}
	raw, _ := hex.DecodeString(submit)
	var req SubmitRequest
	if err := proto.Unmarshal(raw, &req); err != nil || len(req.Readings) != 1 ||
		hex.EncodeToString(req.Readings[0].Reading) != field("v2 reading bytes") || hex.EncodeToString(req.Readings[0].Signature) != field("v2 signature") {
		t.Fatalf("the SubmitRequest is not one reading of the v2 vector: %v", err)
	}
	if b, _ := proto.Marshal(&SubmitRequest{Readings: req.Readings}); !bytes.Equal(b, raw) {
		t.Errorf("SubmitRequest encodes to %x", b)
	}
	f, _ := hex.DecodeString(frame)
	if len(f) < 5 || f[0] != 0 || int(binary.BigEndian.Uint32(f[1:5])) != len(f)-5 {
		t.Fatalf("the stream frame is not one uncompressed gRPC frame")
	}
	var sr StreamRequest
	if err := proto.Unmarshal(f[5:], &sr); err != nil || sr.Batch != 1 || len(sr.Readings) != 1 || !proto.Equal(sr.Readings[0], req.Readings[0]) {
		t.Fatalf("the frame's message is not StreamRequest{batch 1, the vector}: %v", err)
	}
	if b, _ := proto.Marshal(&StreamRequest{Readings: req.Readings, Batch: 1}); !bytes.Equal(b, f[5:]) {
		t.Errorf("StreamRequest encodes to %x", b)
	}
	svc := File_fieldmint_v1_ingest_proto.Services().ByName("IngestService")
	for _, m := range []string{"Submit", "Stream"} {
		path := "/" + string(svc.FullName()) + "/" + m
		if !strings.Contains(doc, "`"+path+"`") {
			t.Errorf("docs/wire-format.md does not name %s", path)
		}
	}
}
