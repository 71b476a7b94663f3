// Package demo is the story "edgeoutbox demo" tells, runnable and testable on its own:
// an application emits events into a SQLite outbox while the broker is down, the relay
// waits without counting a single failed attempt, the broker (an embedded NATS server
// with JetStream) comes up, the backlog drains, and the stream is read back to prove
// that every event arrived exactly once and in order per entity — including after a
// simulated crash that makes the relay send a batch again.
package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of Options.
const (
	DefaultEvents      = 20000
	DefaultEntities    = 100
	DefaultOfflineHold = 500 * time.Millisecond
	streamName         = "EVENTS"
	batchSize          = 500
)

// Options size the demo. Zero values take the defaults.
type Options struct {
	Events   int // events to emit
	Entities int // entities (cows) they are spread over; one producer goroutine each
	// OfflineHold is how long the broker stays down after the last emit: a week
	// offline, compressed.
	OfflineHold time.Duration
}

// Report is what the demo measured and verified.
type Report struct {
	Events   int `json:"events"`
	Entities int `json:"entities"`

	Emitted      int           `json:"emitted"`
	EmitDuration time.Duration `json:"emit_duration_ns"`
	// PendingOffline and OfflineAttempts are read while the broker is down: every
	// event waits, and the relay counted no failed attempt for any of them.
	PendingOffline  int64 `json:"pending_while_offline"`
	OfflineAttempts int64 `json:"attempts_while_offline"`

	ReconnectDuration time.Duration `json:"reconnect_duration_ns"` // broker start → client connected
	DrainDuration     time.Duration `json:"drain_duration_ns"`     // client connected → nothing pending
	Published         int64         `json:"published"`
	DeadLetters       int64         `json:"dead_letters"`

	StreamMessages  uint64 `json:"stream_messages"`
	DistinctEvents  int    `json:"distinct_events_in_stream"`
	OrderViolations int    `json:"order_violations"`

	Resent            int    `json:"resent_after_crash"`
	DuplicatesDropped int    `json:"duplicates_dropped"`
	StreamAfterResend uint64 `json:"stream_messages_after_resend"`

	Total time.Duration `json:"total_ns"`
}

// EmitRate is events emitted per second.
func (r *Report) EmitRate() float64 { return rate(r.Emitted, r.EmitDuration) }

// DrainRate is events published per second while draining.
func (r *Report) DrainRate() float64 { return rate(int(r.Published), r.DrainDuration) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// OK reports whether every check held.
func (r *Report) OK() bool {
	return r.Emitted == r.Events && r.Published == int64(r.Events) && r.DeadLetters == 0 && r.OfflineAttempts == 0 &&
		r.StreamMessages == uint64(r.Events) && r.DistinctEvents == r.Events && r.OrderViolations == 0 &&
		r.DuplicatesDropped == r.Resent && r.StreamAfterResend == uint64(r.Events)
}

// milkRecorded is the demo's event: a milking of one cow, numbered per cow.
var milkRecorded = edgeoutbox.Define("milk_recorded",
	edgeoutbox.EventType("domain"),
	edgeoutbox.Input("cow"),
	edgeoutbox.Input("reading"),
	edgeoutbox.EntityClass("class_name", edgeoutbox.From("cow"), edgeoutbox.String),
	edgeoutbox.EntityID("id", edgeoutbox.From("cow"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("seq", edgeoutbox.From("reading"), edgeoutbox.Int),
	edgeoutbox.RequiredPayload("litres", edgeoutbox.From("reading"), edgeoutbox.Float),
	edgeoutbox.OptionalPayload("parlour", edgeoutbox.From("reading"), edgeoutbox.String),
)

// Run runs the demo, narrating to out, and returns what it measured. An error means
// the demo could not run; a run whose checks failed returns a Report with OK false
// and an error saying which check.
func Run(ctx context.Context, out io.Writer, opts Options) (*Report, error) {
	if opts.Events <= 0 {
		opts.Events = DefaultEvents
	}
	if opts.Entities <= 0 {
		opts.Entities = DefaultEntities
	}
	opts.Entities = min(opts.Entities, opts.Events)
	if opts.OfflineHold <= 0 {
		opts.OfflineHold = DefaultOfflineHold
	}
	start := time.Now()
	dir, err := os.MkdirTemp("", "edgeoutbox-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: create a temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)

	d := &run{out: out, opts: opts, dir: dir, rep: &Report{Events: opts.Events, Entities: opts.Entities}}
	defer d.close()
	if err := d.story(ctx); err != nil {
		return d.rep, err
	}
	d.rep.Total = time.Since(start)
	return d.rep, d.verdict()
}

type run struct {
	out  io.Writer
	opts Options
	dir  string
	rep  *Report

	srvOpts *server.Options
	srv     *server.Server
	nc      *nats.Conn
	engine  *edgeoutbox.Engine
}

func (d *run) say(format string, args ...any) { fmt.Fprintf(d.out, format+"\n", args...) }

func (d *run) close() {
	if d.engine != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d.engine.Stop(ctx)
		cancel()
		d.engine.Close()
	}
	if d.nc != nil {
		d.nc.Close()
	}
	if d.srv != nil {
		d.srv.Shutdown()
		d.srv.WaitForShutdown()
	}
}

func (d *run) story(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	d.srvOpts = &server.Options{
		Host:      "127.0.0.1",
		Port:      port,
		JetStream: true,
		StoreDir:  filepath.Join(d.dir, "jetstream"),
		NoLog:     true,
		NoSigs:    true,
	}
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	d.say("edgeoutbox demo: %d events about %d cows, a SQLite outbox and an embedded NATS JetStream server", d.opts.Events, d.opts.Entities)
	d.say("  outbox %s", filepath.Join(d.dir, "outbox.db"))

	// The client dials a broker that is not there yet: DialNATS keeps trying.
	d.nc, err = edgeoutbox.DialNATS(url, nats.ReconnectWait(50*time.Millisecond), nats.ReconnectJitter(10*time.Millisecond, 10*time.Millisecond))
	if err != nil {
		return err
	}
	transport, err := edgeoutbox.NewNATSTransport(d.nc, edgeoutbox.WithEnsureStream(streamName, nil, 0))
	if err != nil {
		return err
	}
	schema, _, err := edgeoutbox.NewSchema("demo_schema.json").With(milkRecorded)
	if err != nil {
		return err
	}
	d.engine, err = edgeoutbox.Open(ctx, filepath.Join(d.dir, "outbox.db"), edgeoutbox.Config{
		Schema:            schema,
		Transport:         transport,
		BatchSize:         batchSize,
		PollInterval:      50 * time.Millisecond,
		RetentionInterval: -1,
	})
	if err != nil {
		return err
	}
	if err := d.engine.Start(ctx); err != nil {
		return err
	}
	d.say("\n1. The broker is down (%s refuses connections). The relay is running and waits.", url)

	if err := d.emit(ctx); err != nil {
		return err
	}
	d.say("2. Emitted %d events from %d concurrent producers in %s (%s events/s), each durable on disk before Emit returned.",
		d.rep.Emitted, d.opts.Entities, round(d.rep.EmitDuration), perSecond(d.rep.EmitRate()))

	select {
	case <-time.After(d.opts.OfflineHold):
	case <-ctx.Done():
		return ctx.Err()
	}
	st, err := d.engine.Stats(ctx)
	if err != nil {
		return err
	}
	d.rep.PendingOffline = st.Pending
	if err := d.engine.DB().QueryRowContext(ctx, "SELECT COALESCE(SUM(attempts), 0) FROM edgeoutbox_events").Scan(&d.rep.OfflineAttempts); err != nil {
		return fmt.Errorf("demo: count attempts: %w", err)
	}
	d.say("   Still offline after %s: %d pending, %d publish attempts counted, %d dead letters. Being offline is not a failure.",
		round(d.opts.OfflineHold), d.rep.PendingOffline, d.rep.OfflineAttempts, st.DeadLettered)

	up := time.Now()
	if err := d.startBroker(); err != nil {
		return err
	}
	if err := waitFor(ctx, 30*time.Second, "the client to reconnect", func() (bool, error) { return d.nc.IsConnected(), nil }); err != nil {
		return err
	}
	connected := time.Now()
	d.rep.ReconnectDuration = connected.Sub(up)
	if err := d.waitDrained(ctx); err != nil {
		return err
	}
	d.rep.DrainDuration = time.Since(connected)
	st, err = d.engine.Stats(ctx)
	if err != nil {
		return err
	}
	d.rep.Published, d.rep.DeadLetters = st.Published, st.DeadLettered
	d.say("3. The broker started and the client reconnected within %s; the relay drained the backlog in %s (%s events/s) into stream %s.",
		round(d.rep.ReconnectDuration), round(d.rep.DrainDuration), perSecond(d.rep.DrainRate()), streamName)

	js, err := jetstream.New(d.nc)
	if err != nil {
		return err
	}
	if err := d.verifyStream(ctx, js); err != nil {
		return err
	}
	d.say("4. Read back: the stream holds %d messages, %d distinct events, %d out of order per cow.",
		d.rep.StreamMessages, d.rep.DistinctEvents, d.rep.OrderViolations)

	if err := d.crashReplay(ctx, js); err != nil {
		return err
	}
	d.say("5. Crash replay: %d events made pending again, as if the process died after publishing them but before",
		d.rep.Resent)
	d.say("   marking them. The relay sent them again; the server dropped %d duplicates by Nats-Msg-Id and still holds %d messages.",
		d.rep.DuplicatesDropped, d.rep.StreamAfterResend)
	return nil
}

func (d *run) emit(ctx context.Context) error {
	perEntity := make([]int, d.opts.Entities)
	for i := range d.opts.Events {
		perEntity[i%d.opts.Entities]++
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	emitted := 0
	start := time.Now()
	for cow := range d.opts.Entities {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cowInput := map[string]any{"class_name": "Cow", "id": cow + 1}
			n := 0
			for seq := 1; seq <= perEntity[cow]; seq++ {
				reading := map[string]any{"seq": seq, "litres": 10 + float64(seq%40)/4, "parlour": "north"}
				if _, err := d.engine.Emit(ctx, milkRecorded.Name(), edgeoutbox.Inputs{"cow": cowInput, "reading": reading}); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("demo: emit: %w", err)
						cancel()
					}
					mu.Unlock()
					break
				}
				n++
			}
			mu.Lock()
			emitted += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	d.rep.EmitDuration = time.Since(start)
	d.rep.Emitted = emitted
	return firstErr
}

func (d *run) startBroker() error {
	srv, err := server.NewServer(d.srvOpts.Clone())
	if err != nil {
		return fmt.Errorf("demo: nats server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return errors.New("demo: the embedded nats server did not start within 10s")
	}
	d.srv = srv
	return nil
}

func (d *run) waitDrained(ctx context.Context) error {
	return waitFor(ctx, 60*time.Second, "the backlog to drain", func() (bool, error) {
		st, err := d.engine.Stats(ctx)
		return err == nil && st.Pending == 0, err
	})
}

// verifyStream reads every message back and checks once-only and per-entity order.
func (d *run) verifyStream(ctx context.Context, js jetstream.JetStream) error {
	stream, err := js.Stream(ctx, streamName)
	if err != nil {
		return fmt.Errorf("demo: look up stream: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("demo: stream info: %w", err)
	}
	d.rep.StreamMessages = info.State.Msgs
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fmt.Errorf("demo: read stream: %w", err)
	}
	seen := make(map[string]bool, d.opts.Events)
	last := make(map[string]int64, d.opts.Entities)
	for read := uint64(0); read < info.State.Msgs; {
		batch, err := cons.Fetch(int(min(1000, info.State.Msgs-read)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return fmt.Errorf("demo: read stream: %w", err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			env, err := envelope.Decode(msg.Data())
			if err != nil {
				return fmt.Errorf("demo: message %d: %w", read, err)
			}
			seen[env.IdempotencyKey] = true
			var p struct {
				Seq int64 `json:"seq"`
			}
			if err := json.Unmarshal(env.Payload, &p); err != nil {
				return fmt.Errorf("demo: message %d payload: %w", read, err)
			}
			if p.Seq != last[env.Entity.ID]+1 {
				d.rep.OrderViolations++
			}
			last[env.Entity.ID] = p.Seq
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("demo: read stream: %w", err)
		}
		if got == 0 {
			return fmt.Errorf("demo: read %d of %d stream messages, then nothing more arrived", read, info.State.Msgs)
		}
		read += uint64(got)
	}
	d.rep.DistinctEvents = len(seen)
	return nil
}

// crashReplay marks the first batch unpublished again, which is exactly what a crash
// between "published" and "marked published" leaves behind, and lets the relay re-send it.
func (d *run) crashReplay(ctx context.Context, js jetstream.JetStream) error {
	k := min(batchSize, d.opts.Events)
	n, err := unpublish(ctx, d.engine.DB(), k)
	if err != nil {
		return fmt.Errorf("demo: simulate a crash: %w", err)
	}
	d.rep.Resent = int(n)
	if err := d.waitDrained(ctx); err != nil {
		return err
	}
	stream, err := js.Stream(ctx, streamName)
	if err != nil {
		return fmt.Errorf("demo: look up stream: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("demo: stream info: %w", err)
	}
	d.rep.StreamAfterResend = info.State.Msgs
	d.rep.DuplicatesDropped = d.rep.Resent - int(info.State.Msgs-d.rep.StreamMessages)
	return nil
}

// verdict names the first check that failed.
func (d *run) verdict() error {
	r := d.rep
	switch {
	case r.OK():
		return nil
	case r.OfflineAttempts != 0:
		return fmt.Errorf("demo: the relay counted %d attempts while offline, want 0", r.OfflineAttempts)
	case r.StreamMessages != uint64(r.Events) || r.DistinctEvents != r.Events:
		return fmt.Errorf("demo: the stream holds %d messages (%d distinct events), want %d", r.StreamMessages, r.DistinctEvents, r.Events)
	case r.OrderViolations != 0:
		return fmt.Errorf("demo: %d messages out of order per entity", r.OrderViolations)
	case r.DuplicatesDropped != r.Resent:
		return fmt.Errorf("demo: the server dropped %d of %d re-sent duplicates", r.DuplicatesDropped, r.Resent)
	}
	return fmt.Errorf("demo: published %d of %d events, %d dead letters", r.Published, r.Events, r.DeadLetters)
}

// freePort asks the kernel for a free TCP port; the broker starts on it later, so the
// client can be pointed at it while it is still down.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("demo: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls cond until it holds, ctx ends or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("demo: wait for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: gave up waiting for %s after %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func round(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	if d >= time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func perSecond(r float64) string {
	s := strconv.FormatInt(int64(r+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// unpublish marks the first k events unpublished again, keeping the outbox's counters in
// step, in one transaction.
func unpublish(ctx context.Context, db *sql.DB, k int) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE edgeoutbox_events SET published_at = NULL, next_attempt_at = 0
		WHERE id IN (SELECT id FROM edgeoutbox_events WHERE published_at IS NOT NULL ORDER BY id LIMIT ?)`, k)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE edgeoutbox_usage SET pending = pending + ?, published = published - ?,
		generation = generation + 1 WHERE id = 1`, n, n); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}
