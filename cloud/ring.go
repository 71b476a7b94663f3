package cloud

import "sync"

// ring is a bounded FIFO of entries: when full, a push overwrites the oldest entry and
// counts it as dropped. Push is O(1) and never blocks beyond a short mutex, so the
// engine's Observe path stays fast.
type ring struct {
	mu      sync.Mutex
	buf     []Entry
	head    int // index of the oldest entry
	n       int
	dropped int64
}

func newRing(size int) *ring { return &ring{buf: make([]Entry, size)} }

// push adds e and returns how many entries wait now.
func (r *ring) push(e Entry) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == len(r.buf) {
		r.buf[r.head] = e
		r.head = (r.head + 1) % len(r.buf)
		r.dropped++
		return r.n
	}
	r.buf[(r.head+r.n)%len(r.buf)] = e
	r.n++
	return r.n
}

// take removes and returns up to max of the oldest entries.
func (r *ring) take(max int) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := min(max, r.n)
	out := make([]Entry, k)
	for i := range out {
		out[i] = r.buf[(r.head+i)%len(r.buf)]
		r.buf[(r.head+i)%len(r.buf)] = Entry{}
	}
	r.head = (r.head + k) % len(r.buf)
	r.n -= k
	return out
}

// counts returns the waiting entries and the drops so far.
func (r *ring) counts() (waiting int, dropped int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n, r.dropped
}
