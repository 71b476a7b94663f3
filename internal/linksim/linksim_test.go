package linksim

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer accepts connections on 127.0.0.1 and echoes what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// sinkServer accepts one connection at a time and sends back one byte per n bytes read.
func sinkServer(t *testing.T, n int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, n)
				for {
					if _, err := io.ReadFull(c, buf); err != nil {
						return
					}
					if _, err := c.Write([]byte{1}); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func startProxy(t *testing.T, target string, link Link) *Proxy {
	t.Helper()
	p, err := Start(target, link)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends msg and reads it back, returning how long that took.
func roundTrip(t *testing.T, c net.Conn, msg []byte) time.Duration {
	t.Helper()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	start := time.Now()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo changed the bytes")
	}
	return time.Since(start)
}

// TestDelay checks the added round trip against the same exchange without the proxy:
// never faster than the configured RTT (a lower bound, exact by construction), and
// the best of several exchanges within a generous ratio of it.
func TestDelay(t *testing.T) {
	t.Parallel()
	const rtt = 80 * time.Millisecond
	target := echoServer(t)
	p := startProxy(t, target, Link{RTT: rtt})
	direct := dial(t, target)
	proxied := dial(t, p.Addr())
	msg := []byte("ping through the simulated link")
	best := time.Hour
	for i := 0; i < 5; i++ {
		d := roundTrip(t, proxied, msg)
		if d < rtt {
			t.Fatalf("round trip %s through a %s link: shorter than the link's delay", d, rtt)
		}
		best = min(best, d-roundTrip(t, direct, msg))
	}
	if ratio := float64(best) / float64(rtt); ratio > 4 {
		t.Errorf("best added delay %s is %.1f× the configured %s", best, ratio, rtt)
	}
	if p.BytesUp() != int64(5*len(msg)) || p.BytesDown() != int64(5*len(msg)) {
		t.Errorf("bytes up %d, down %d; want %d each", p.BytesUp(), p.BytesDown(), 5*len(msg))
	}
}

// TestBandwidth sends more than the cap allows in a fraction of a second: the
// transfer cannot finish sooner than size/bandwidth, and keeps within a generous
// ratio of it.
func TestBandwidth(t *testing.T) {
	t.Parallel()
	const bw, size = 1 << 20, 384 << 10 // 1 MiB/s, 384 KiB: at least 375 ms
	target := sinkServer(t, size)
	p := startProxy(t, target, Link{Bandwidth: bw})
	c := dial(t, p.Addr())
	c.SetDeadline(time.Now().Add(30 * time.Second))
	start := time.Now()
	go c.Write(make([]byte, size))
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	floor := time.Duration(size) * time.Second / bw
	// The first read may be up to one chunk ahead of the cap.
	if elapsed < floor-floor/10 {
		t.Fatalf("%d bytes at %d B/s took %s, less than the link allows (%s)", size, bw, elapsed, floor)
	}
	if ratio := float64(elapsed) / float64(floor); ratio > 6 {
		t.Errorf("%d bytes at %d B/s took %s, %.1f× the ideal %s", size, bw, elapsed, ratio, floor)
	}
	if p.BytesUp() != size {
		t.Errorf("bytes up %d, want %d", p.BytesUp(), size)
	}
}

// TestCut closes open connections at once, refuses new ones while down, and lets them
// through again afterwards.
func TestCut(t *testing.T) {
	t.Parallel()
	target := echoServer(t)
	p := startProxy(t, target, Link{RTT: 10 * time.Millisecond})
	c := dial(t, p.Addr())
	roundTrip(t, c, []byte("before"))
	if p.Conns() != 1 {
		t.Fatalf("open connections %d, want 1", p.Conns())
	}

	p.Cut()
	assertClosed(t, c)
	if p.Cuts() != 1 {
		t.Errorf("cuts %d, want 1", p.Cuts())
	}

	// Cut alone does not refuse new connections.
	c2 := dial(t, p.Addr())
	roundTrip(t, c2, []byte("after cut"))

	p.SetDown(true)
	assertClosed(t, c2)
	c3 := dial(t, p.Addr()) // accepted by the kernel, closed by the proxy
	assertClosed(t, c3)

	p.SetDown(false)
	c4 := dial(t, p.Addr())
	roundTrip(t, c4, []byte("back up"))
}

// assertClosed waits until c reads EOF or a connection error.
func assertClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("x")) // may fail already: that is fine
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("connection still open after the cut: read returned %v", err)
	}
}

func TestBadLink(t *testing.T) {
	t.Parallel()
	if _, err := Start("127.0.0.1:1", Link{RTT: -time.Second}); err == nil {
		t.Fatal("negative RTT accepted")
	}
}

// TestCloseTwice closes a proxy with a connection open, twice.
func TestCloseTwice(t *testing.T) {
	t.Parallel()
	p, err := Start(echoServer(t), Link{})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	roundTrip(t, c, []byte("hi"))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	assertClosed(t, c)
}
