package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startServer runs an in-process NATS server with JetStream (file storage in dir).
func startServer(dir string) (*server.Server, error) {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server not ready")
	}
	return s, nil
}

// freshStream connects to a new server in dir and creates stream EVENTS on events.>.
func freshStream(ctx context.Context, dir string) (*server.Server, *nats.Conn, error) {
	s, err := startServer(dir)
	if err != nil {
		return nil, nil, err
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		s.Shutdown()
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err == nil {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"},
			Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute})
	}
	if err != nil {
		nc.Close()
		s.Shutdown()
		return nil, nil, err
	}
	return s, nc, nil
}

// RawJetStream is the JetStream baseline: the same messages the relay would send (the
// JSON envelope, the headers, Nats-Msg-Id), built in memory beforehand, published
// asynchronously with at most maxPending in flight, every ack awaited.
func RawJetStream(ctx context.Context, dir string, msgs []*nats.Msg) (Result, error) {
	n := len(msgs)
	s, nc, err := freshStream(ctx, dir)
	if err != nil {
		return Result{}, err
	}
	defer s.Shutdown()
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(30*time.Second), jetstream.WithPublishAsyncMaxPending(edgeoutbox.DefaultNATSMaxPending))
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	for _, m := range msgs {
		if _, err := js.PublishMsgAsync(m); err != nil {
			return Result{}, err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	elapsed := time.Since(start)
	if err := streamCount(ctx, js, n); err != nil {
		return Result{}, err
	}
	return Result{Name: "raw jetstream async publish", Events: n, Elapsed: elapsed}, nil
}

// backlogMessages builds, through the transport's own encoding, the messages of the n
// pending events in backlog (the database is only read).
func backlogMessages(ctx context.Context, backlog string, n int) ([]*nats.Msg, error) {
	events, err := backlogEvents(ctx, backlog, n)
	if err != nil {
		return nil, err
	}
	msgs := make([]*nats.Msg, len(events))
	for i, ev := range events {
		if msgs[i], err = edgeoutbox.NATSMessage("events."+ev.Name, ev); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// backlogEvents reads the n pending events of backlog, oldest first (the database is
// only read).
func backlogEvents(ctx context.Context, backlog string, n int) ([]*edgeoutbox.Event, error) {
	e, err := Open(ctx, backlog, edgeoutbox.Config{})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	var events []*edgeoutbox.Event
	var before int64
	for len(events) < n {
		page, err := e.ListEvents(ctx, edgeoutbox.EventFilter{Status: edgeoutbox.StatusPending, Limit: 1000, BeforeID: before})
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, se := range page {
			events = append(events, &se.Event)
			before = se.ID
		}
	}
	if len(events) != n {
		return nil, fmt.Errorf("backlog holds %d events, want %d", len(events), n)
	}
	// ListEvents pages newest first; publish oldest first like the relay.
	for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
		events[i], events[j] = events[j], events[i]
	}
	return events, nil
}

func streamCount(ctx context.Context, js jetstream.JetStream, n int) error {
	s, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		return err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	if info.State.Msgs != uint64(n) {
		return fmt.Errorf("stream holds %d messages, want %d", info.State.Msgs, n)
	}
	return nil
}

// RelayJetStream drains the backlog at path through the relay to a fresh JetStream,
// over a connection made the recommended way (edgeoutbox.DialNATS: no reconnect
// buffer, so the transport may keep a window of batches in flight).
func RelayJetStream(ctx context.Context, dir, path string, n int) (Result, error) {
	s, admin, err := freshStream(ctx, dir)
	if err != nil {
		return Result{}, err
	}
	defer s.Shutdown()
	defer admin.Close()
	nc, err := edgeoutbox.DialNATS(s.ClientURL())
	if err != nil {
		return Result{}, err
	}
	defer nc.Close()
	tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithJetStream(), edgeoutbox.WithPublishTimeout(30*time.Second))
	if err != nil {
		return Result{}, err
	}
	res, err := RelayDrain(ctx, path, n, "relay drain to jetstream", tr)
	if err != nil {
		return Result{}, err
	}
	js, _ := jetstream.New(nc)
	return res, streamCount(ctx, js, n)
}

// RelayCore drains the backlog at path through the relay to core NATS (a subscriber
// counts the messages).
func RelayCore(ctx context.Context, dir, path string, n int) (Result, error) {
	s, err := startServer(dir)
	if err != nil {
		return Result{}, err
	}
	defer s.Shutdown()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		return Result{}, err
	}
	defer nc.Close()
	tr, err := edgeoutbox.NewNATSTransport(nc, edgeoutbox.WithPublishTimeout(30*time.Second))
	if err != nil {
		return Result{}, err
	}
	return RelayDrain(ctx, path, n, "relay drain to core nats", tr)
}

// NATSSuite compares the relay's drain of an n-event backlog to JetStream with raw
// JetStream publishing of the same messages (and with the two raw baselines, SQLite
// drain and JetStream publishing, run one after the other), and to core NATS with the
// raw SQLite drain; best of reps runs each.
func NATSSuite(ctx context.Context, dir string, n, reps int) ([]Comparison, error) {
	template := dbPath(dir, "nats-backlog")
	if err := MakeBacklog(ctx, template, n); err != nil {
		return nil, err
	}
	msgs, err := backlogMessages(ctx, template, n)
	if err != nil {
		return nil, err
	}
	fresh := copyBacklog(dir, template)
	run := 0
	natsDir := func() string { run++; return filepath.Join(dir, fmt.Sprintf("nats-%d", run)) }
	onCopy := func(drain func(path, natsDir string) (Result, error)) func() (Result, error) {
		return onFreshCopy(fresh, natsDir, drain)
	}
	js, err := Compare(reps, 0.9,
		onCopy(func(p, d string) (Result, error) { return RelayJetStream(ctx, d, p, n) }),
		onCopy(func(_, d string) (Result, error) { return RawJetStream(ctx, d, msgs) }))
	if err != nil {
		return nil, err
	}
	core, err := Compare(reps, 0,
		onCopy(func(p, d string) (Result, error) { return RelayCore(ctx, d, p, n) }),
		onCopy(func(p, _ string) (Result, error) { return RawDrain(ctx, p, n) }))
	if err != nil {
		return nil, err
	}
	// On a machine where the broker and the relay share the cores, the relay cannot do
	// better than the SQLite drain and the JetStream publishing one after the other.
	serial := Result{Name: "raw SQLite drain, then raw jetstream", Events: n,
		Elapsed: js.Baseline.Elapsed + core.Baseline.Elapsed, CPU: js.Baseline.CPU + core.Baseline.CPU}
	return []Comparison{js, {Subject: js.Subject, Baseline: serial}, core}, nil
}
