// Package brokendefs does not compile, for the dump's build-error test.
package brokendefs

import "github.com/edgeoutbox/edgeoutbox"

// CowFed passes a number where an input name belongs.
var CowFed = edgeoutbox.Define("cow_fed", edgeoutbox.Input(42))
