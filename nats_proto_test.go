package edgeoutbox

import (
	"strings"
	"testing"
)

// protoChunk is one write of a client stream and whether it carries message bytes.
type protoChunk struct {
	data string
	msg  bool
}

func TestProtoScannerWholeWrites(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("PUB x 3\r\nabc\r\n", 20000) // 280 000 bytes that look like ops
	cases := []struct {
		name   string
		chunks []protoChunk
	}{
		{"control ops only", []protoChunk{
			{"CONNECT {\"verbose\":false}\r\nPING\r\n", false},
			{"SUB _INBOX.x.* 1\r\nUNSUB 1\r\nPONG\r\n", false},
		}},
		{"pub then ping", []protoChunk{
			{"PUB events.a 5\r\nhello\r\n", true},
			{"PING\r\n", false},
		}},
		{"pub with reply", []protoChunk{{"PUB events.a _INBOX.r 2\r\nhi\r\n", true}, {"PING\r\n", false}}},
		{"hpub", []protoChunk{
			{"HPUB events.a _INBOX.r 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\n", true},
			{"PING\r\n", false},
		}},
		{"lower case", []protoChunk{{"pub a 1\r\nx\r\n", true}, {"ping\r\n", false}}},
		{"payload containing ops", []protoChunk{
			{"PUB a 16\r\nPING\r\nPUB b 1\r\nq\r\n", true},
			{"PONG\r\n", false},
		}},
		{"large payload of fake ops", []protoChunk{
			{"HPUB a 12 " + itoa(12+len(big)) + "\r\nNATS/1.0\r\n\r\n" + big + "\r\n", true},
			{"SUB a 2\r\n", false},
		}},
		{"empty payload", []protoChunk{{"PUB a 0\r\n\r\n", true}, {"PING\r\n", false}}},
		{"publish-like names", []protoChunk{{"PUBX a 1\r\nPINGPUB\r\n", false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s protoScanner
			for i, c := range tc.chunks {
				if got := s.feed([]byte(c.data)); got != c.msg {
					t.Fatalf("chunk %d (%.40q): carries a message = %v, want %v", i, c.data, got, c.msg)
				}
			}
		})
	}
}

// TestProtoScannerSplitEverywhere splits a stream of mixed ops at every byte and
// checks that each piece is judged by the op it belongs to.
func TestProtoScannerSplitEverywhere(t *testing.T) {
	t.Parallel()
	ops := []protoChunk{
		{"CONNECT {\"name\":\"PUB 3\"}\r\n", false},
		{"PING\r\n", false},
		{"PUB events.a 9\r\nPUB x 1\r\n\r\n", true},
		{"SUB _INBOX.a 1\r\n", false},
		{"HPUB events.b _INBOX.c 12 17\r\nNATS/1.0\r\n\r\nHPUB \r\n", true},
		{"PONG\r\n", false},
		{"PUB e 0\r\n\r\n", true},
		{"UNSUB 1\r\n", false},
	}
	var stream string
	var isMsg []bool // per byte
	for _, op := range ops {
		stream += op.data
		for range op.data {
			isMsg = append(isMsg, op.msg)
		}
	}
	anyMsg := func(from, to int) bool {
		for _, m := range isMsg[from:to] {
			if m {
				return true
			}
		}
		return false
	}
	for cut1 := 1; cut1 < len(stream); cut1++ {
		for _, cut2 := range []int{cut1 + 1, cut1 + 7, len(stream)} {
			cut2 = min(cut2, len(stream))
			var s protoScanner
			pieces := [][2]int{{0, cut1}, {cut1, cut2}, {cut2, len(stream)}}
			for _, p := range pieces {
				if p[0] == p[1] {
					continue
				}
				got := s.feed([]byte(stream[p[0]:p[1]]))
				want := anyMsg(p[0], p[1])
				// A piece that ends inside "PUB"/"HPUB" before the blank cannot be told
				// from PING yet: the scanner counts it as a message (it fails closed).
				if got != want && !(got && ambiguousHead(stream, p[0], p[1])) {
					t.Fatalf("cuts %d,%d: piece %q carries a message = %v, want %v", cut1, cut2, stream[p[0]:p[1]], got, want)
				}
			}
			if s.broken || s.payload != 0 || len(s.line) != 0 {
				t.Fatalf("cuts %d,%d: scanner left in state %+v", cut1, cut2, s)
			}
		}
	}
}

// ambiguousHead reports whether stream[from:to] ends within the first bytes of a
// control op that start like PUB or HPUB ("P" of PING or PONG).
func ambiguousHead(stream string, from, to int) bool {
	start := strings.LastIndex(stream[:to], "\n") + 1
	head := stream[max(start, from):to]
	return len(head) <= 4 && (strings.HasPrefix("PUB", strings.ToUpper(head)) || strings.HasPrefix("HPUB", strings.ToUpper(head)))
}

// TestProtoScannerFailsClosed checks that a message line it cannot read makes every
// later chunk count as a message.
func TestProtoScannerFailsClosed(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"PUB a\r\n", "PUB a b c d\r\n", "PUB a -1\r\n", "HPUB a 1\r\n", "PUB a x\r\n",
		"PUB " + strings.Repeat("a", natsMaxOpLine) + " 1\r\n"} {
		var s protoScanner
		if !s.feed([]byte(bad)) {
			t.Fatalf("%.30q: not counted as a message", bad)
		}
		if !s.broken || !s.feed([]byte("PING\r\n")) {
			t.Fatalf("%.30q: the scanner goes on after a line it cannot read", bad)
		}
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}
