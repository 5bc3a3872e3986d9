package outage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fieldmint/fieldmint/internal/telemetry"
)

var restarts, _ = telemetry.Meter().Int64Counter("fieldmint.role.restarts",
	metric.WithDescription("times a role stopped on an error that waiting can fix and was run again in the same process"))

// Backoff between a role's runs that fail while its dependencies answer:
// from MinBackoff, doubling up to MaxBackoff, and back to MinBackoff after
// a run that lasted a minute.
var (
	MinBackoff = time.Second
	MaxBackoff = 30 * time.Second
)

// A Role is what Supervise runs: Run until ctx ends; Permanent says which
// of its errors no waiting can fix (bad configuration, a schema this build
// does not know, a contract that is not the configured one).
type Role struct {
	Name      string
	Deps      []*Dependency
	Run       func(context.Context) error
	Permanent func(error) bool
}

// Supervise runs r until ctx ends. When r.Run returns an error that is not
// permanent, it waits until every dependency answers, and a backoff, and
// runs it again: the role resumes where its stores say it stopped, as after
// a crash. The first failure of a streak is logged (warn), the restarts
// after it at debug; the dependencies log their own changes. While the role
// is not running its readiness check (<name>/run) fails. A permanent error
// is returned, and the process exits with it.
func Supervise(ctx context.Context, r Role, log *slog.Logger) error {
	attrs := metric.WithAttributes(attribute.String("role", r.Name))
	restarts.Add(ctx, 0, attrs)
	var mu sync.Mutex
	var stopped error // why the role is not running, nil while it runs
	context.AfterFunc(ctx, telemetry.AddCheck(r.Name+"/run", func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		return stopped
	}))
	set := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		stopped = err
	}
	backoff, failing := MinBackoff, false
	for {
		for _, d := range r.Deps {
			select {
			case <-ctx.Done():
				return nil
			case <-d.Up():
			}
		}
		set(nil)
		started := time.Now()
		err := r.Run(ctx)
		if ctx.Err() != nil || err == nil {
			return nil
		}
		if IsPermanent(err) || (r.Permanent != nil && r.Permanent(err)) {
			return fmt.Errorf("%w (no waiting can fix this: the process exits)", err)
		}
		set(fmt.Errorf("%s stopped, runs again when its dependencies answer: %w", r.Name, err))
		if time.Since(started) > time.Minute {
			backoff, failing = MinBackoff, false
		}
		for _, d := range r.Deps {
			d.Confirm(ctx)
		}
		if !failing {
			log.Warn(r.Name+": stopped by an error; runs again once its dependencies answer (restarts in a row are logged at debug)", "err", err)
			failing = true
		} else {
			log.Debug(r.Name+": stopped by an error again", "err", err, "backoff", backoff)
		}
		restarts.Add(ctx, 1, attrs)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, MaxBackoff)
	}
}

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as a fault no waiting can fix (a role's constructor
// refusing its configuration, say): Supervise returns it at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
