package validators

// fifo is a queue that expires at the front and is undone at the back:
// the clone window's and the beacons' insertion order. Expired entries are
// dropped by moving a head index, and the slice is compacted once at least
// half of it is dropped, so that an entry is moved about once in its life.
// (slices.Delete at the front had moved the whole window, 600,000 entries
// and 19 MB at 30,000 readings a second, at every commit.)
type fifo[T any] struct {
	s    []T
	head int // s[head:] are queued
}

func (q *fifo[T]) push(v T) { q.s = append(q.s, v) }

func (q *fifo[T]) len() int { return len(q.s) - q.head }

// front is the oldest entry; the queue must not be empty.
func (q *fifo[T]) front() T { return q.s[q.head] }

// items are the queued entries, oldest first (not to be kept).
func (q *fifo[T]) items() []T { return q.s[q.head:] }

// dropFront forgets the oldest entry.
func (q *fifo[T]) dropFront() {
	var zero T
	q.s[q.head] = zero // what it points to is free to go
	q.head++
	if q.head == len(q.s) {
		q.s, q.head = q.s[:0], 0
	}
}

// compact moves the queued entries to the start of the slice when at least
// half of it is dropped.
func (q *fifo[T]) compact() {
	if q.head == 0 || q.head < len(q.s)/2 {
		return
	}
	n := copy(q.s, q.s[q.head:])
	clear(q.s[n:]) // the moved entries' old copies
	q.s, q.head = q.s[:n], 0
}

// popBack forgets the newest entry; the queue must not be empty.
func (q *fifo[T]) popBack() {
	var zero T
	q.s[len(q.s)-1] = zero
	q.s = q.s[:len(q.s)-1]
}
