package linksim

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// chunk is what one read took from the sender, and when the receiver gets it.
type chunk struct {
	data []byte
	due  time.Time
}

// queue holds the bytes on the link in one direction, bounded in bytes.
type queue struct {
	mu    sync.Mutex
	cond  *sync.Cond
	items []chunk
	bytes int
	limit int
	ended bool // the sender is done (EOF or error) or the pipe closed
}

func newQueue(limit int) *queue {
	q := &queue{limit: limit}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push waits for room (or the end) and appends c; it reports false once ended.
func (q *queue) push(c chunk) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.ended && q.bytes > 0 && q.bytes+len(c.data) > q.limit {
		q.cond.Wait()
	}
	if q.ended {
		return false
	}
	q.items = append(q.items, c)
	q.bytes += len(c.data)
	q.cond.Broadcast()
	return true
}

// pop waits for the next chunk; ok is false when the queue ended and is empty.
func (q *queue) pop() (c chunk, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.ended {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return chunk{}, false
	}
	c = q.items[0]
	q.items[0] = chunk{}
	q.items = q.items[1:]
	q.bytes -= len(c.data)
	q.cond.Broadcast()
	return c, true
}

func (q *queue) end() {
	q.mu.Lock()
	q.ended = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// direction carries bytes from src to dst through the link: a reader stamps each
// chunk with its delivery time (serialised at the bandwidth cap, then delayed by half
// the round trip) and a writer delivers the chunks in order when they are due. When
// either side fails, the whole connection is closed, as a broken link would.
func (p *Proxy) direction(c *pipe, src, dst net.Conn, delivered *atomic.Int64) {
	q := newQueue(p.link.QueueBytes)
	oneWay := p.link.RTT / 2
	go func() {
		<-c.done
		q.end()
	}()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer q.end()
		var linkFree time.Time // when the link finishes sending what it already has
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				now := time.Now()
				due := now.Add(oneWay)
				if bw := p.link.Bandwidth; bw > 0 {
					start := now
					if linkFree.After(start) {
						start = linkFree
					}
					linkFree = start.Add(time.Duration(int64(n) * int64(time.Second) / bw))
					due = linkFree.Add(oneWay)
				}
				if !q.push(chunk{data: buf[:n], due: due}) {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		ch, ok := q.pop()
		if !ok {
			break
		}
		if wait := time.Until(ch.due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-c.done:
				wg.Wait()
				return
			}
		}
		// Counted before the write so that a receiver that reacts to the bytes sees
		// the counter already include them.
		delivered.Add(int64(len(ch.data)))
		if _, err := dst.Write(ch.data); err != nil {
			break
		}
	}
	c.close()
	wg.Wait()
}
