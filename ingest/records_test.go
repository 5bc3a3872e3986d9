package ingest

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// FuzzAppendRawV2: a v2 reading's raw record written by hand is, byte for
// byte, what proto.Marshal makes of the same pb.RawReading. The seeds run in
// every `go test`.
func FuzzAppendRawV2(f *testing.F) {
	f.Add("0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B", int64(1_795_000_000_123), []byte("\x0a\x04ws-1\x10\x07"), bytes.Repeat([]byte{7}, 64))
	f.Add("", int64(0), []byte{}, []byte{})
	f.Add("o", int64(-1), []byte(nil), []byte{1})
	f.Add("o", int64(1), bytes.Repeat([]byte{1}, 300), []byte(nil))
	f.Fuzz(func(t *testing.T, owner string, received int64, reading, sig []byte) {
		want, err := proto.Marshal(&pb.RawReading{Owner: owner, ReceivedAtMs: received, SignedV2: &pb.SignedReadingV2{Reading: reading, Signature: sig}})
		if err != nil {
			t.Skip("proto.Marshal refuses it (an owner that is not UTF-8): never written by hand")
		}
		if got := appendRawV2([]byte("kept"), owner, received, reading, sig); !bytes.Equal(got, append([]byte("kept"), want...)) {
			t.Fatalf("by hand %x\nproto   kept%x", got, want)
		}
	})
}
