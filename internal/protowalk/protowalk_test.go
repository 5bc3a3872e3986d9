package protowalk

import (
	"errors"
	"testing"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestSintEntryKnownNames: a key found in the table is the table's string
// (the same bytes in memory, not a copy); any other key is decoded as
// before, and a key that is not UTF-8 is malformed whatever the table.
func TestSintEntryKnownNames(t *testing.T) {
	entry := func(key string, val int64) []byte {
		b := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), key)
		return protowire.AppendVarint(protowire.AppendTag(b, 2, protowire.VarintType), protowire.EncodeZigZag(val))
	}
	name := "temperature_c"
	known := map[string]string{name: name}
	key, val, err := SintEntry(entry("temperature_c", -21_500), known)
	if err != nil || key != name || val != -21_500 || unsafe.StringData(key) != unsafe.StringData(name) {
		t.Fatalf("a known name: %q %d %v (the table's string: %v)", key, val, err, unsafe.StringData(key) == unsafe.StringData(name))
	}
	for _, table := range []map[string]string{known, nil} {
		if key, val, err := SintEntry(entry("rain_mm", 3), table); err != nil || key != "rain_mm" || val != 3 {
			t.Fatalf("another name: %q %d %v", key, val, err)
		}
		if _, _, err := SintEntry(entry("\xff", 3), table); !errors.Is(err, ErrMalformed) {
			t.Fatalf("a name that is not UTF-8: %v", err)
		}
	}
}
