//go:build race

package edgeoutbox

// raceEnabled reports whether the internal tests run under the race detector.
const raceEnabled = true
