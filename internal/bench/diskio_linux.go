//go:build linux

package bench

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// processWriteBytes is how many bytes this process has caused to be written to
// storage so far (write_bytes in /proc/self/io), and whether the system says.
func processWriteBytes() (int64, bool) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "write_bytes:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
