package tables

import (
	"context"
	"math/big"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Vote is a row of settlement_votes: one signer's signed vote for an
// epoch's root in a round, as a settler read it from the votes topic
// (hex strings as they are stored; settler/quorum has the typed vote).
type Vote struct {
	Epoch     uint64   `json:"epoch"`
	Round     uint64   `json:"round"`
	Signer    string   `json:"signer"`
	Root      string   `json:"root"`
	Total     *big.Int `json:"total"`
	PrevRoot  string   `json:"prevRoot"`
	Inputs    string   `json:"inputs"`
	Rules     uint32   `json:"rules"`
	Signature string   `json:"signature"`
	TreeHash  string   `json:"treeHash"`
}

// VoteColumns are settlement_votes' columns in Vote's order.
const VoteColumns = `epoch, round, signer, root, total, prev_root, inputs, rules, signature, tree_hash`

// InsertVotes writes votes, stamped with the time they were read.
func InsertVotes(ctx context.Context, conn driver.Conn, votes []Vote) error {
	if len(votes) == 0 {
		return nil
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO settlement_votes ("+VoteColumns+", read_at)")
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, v := range votes {
		if err := batch.Append(v.Epoch, v.Round, v.Signer, v.Root, orZero(v.Total), v.PrevRoot, v.Inputs, v.Rules, v.Signature, v.TreeHash, now); err != nil {
			batch.Abort()
			return err
		}
	}
	return batch.Send()
}

// VotesOf returns epoch's votes, the newest read per signer and round,
// by round then signer.
func VotesOf(ctx context.Context, conn driver.Conn, epoch uint64) ([]Vote, error) {
	rows, err := conn.Query(ctx, "SELECT "+VoteColumns+" FROM settlement_votes FINAL WHERE epoch = ? ORDER BY round, signer", epoch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Vote
	for rows.Next() {
		var v Vote
		var total big.Int
		if err := rows.Scan(&v.Epoch, &v.Round, &v.Signer, &v.Root, &total, &v.PrevRoot, &v.Inputs, &v.Rules, &v.Signature, &v.TreeHash); err != nil {
			return nil, err
		}
		v.Total = &total
		out = append(out, v)
	}
	return out, rows.Err()
}
