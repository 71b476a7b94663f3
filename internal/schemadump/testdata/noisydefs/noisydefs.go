// Package noisydefs is a definitions package that misbehaves the way real ones may: it
// prints to stdout when initialised and, when EDGEOUTBOX_TEST_BLOCK names a file, writes
// its process id there and blocks forever. It lives under testdata so that
// "go build ./..." ignores it.
package noisydefs

import (
	"fmt"
	"os"
	"strconv"

	"github.com/edgeoutbox/edgeoutbox"
)

// CowFed is a plain definition.
var CowFed = edgeoutbox.Define("cow_fed",
	edgeoutbox.Input("cow"),
	edgeoutbox.RequiredPayload("weight", edgeoutbox.From("cow"), edgeoutbox.Float),
)

func init() {
	fmt.Println("noisydefs: hello from init")
	if path := os.Getenv("EDGEOUTBOX_TEST_BLOCK"); path != "" {
		os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())), 0o644)
		select {}
	}
}
