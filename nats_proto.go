package edgeoutbox

import (
	"bytes"
	"strconv"
)

// natsMaxOpLine bounds how much of one client protocol line protoScanner keeps: a
// PUB/HPUB line is its op, a subject, an optional reply subject and one or two sizes,
// far below this. Longer lines (a CONNECT carrying a large JWT) are passed through
// without being kept.
const natsMaxOpLine = 64 << 10

// protoScanner follows the client-to-server side of the NATS protocol across write
// boundaries and tells, for each chunk written, whether it carries part of a client
// message: a "PUB subject [reply] size" or "HPUB subject [reply] hdr_size total_size"
// line or the payload that follows it (size bytes, then CRLF). Every other client op
// (CONNECT, PING, PONG, SUB, UNSUB) is one line.
//
// It only reads; it never changes the bytes. A chunk it cannot make sense of marks
// the scanner broken, and from then on every chunk counts as carrying a message, so a
// guard built on it fails closed.
type protoScanner struct {
	line    []byte // the current op line so far (only its head, see natsMaxOpLine)
	lineLen int    // the current op line's full length so far
	payload int    // payload bytes (including the closing CRLF) still to come
	broken  bool

	// onMsg, if set, is called with each complete PUB/HPUB line (tests count
	// messages per subject with it).
	onMsg func(line []byte)
}

// feed consumes b, the next chunk of the stream, and reports whether any byte of it
// belongs to a client message (its op line or its payload).
func (s *protoScanner) feed(b []byte) (carriesMsg bool) {
	for len(b) > 0 {
		if s.broken {
			return true
		}
		if s.payload > 0 {
			n := min(s.payload, len(b))
			s.payload -= n
			b = b[n:]
			carriesMsg = true
			continue
		}
		nl := bytes.IndexByte(b, '\n')
		part := b
		if nl >= 0 {
			part = b[:nl+1]
		}
		b = b[len(part):]
		if room := natsMaxOpLine - len(s.line); room > 0 {
			s.line = append(s.line, part[:min(room, len(part))]...)
		}
		s.lineLen += len(part)
		if isMsgOp(s.line) {
			carriesMsg = true
		}
		if nl < 0 {
			continue // the line goes on in the next chunk
		}
		if isMsgOp(s.line) {
			size, ok := msgOpSize(s.line, s.lineLen)
			if !ok {
				s.broken = true
				return true
			}
			s.payload = size + 2 // the payload, then CRLF
			if s.onMsg != nil {
				s.onMsg(s.line)
			}
		}
		s.line, s.lineLen = s.line[:0], 0
	}
	return carriesMsg
}

// isMsgOp reports whether line (the head of an op line, possibly incomplete) is, or
// may still turn out to be, a PUB or HPUB op. An incomplete head that could still
// become one counts: "PU" in one chunk, "B ..." in the next.
func isMsgOp(line []byte) bool {
	for _, op := range [...]string{"PUB", "HPUB"} {
		n := min(len(line), len(op))
		if !bytes.EqualFold(line[:n], []byte(op)[:n]) {
			continue
		}
		if len(line) <= len(op) {
			return true // "P", "PUB": undecided or not yet followed by a blank
		}
		if c := line[len(op)]; c == ' ' || c == '\t' {
			return true
		}
	}
	return false
}

// msgOpSize returns the number of payload bytes announced by a complete PUB or HPUB
// line (the last field: the total size). A line longer than what was kept, or one
// without a valid size, is not understood.
func msgOpSize(line []byte, lineLen int) (int, bool) {
	if lineLen > len(line) {
		return 0, false
	}
	fields := bytes.Fields(line)
	minFields := 3 // PUB subject [reply] size
	if bytes.EqualFold(fields[0], []byte("HPUB")) {
		minFields = 4 // HPUB subject [reply] hdr_size total_size
	}
	if len(fields) != minFields && len(fields) != minFields+1 {
		return 0, false
	}
	size, err := strconv.Atoi(string(fields[len(fields)-1]))
	if err != nil || size < 0 {
		return 0, false
	}
	return size, true
}
