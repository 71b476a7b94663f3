package edgeoutbox

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on what Emit accepts, so that no event is stored that no transport can carry
// or no consumer can read: such an event would sit at the head of its entity, holding
// every later event back, until it is dead-lettered.
const (
	// MaxHeaderValueLen bounds the entity class and entity id (and a caller's
	// idempotency key): they travel as message headers, which brokers keep small.
	MaxHeaderValueLen = 256
	// MaxJSONDepth bounds the nesting of a JSON field. The envelope wraps the payload
	// in two more levels, and common JSON decoders give up between 512 and 10 000
	// levels (Go's at 10 000): 512 round-trips everywhere.
	MaxJSONDepth = 512
)

// checkHeaderValue returns why s cannot travel as a header value, or nil.
func checkHeaderValue(s string) error {
	switch {
	case len(s) > MaxHeaderValueLen:
		return castError(fmt.Sprintf("is %d bytes long; at most %d are allowed, because it travels as a message header", len(s), MaxHeaderValueLen))
	case !utf8.ValidString(s):
		return castError("is not valid UTF-8 (it travels as a message header)")
	case strings.ContainsAny(s, "\r\n\x00"):
		return castError("contains a line break or NUL (it travels as a message header)")
	}
	return nil
}

// jsonDepth returns how deeply the JSON text b nests arrays and objects.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// errTooNested refuses a JSON value deeper than MaxJSONDepth.
var errTooNested = castError(fmt.Sprintf("nests arrays and objects more than %d levels deep, more than consumers can decode", MaxJSONDepth))
