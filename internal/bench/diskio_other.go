//go:build !linux

package bench

// processWriteBytes is unknown outside Linux (no /proc/self/io).
func processWriteBytes() (int64, bool) { return 0, false }
