// Package baddefs declares an event with a mistake, for the dump's error test.
package baddefs

import "github.com/edgeoutbox/edgeoutbox"

// CowFed has a name that cannot be a NATS subject token.
var CowFed = edgeoutbox.Define("Cow Fed", edgeoutbox.Input("cow"))
