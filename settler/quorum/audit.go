package quorum

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/api/wire"
)

// source is what one operator's proof API says of an epoch.
type source struct {
	url    string
	votes  []wire.Vote
	tree   string            // keccak256 of its tree dump ("" without one)
	leaves map[string]string // account -> cumulative amount, from the dump
	scores map[string]wire.DeviceScore
}

// Audit fetches epoch's votes, tree dumps and device scores from each proof
// API (one per operator) and writes to out how the votes of the newest round
// group, and, when they differ, where: the vote's fields, then leaf by leaf
// and device by device between the largest group and each other. It
// reports whether every vote agrees. fieldmint verify-votes runs it.
func Audit(ctx context.Context, hc *http.Client, epoch uint64, apis []string, out io.Writer) (bool, error) {
	var sources []*source
	votes := map[string]wire.Vote{} // by round and signer
	for _, u := range apis {
		s, err := fetch(ctx, hc, strings.TrimRight(u, "/"), epoch)
		if err != nil {
			return false, err
		}
		sources = append(sources, s)
		for _, v := range s.votes {
			votes[fmt.Sprintf("%020d/%s", v.Round, strings.ToLower(v.Signer))] = v
		}
	}
	if len(votes) == 0 {
		fmt.Fprintf(out, "verify-votes: no vote for epoch %d at %s\n", epoch, strings.Join(apis, ", "))
		return false, nil
	}
	var round uint64
	for _, v := range votes {
		round = max(round, v.Round)
	}
	groups := map[string][]wire.Vote{}
	var keys []string
	for _, v := range votes {
		if v.Round != round {
			continue
		}
		k := strings.ToLower(strings.Join([]string{v.Root, v.Total, v.PrevRoot, v.Inputs, fmt.Sprint(v.Rules)}, "/"))
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], v)
	}
	slices.SortFunc(keys, func(a, b string) int { return len(groups[b]) - len(groups[a]) })
	fmt.Fprintf(out, "verify-votes: epoch %d, round %d: %d votes in %d group(s), read from %d proof API(s)\n", epoch, round, len(votes), len(keys), len(apis))
	for i, k := range keys {
		g := groups[k]
		fmt.Fprintf(out, "  group %d: root %s total %s inputs %s prevRoot %s rules %d, signed by %s\n", i+1, g[0].Root, g[0].Total, g[0].Inputs, g[0].PrevRoot, g[0].Rules, signerList(g))
	}
	if len(keys) == 1 {
		fmt.Fprintln(out, "verify-votes: every vote agrees")
		return true, nil
	}
	ref := groups[keys[0]]
	for _, k := range keys[1:] {
		compare(out, ref, groups[k], sources)
	}
	return false, nil
}

func signerList(g []wire.Vote) string {
	var s []string
	for _, v := range g {
		s = append(s, v.Signer)
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}

// compare writes where group b differs from group a.
func compare(out io.Writer, a, b []wire.Vote, sources []*source) {
	va, vb := a[0], b[0]
	fmt.Fprintf(out, "group of %s against group of %s:\n", signerList(b), signerList(a))
	for _, f := range [][3]string{{"root", va.Root, vb.Root}, {"total", va.Total, vb.Total}, {"prevRoot", va.PrevRoot, vb.PrevRoot},
		{"inputs", va.Inputs, vb.Inputs}, {"rules", fmt.Sprint(va.Rules), fmt.Sprint(vb.Rules)}} {
		if !strings.EqualFold(f[1], f[2]) {
			fmt.Fprintf(out, "  %s: %s, not %s\n", f[0], f[2], f[1])
		}
	}
	if !strings.EqualFold(va.Inputs, vb.Inputs) {
		fmt.Fprintln(out, "  the inputs differ: the two computed from different cuts of the raw log (docs/decentralization.md, \"A split vote\")")
	}
	sa, sb := sourceOf(a, sources), sourceOf(b, sources)
	if sa == nil || sb == nil {
		fmt.Fprintln(out, "  no proof API given serves both groups' trees: pass each operator's with --api to compare leaves and devices")
		return
	}
	for _, acct := range unionKeys(sa.leaves, sb.leaves) {
		if x, y := sa.leaves[acct], sb.leaves[acct]; x != y {
			fmt.Fprintf(out, "  leaf %s: %s, not %s\n", acct, orNone(y), orNone(x))
		}
	}
	for _, dev := range unionKeys(sa.scores, sb.scores) {
		x, okx := sa.scores[dev]
		y, oky := sb.scores[dev]
		switch {
		case !okx:
			fmt.Fprintf(out, "  device %s (owner %s): scored %d, absent from the other\n", dev, y.Owner, y.Score)
		case !oky:
			fmt.Fprintf(out, "  device %s (owner %s): absent, the other scored %d\n", dev, x.Owner, x.Score)
		case x != y:
			fmt.Fprintf(out, "  device %s (owner %s): score %d, not %d (readings %d/%d, uptime %d/%d, quality %d/%d, trust %d/%d, sharing %d/%d, frauds %d/%d)\n",
				dev, x.Owner, y.Score, x.Score, y.Readings, x.Readings, y.Uptime, x.Uptime, y.Quality, x.Quality, y.Trust, x.Trust, y.Sharing, x.Sharing, y.Frauds, x.Frauds)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func unionKeys[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// sourceOf is the proof API whose tree dump is the one g's votes name.
func sourceOf(g []wire.Vote, sources []*source) *source {
	for _, s := range sources {
		for _, v := range g {
			if s.tree != "" && strings.EqualFold(s.tree, v.TreeHash) {
				return s
			}
		}
	}
	return nil
}

func fetch(ctx context.Context, hc *http.Client, base string, epoch uint64) (*source, error) {
	s := &source{url: base, leaves: map[string]string{}, scores: map[string]wire.DeviceScore{}}
	var votes struct{ Votes []wire.Vote }
	if _, err := get(ctx, hc, fmt.Sprintf("%s/v1/votes?epoch=%d", base, epoch), &votes); err != nil {
		return nil, err
	}
	s.votes = votes.Votes
	raw, err := get(ctx, hc, fmt.Sprintf("%s/v1/epochs/%d/tree", base, epoch), nil)
	if err != nil {
		return nil, err
	}
	if raw != nil {
		s.tree = crypto.Keccak256Hash(raw).Hex()
		var dump struct {
			Values []struct{ Value []string }
		}
		if err := json.Unmarshal(raw, &dump); err != nil {
			return nil, fmt.Errorf("verify-votes: %s: the tree dump of epoch %d: %w", base, epoch, err)
		}
		for _, v := range dump.Values {
			if len(v.Value) == 2 {
				s.leaves[strings.ToLower(v.Value[0])] = v.Value[1]
			}
		}
	}
	var scores struct{ Scores []wire.DeviceScore }
	if _, err := get(ctx, hc, fmt.Sprintf("%s/v1/epochs/%d/scores", base, epoch), &scores); err != nil {
		return nil, err
	}
	for _, d := range scores.Scores {
		s.scores[d.DeviceID] = d
	}
	return s, nil
}

// get fetches u; a 404 is no body (nil), another status an error. With
// into, the body is decoded into it.
func get(ctx context.Context, hc *http.Client, u string, into any) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("verify-votes: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("verify-votes: %s: %w", u, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("verify-votes: %s answered %d: %.200s", u, resp.StatusCode, body)
	case into != nil:
		if err := json.Unmarshal(body, into); err != nil {
			return nil, fmt.Errorf("verify-votes: %s: %w", u, err)
		}
	}
	return body, nil
}
