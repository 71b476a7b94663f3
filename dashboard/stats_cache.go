package dashboard

import (
	"context"
	"sync"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
)

// statsCache shares one read of the engine's counters between every open tab for ttl:
// N tabs refreshing at once cost one read, and a caller arriving while a read is in
// flight waits for it instead of starting another.
type statsCache struct {
	engine *edgeoutbox.Engine
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	at    time.Time
	stats edgeoutbox.Stats
	reads int64 // reads of the engine, for tests
}

func newStatsCache(e *edgeoutbox.Engine, ttl time.Duration) *statsCache {
	return &statsCache{engine: e, ttl: ttl, now: time.Now}
}

// get returns the cached counters, reading them again when they are older than ttl.
func (c *statsCache) get(ctx context.Context) (edgeoutbox.Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.at.IsZero() && now.Sub(c.at) < c.ttl {
		return c.stats, nil
	}
	s, err := c.engine.Stats(ctx)
	if err != nil {
		return s, err
	}
	c.reads++
	c.stats, c.at = s, now
	return s, nil
}

// invalidate makes the next get read the counters again (after a retry, so the page
// the user lands on shows its effect).
func (c *statsCache) invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}
