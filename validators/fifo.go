package validators

// fifo is a queue that expires at the front and is undone at the back:
// the clone window's and the beacons' insertion order. It is a list of
// fixed blocks, so an entry is written once and never moved: a single
// slice either moves what is left after dropping the front (slices.Delete
// had moved the whole window, 600,000 entries and 19 MB at 30,000 readings
// a second, at every commit) or grows by copying (append grows a large
// slice by a quarter, so while the window filled, a minute after every
// start or takeover, each entry was copied about four times: 6% of a
// validator's CPU in `bench pipeline`'s profile).
type fifo[T any] struct {
	blocks [][]T // each of capacity fifoBlock, all full but the last
	head   int   // blocks[0][head:] are the oldest queued
	n      int   // entries queued
	spare  []T   // an emptied block, kept for the next one needed
}

// fifoBlock is the entries of a block: 128 KB of clone references.
const fifoBlock = 4096

func (q *fifo[T]) push(v T) {
	if len(q.blocks) == 0 || len(q.blocks[len(q.blocks)-1]) == fifoBlock {
		b := q.spare
		if b == nil {
			b = make([]T, 0, fifoBlock)
		}
		q.spare = nil
		q.blocks = append(q.blocks, b)
	}
	last := &q.blocks[len(q.blocks)-1]
	*last = append(*last, v)
	q.n++
}

func (q *fifo[T]) len() int { return q.n }

// front is the oldest entry; the queue must not be empty.
func (q *fifo[T]) front() T { return q.blocks[0][q.head] }

// items are the queued entries, oldest first (a copy).
func (q *fifo[T]) items() []T {
	out := make([]T, 0, q.n)
	for i, b := range q.blocks {
		if i == 0 {
			b = b[q.head:]
		}
		out = append(out, b...)
	}
	return out
}

// dropFront forgets the oldest entry; the queue must not be empty.
func (q *fifo[T]) dropFront() {
	var zero T
	first := q.blocks[0]
	first[q.head] = zero // what it points to is free to go
	q.head++
	q.n--
	if q.head == len(first) { // the first block is used up
		q.release(0)
		q.head = 0
	}
}

// popBack forgets the newest entry; the queue must not be empty.
func (q *fifo[T]) popBack() {
	var zero T
	i := len(q.blocks) - 1
	last := q.blocks[i]
	last[len(last)-1] = zero
	q.blocks[i] = last[:len(last)-1]
	q.n--
	if len(q.blocks[i]) == 0 { // (when it is the first, head is 0)
		q.release(i)
	}
}

// release drops block i (the first or the last), whose entries are all
// dropped and zeroed, keeping its memory for the next block.
func (q *fifo[T]) release(i int) {
	b := q.blocks[i][:0]
	if i == 0 {
		q.blocks[0] = nil
		q.blocks = q.blocks[1:]
	} else {
		q.blocks = q.blocks[:i]
	}
	q.spare = b
}
