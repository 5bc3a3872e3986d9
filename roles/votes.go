package roles

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fieldmint/fieldmint/settler/quorum"
)

// ErrVotesDisagree is verify-votes' exit when the votes of an epoch differ.
var ErrVotesDisagree = errors.New("verify-votes: the votes disagree (see above where)")

// RunVerifyVotes is `fieldmint verify-votes N --api URL,...`: every
// operator's proof API asked for epoch N's votes, tree and device scores,
// and where the votes differ shown leaf by leaf and device by device. It
// needs HTTP only: an auditor outside the cluster runs it as well.
func RunVerifyVotes(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	apis := fs.String("api", "http://127.0.0.1:8081", "comma-separated base URLs of the operators' proof APIs (each serves its own settler's votes, trees and scores)")
	timeout := fs.Duration("timeout", time.Minute, "how long all the requests may take")
	var positional []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		positional, args = append(positional, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	positional = append(positional, fs.Args()...)
	if len(positional) != 1 {
		return errors.New("verify-votes: want one epoch, e.g. fieldmint verify-votes 42 --api http://a:8081,http://b:8081")
	}
	epoch, err := strconv.ParseUint(positional[0], 10, 64)
	if err != nil {
		return fmt.Errorf("verify-votes: epoch %q is not a non-negative integer", positional[0])
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	agree, err := quorum.Audit(ctx, http.DefaultClient, epoch, strings.Split(*apis, ","), out)
	if err != nil {
		return err
	}
	if !agree {
		return ErrVotesDisagree
	}
	return nil
}
