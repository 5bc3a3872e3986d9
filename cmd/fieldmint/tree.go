package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/settler/merkle"
)

// readRewards parses "address,amount" lines. A first line that is not an
// address is taken as a header; blank lines and lines starting with '#' are
// skipped. An address listed twice is an error, not summed: the caller should
// know its input has duplicates.
func readRewards(r io.Reader) ([]merkle.Reward, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	seen := map[common.Address]int{}
	var out []merkle.Reward
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		row, _ := cr.FieldPos(0)
		if len(rec) != 2 {
			return nil, fmt.Errorf("line %d: want \"address,amount\", got %d fields", row, len(rec))
		}
		addr, amt := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if len(out) == 0 && len(seen) == 0 && !common.IsHexAddress(addr) && strings.EqualFold(addr, "address") {
			continue // header
		}
		if !common.IsHexAddress(addr) || len(strings.TrimPrefix(addr, "0x")) != 40 {
			return nil, fmt.Errorf("line %d: %q is not an address (0x and 40 hex digits)", row, addr)
		}
		v, ok := new(big.Int).SetString(amt, 10)
		if !ok || v.Sign() < 0 || v.BitLen() > 256 {
			return nil, fmt.Errorf("line %d: amount %q must be a non-negative integer in base units (no decimals)", row, amt)
		}
		a := common.HexToAddress(addr)
		if first, dup := seen[a]; dup {
			return nil, fmt.Errorf("line %d: %s already listed on line %d", row, a.Hex(), first)
		}
		seen[a] = row
		out = append(out, merkle.Reward{Account: a, Amount: v})
	}
	if len(out) == 0 {
		return nil, errors.New("no address,amount lines in the input")
	}
	return out, nil
}
