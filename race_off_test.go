//go:build !race

package edgeoutbox_test

// raceDetector reports whether the tests run under the race detector, which slows
// goroutines by an order of magnitude and widens timing windows.
const raceDetector = false
