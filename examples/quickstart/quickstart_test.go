package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/edgeoutbox/edgeoutbox/examples/quickstart/events/payload"
	"github.com/edgeoutbox/edgeoutbox/natstest"
)

// maxConsumerSize is the target for a consumer that only decodes envelopes.
const maxConsumerSize = 3 << 20

// TestQuickstart builds and runs the README's complete example against a real
// in-process NATS server, checks that its event is in the stream, and feeds the
// message body to the consumer, which must stay small and print the typed payload.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs with go build")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	bin := t.TempDir()
	build := func(pkg, out string) string {
		t.Helper()
		path := filepath.Join(bin, out)
		cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", path, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
		return path
	}
	app, consumer := build(".", "quickstart"), build("./consumer", "consumer")

	srv := natstest.StartServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, app)
	cmd.Dir = t.TempDir() // app.db goes here
	cmd.Env = append(os.Environ(), "NATS_URL="+srv.URL())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "published to NATS") {
		t.Fatalf("quickstart: %v\n%s", err, out)
	}

	nc := srv.Connect(t)
	msgs, err := natstest.ReadStream(ctx, nc, "EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Subject != "events.cow_fed" {
		t.Fatalf("stream holds %d messages (%+v), want the one cow_fed", len(msgs), msgs)
	}
	env, err := envelope.Decode(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := payload.DecodeCowFedV1(env)
	if err != nil || p.Weight != 512.5 || p.Name == nil || *p.Name != "Daisy" || env.Entity.ID != "7" {
		t.Fatalf("typed payload = %+v (%v), envelope %+v", p, err, env)
	}

	// The consumer: small, and it prints what the producer sent.
	fi, err := os.Stat(consumer)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("consumer binary: %d bytes (stripped, CGO_ENABLED=0)", fi.Size())
	if fi.Size() > maxConsumerSize {
		t.Errorf("consumer binary is %d bytes, over the %d-byte target: check what it links with go list -deps ./consumer", fi.Size(), maxConsumerSize)
	}
	read := exec.CommandContext(ctx, consumer)
	read.Stdin = bytes.NewReader(append(msgs[0].Data, '\n'))
	got, err := read.CombinedOutput()
	if want := "cow_fed v1 cow 7: weight 512.5, name Daisy\n"; err != nil || string(got) != want {
		t.Fatalf("consumer printed %q (%v), want %q", got, err, want)
	}
}
