//go:build !unix && !windows

package bench

import "time"

// processCPU is unknown here (no getrusage): 0, and the cores column reads 0.0.
func processCPU() time.Duration { return 0 }
