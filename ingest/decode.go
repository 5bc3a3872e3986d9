// Request bodies: protobuf or NDJSON, size-limited, decoded strictly, each
// failure a 4xx with a machine-readable code.

package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/protowalk"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Error is the JSON body of every refused request.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	switch b := v.(type) {
	case Error:
		setCode(w, b.Code)
	case BatchResult:
		setCode(w, b.Code)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, format string, args ...any) {
	refuse(status, code, format, args...).write(w)
}

// decode reads the body as protobuf or JSON into m. It writes the error
// response itself and reports whether decoding succeeded.
func (s *Service) decode(w http.ResponseWriter, r *http.Request, m proto.Message) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use POST")
		return false
	}
	// Before the body is even read: a flooding client costs next to nothing.
	if v, limited := s.limitClient(r); limited {
		v.write(w)
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	var readings bool
	switch m.(type) {
	case *pb.ReadingBatch, *pb.ReadingBatchV2:
		readings = true
	}
	unmarshal := unmarshalerOf(mt, readings)
	if _, ok := m.(*pb.ChirpStackUplinkEvent); ok && mt == "application/json" {
		unmarshal = discardUnknownJSON // ChirpStack's events have fields fieldmint does not read
	}
	switch {
	case mt == "application/x-ndjson" && !readings:
		fail(w, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "newline-delimited JSON is for readings only")
		return false
	case unmarshal == nil:
		fail(w, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type must be application/x-protobuf, application/json or application/x-ndjson, got %q", r.Header.Get("Content-Type"))
		return false
	}
	// The limit holds for the bytes on the wire and, separately, for what
	// they decompress to: a small compressed body cannot expand without bound.
	wire := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	var in io.Reader = wire
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(wire)
		if err != nil {
			fail(w, http.StatusBadRequest, CodeMalformed, "gzip body: %v", err)
			return false
		}
		defer zr.Close()
		in = zr
	case "zstd":
		zr, err := zstd.NewReader(wire, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(s.cfg.MaxBodyBytes)))
		if err != nil {
			fail(w, http.StatusBadRequest, CodeMalformed, "zstd body: %v", err)
			return false
		}
		defer zr.Close()
		in = zr
	default:
		fail(w, http.StatusUnsupportedMediaType, CodeUnsupportedEncoding, "Content-Encoding must be gzip, zstd or none, got %q", enc)
		return false
	}
	body, err := io.ReadAll(io.LimitReader(in, s.cfg.MaxBodyBytes+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "body exceeds %d bytes", s.cfg.MaxBodyBytes)
		} else {
			fail(w, http.StatusBadRequest, CodeMalformed, "reading body: %v", err)
		}
		return false
	}
	if int64(len(body)) > s.cfg.MaxBodyBytes {
		fail(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "body decompresses to more than %d bytes", s.cfg.MaxBodyBytes)
		return false
	}
	if err := unmarshal(body, m); err != nil {
		fail(w, http.StatusBadRequest, CodeMalformed, "%s body does not decode: %v", mt, err)
		return false
	}
	return true
}

// unmarshalerOf is the decoder of a body of media type mt (HTTP's
// Content-Type, MQTT 5's content type); nil for a type ingest does not
// take. NDJSON is for batches of readings only.
func unmarshalerOf(mt string, readings bool) func([]byte, proto.Message) error {
	switch mt {
	case "application/x-protobuf", "application/protobuf", "application/octet-stream":
		return proto.Unmarshal
	case "application/json":
		return protojson.Unmarshal
	case "application/x-ndjson":
		if readings {
			return unmarshalNDJSON
		}
	}
	return nil
}

// unmarshalNDJSON reads one protobuf-JSON signed reading per line into a
// ReadingBatch or ReadingBatchV2; blank lines are skipped.
func unmarshalNDJSON(body []byte, m proto.Message) error {
	for i, line := range bytes.Split(body, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var err error
		switch batch := m.(type) {
		case *pb.ReadingBatch:
			sr := &pb.SignedReading{}
			err = protojson.Unmarshal(line, sr)
			batch.Readings = append(batch.Readings, sr)
		case *pb.ReadingBatchV2:
			sr := &pb.SignedReadingV2{}
			err = protojson.Unmarshal(line, sr)
			batch.Readings = append(batch.Readings, sr)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	return nil
}

// deviceIDOf reads the device id (field 1) from an encoded Reading without
// decoding the rest, so that the device's key can be found and the bytes
// verified before they are decoded. As protobuf decoding does, the last
// occurrence of the field wins; decodeReading checks the two agree anyway.
func deviceIDOf(b []byte) (string, error) {
	if len(b) == 0 {
		return "", errors.New("reading missing")
	}
	var id []byte
	err := protowalk.Fields(b, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
		if num == 1 && typ == protowire.BytesType {
			id = bs
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading bytes do not decode: %v", err)
	}
	if !pb.ValidID(id) {
		return "", errors.New("device_id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
	}
	return string(id), nil
}

// decodeReading decodes a v2 item's verified bytes into its reading and
// checks the fields, as a v1 reading's are checked. Ingest reads the
// fields it checks and only counts the measurements: the validators decode
// the reading again from the same bytes, and its map and strings were
// about a sixth of ingest's CPU outside signature checks (FuzzReadingFields
// holds this to proto.Unmarshal). The reading it keeps has no measurements.
func decodeReading(it *item) error {
	rd, measurements, err := readingFields(it.v2.GetReading())
	if err != nil {
		return fmt.Errorf("reading bytes do not decode: %v", err)
	}
	if rd.DeviceId != it.id {
		return fmt.Errorf("reading bytes name device %q, then %q", it.id, rd.DeviceId)
	}
	if err := checkFields(rd, measurements); err != nil {
		return err
	}
	it.reading = rd
	return nil
}

// readingFields decodes an encoded Reading but for its measurements, which
// it counts (entries, as decoded: a name given twice counts twice).
func readingFields(b []byte) (*pb.Reading, int, error) {
	rd := &pb.Reading{}
	measurements := 0
	err := protowalk.Fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			return protowalk.String(&rd.DeviceId, bs)
		case num == 2 && typ == protowire.VarintType:
			rd.Seq = v
		case num == 3 && typ == protowire.VarintType:
			rd.EventTimeMs = int64(v)
		case num == 4 && typ == protowire.VarintType:
			rd.Kind = pb.ResourceKind(int32(v))
		case num == 5 && typ == protowire.BytesType:
			measurements++
			return protowalk.Fields(bs, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
				if num == 1 && typ == protowire.BytesType {
					return protowalk.Valid(bs) // the name
				}
				return nil
			})
		case num == 6 && typ == protowire.BytesType:
			return protowalk.Fields(bs, func(protowire.Number, protowire.Type, uint64, []byte) error { return nil }) // the position: the validators' to check
		case num == 7 && typ == protowire.BytesType:
			if rd.Witness == nil {
				rd.Witness = &pb.Witness{}
			}
			return protowalk.Fields(bs, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					return protowalk.String(&rd.Witness.BeaconDeviceId, bs)
				case num == 2 && typ == protowire.VarintType:
					rd.Witness.BeaconSeq = v
				}
				return nil
			})
		}
		return nil
	})
	return rd, measurements, err
}

// checkReading validates the fields every reading must have.
func checkReading(rd *pb.Reading) error {
	if rd == nil {
		return errors.New("reading missing")
	}
	return checkFields(rd, len(rd.Measurements))
}

// checkFields is checkReading of a reading with this many measurements.
func checkFields(rd *pb.Reading, measurements int) error {
	switch {
	case !pb.ValidID(rd.DeviceId):
		return errors.New("device_id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
	case rd.Seq == 0:
		return errors.New("seq must be positive")
	case rd.EventTimeMs <= 0:
		return errors.New("event_time_ms must be positive")
	case pb.ResourceKind_name[int32(rd.Kind)] == "" || rd.Kind == pb.ResourceKind_RESOURCE_KIND_UNSPECIFIED:
		return errors.New("kind must be a known resource kind")
	case measurements == 0:
		return errors.New("at least one measurement is required")
	case rd.Witness != nil && (rd.Kind != pb.ResourceKind_RESOURCE_KIND_HOTSPOT || !pb.ValidID(rd.Witness.BeaconDeviceId) || rd.Witness.BeaconSeq == 0):
		return errors.New("witness is for hotspots and needs the beacon's device_id and a positive beacon_seq")
	}
	return nil
}
