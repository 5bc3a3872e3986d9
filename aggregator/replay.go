// Replay: the log decided again into a fresh database (fieldmint replay).

package aggregator

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Replay reads the valid and rejected topics from the start of the log to
// their current end into ClickHouse, as a new consumer group, closing epochs
// as it goes, and returns when it reached the end. Nothing is written to
// Kafka. It decides exactly as the live aggregator did: LATE by partition
// watermarks, which the log alone determines.
func (s *Service) Replay(ctx context.Context) error {
	adm, err := kgo.NewClient(s.kc.Opts()...)
	if err != nil {
		return err
	}
	admin := kadm.NewClient(adm)
	starts, err := admin.ListStartOffsets(ctx, s.topics.Valid, s.topics.Rejected)
	if err == nil {
		err = starts.Error()
	}
	var ends kadm.ListedOffsets
	if err == nil {
		if ends, err = admin.ListEndOffsets(ctx, s.topics.Valid, s.topics.Rejected); err == nil {
			err = ends.Error()
		}
	}
	adm.Close()
	if err != nil {
		return fmt.Errorf("replay: list offsets: %w", err)
	}
	s.replayEnds, s.replayed = map[topicPartition]int64{}, map[topicPartition]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		k := topicPartition{o.Topic, o.Partition}
		s.replayEnds[k] = o.Offset
		if st, ok := starts.Lookup(o.Topic, o.Partition); ok {
			s.replayed[k] = st.Offset
		}
	})
	if err := s.mirrorDevices(ctx, true); err != nil {
		return err
	}
	if s.liveCuts, err = s.readLiveCuts(ctx); err != nil {
		return err
	}
	s.log.Info("replay: reading the log", "ends", fmt.Sprint(s.replayEnds), "epochCuts", len(s.liveCuts))
	return s.run(ctx)
}

// replayDone reports whether the replay has read every partition to its end.
func (s *Service) replayDone() bool {
	for k, end := range s.replayEnds {
		if s.replayed[k] < end {
			return false
		}
	}
	return true
}
