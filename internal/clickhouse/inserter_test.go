package clickhouse_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/testenv"
)

// An Inserter stores a block once per deduplication token, refuses a block
// whose columns differ in length without sending it, dials again after a
// failed INSERT, and never repeats a wrong password in its error.
func TestInserter(t *testing.T) {
	conn, cfg := testenv.ClickHouseConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := conn.Exec(ctx, "CREATE TABLE ins (a UInt64, s LowCardinality(String)) ENGINE = MergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 100"); err != nil {
		t.Fatal(err)
	}
	count := func() uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM ins").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	w := clickhouse.NewInserter(cfg)
	t.Cleanup(func() { w.Close() })
	block := func(n int) proto.Input {
		var a proto.ColUInt64
		s := proto.NewLowCardinality[string](new(proto.ColStr))
		for i := range n {
			a.Append(uint64(i))
			s.Append([]string{"x", "y"}[i%2])
		}
		return proto.Input{{Name: "a", Data: &a}, {Name: "s", Data: s}}
	}
	token := func(tok string) map[string]string { return map[string]string{"insert_deduplication_token": tok} }

	for range 2 {
		if err := w.Insert(ctx, "ins", block(3), token("one")); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 3 {
		t.Fatalf("%d rows after the same block twice under one token, want 3", n)
	}

	short := block(2)
	short[1].Data.(*proto.ColLowCardinality[string]).Append("z")
	if err := w.Insert(ctx, "ins", short, token("short")); err == nil || !strings.Contains(err.Error(), "column s has 3 rows, a has 2") {
		t.Fatalf("unequal columns: %v, want an error naming them", err)
	}
	if err := w.Insert(ctx, "ins", block(0), nil); err == nil || !strings.Contains(err.Error(), "no rows") {
		t.Fatalf("an empty block: %v, want an error", err)
	}
	if err := w.Insert(ctx, "no_such_table", block(1), nil); err == nil {
		t.Fatal("an INSERT into a missing table succeeded")
	}
	if err := w.Insert(ctx, "ins", block(4), token("two")); err != nil {
		t.Fatalf("after a failed INSERT: %v", err)
	}
	if n := count(); n != 7 {
		t.Fatalf("%d rows, want 7", n)
	}

	bad := cfg
	bad.Password = "hunter2-not-the-password"
	wb := clickhouse.NewInserter(bad)
	defer wb.Close()
	err := wb.Insert(ctx, "ins", block(1), nil)
	if err == nil || strings.Contains(err.Error(), bad.Password) {
		t.Fatalf("a wrong password: %v, want an error without the password", err)
	}
	t.Log(err)
}
