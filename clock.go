package edgeoutbox

import "time"

// Clock tells edgeoutbox the time. Config.Clock lets tests step time a year either way;
// nil means the wall clock.
type Clock interface {
	Now() time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// now is the engine's clock.
func (e *Engine) now() time.Time { return e.cfg.Clock.Now() }
