package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/edgeoutbox/edgeoutbox/kafka"
	"github.com/rs/zerolog"
)

func relayCommand() *command {
	return &command{
		Name:    "relay",
		Args:    "--db PATH (--nats URL [--jetstream] [--stream NAME] [--subject-prefix PREFIX] | --kafka HOST:PORT[,HOST:PORT] [--topic-prefix PREFIX] [--no-idempotence]) [--layout NAME [--source URI]] [--batch-size N] [--schema FILE]",
		Summary: "forward an outbox that another program writes to NATS or Kafka, until interrupted",
		Details: `Runs the relay on its own: for a database written by a program that does not start
one itself. It takes the database's relay lease (one relay per file at a time), waits
for the broker while it is down without counting attempts, and publishes every pending
event to <prefix>.<event name>. With --jetstream it waits for JetStream acks and sets
Nats-Msg-Id to each event's idempotency key; --stream NAME also creates that stream if
it is missing (capturing <prefix>.>). With --kafka it produces to the topic
<topic prefix>.<event name> with an idempotent producer (acks from all in-sync
replicas; --no-idempotence for clusters that do not grant IDEMPOTENT_WRITE), keyed by
entity. --layout chooses how messages carry each event: envelope+headers (the
default, which every consumer reads), envelope, headers, cloudevents (CloudEvents
binary mode: ce- headers on NATS, ce_ on Kafka, with --source as the source
attribute) or cloudevents-json (structured mode); consumers read every layout with
envelope.DecodeMessage. Stops cleanly on SIGINT or SIGTERM. Logs go to stderr.`,
		run: runRelay,
	}
}

// relayStopTimeout bounds how long the relay may take to finish its batch on a signal.
const relayStopTimeout = 10 * time.Second

func runRelay(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := fs.String("db", "", "outbox database `PATH`")
	natsURL := fs.String("nats", "", "NATS server `URL`s, comma-separated, e.g. nats://127.0.0.1:4222")
	kafkaBrokers := fs.String("kafka", "", "Kafka broker `ADDRESSES`, comma-separated host:port, e.g. 127.0.0.1:9092")
	topicPrefix := fs.String("topic-prefix", kafka.DefaultTopicPrefix, "Kafka topic `PREFIX`: events go to PREFIX.<event name>")
	noIdempotence := fs.Bool("no-idempotence", false, "Kafka: turn the idempotent producer off (clusters without IDEMPOTENT_WRITE)")
	jetStream := fs.Bool("jetstream", false, "publish to JetStream: wait for acks, de-duplicate by Nats-Msg-Id")
	stream := fs.String("stream", "", "JetStream stream `NAME` to create if missing (implies --jetstream)")
	prefix := fs.String("subject-prefix", edgeoutbox.DefaultNATSSubjectPrefix, "subject `PREFIX`: events go to PREFIX.<event name>")
	layoutName := fs.String("layout", envelope.LayoutEnvelopeHeaders.String(), "message `LAYOUT`: envelope+headers, envelope, headers, cloudevents or cloudevents-json")
	source := fs.String("source", envelope.DefaultCloudEventsSource, "CloudEvents source attribute (`URI`) of the cloudevents layouts")
	batchSize := fs.Int("batch-size", 500, "events claimed and published per batch (`N`)")
	schemaFile := fs.String("schema", "", "schema `FILE` to load and verify (optional: the relay does not need it)")
	if err := c.parseWithDB(cmd, fs, args, dbPath); err != nil {
		return err
	}
	useKafka := strings.TrimSpace(*kafkaBrokers) != ""
	switch {
	case useKafka && strings.TrimSpace(*natsURL) != "":
		return usageErrorf(cmd, fs, "--nats and --kafka: choose one broker")
	case !useKafka:
		if strings.TrimSpace(*natsURL) == "" {
			return usageErrorf(cmd, fs, "--nats or --kafka is required")
		}
	}
	layout, err := envelope.ParseLayout(*layoutName)
	if err != nil {
		return usageErrorf(cmd, fs, "--layout: %v", err)
	}
	if *batchSize < 1 {
		return usageErrorf(cmd, fs, "--batch-size %d: want at least 1", *batchSize)
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: c.stderr, TimeFormat: time.RFC3339, NoColor: !isTerminal(c.stderr)}).
		Level(zerolog.InfoLevel).With().Timestamp().Logger()

	var schema *edgeoutbox.Schema
	if *schemaFile != "" {
		var err error
		if schema, err = edgeoutbox.LoadSchemaFile(*schemaFile); err != nil {
			return err
		}
	}
	if _, statErr := os.Stat(*dbPath); errors.Is(statErr, os.ErrNotExist) {
		log.Warn().Str("db", *dbPath).Msg("no database there yet: creating an empty outbox for the writing program to share")
	}
	var transport edgeoutbox.Transport
	var describe func(*zerolog.Event) *zerolog.Event // the broker, for the "relay running" line
	if useKafka {
		cl, err := kafka.NewClient(kafka.ClientConfig{Brokers: splitList(*kafkaBrokers), DisableIdempotency: *noIdempotence})
		if err != nil {
			return usageErrorf(cmd, fs, "%v", err)
		}
		defer cl.Close()
		kt, err := kafka.NewTransport(cl, kafka.WithTopicPrefix(*topicPrefix), kafka.WithLayout(layout, *source))
		if err != nil {
			return usageErrorf(cmd, fs, "%v", err)
		}
		transport = kt
		describe = func(ev *zerolog.Event) *zerolog.Event {
			return ev.Str("kafka", strings.Join(splitList(*kafkaBrokers), ",")).Bool("idempotent", !*noIdempotence).Str("topics", *topicPrefix+".<event name>").Stringer("layout", layout)
		}
	} else {
		var natsOpts []edgeoutbox.NATSOption
		natsOpts = append(natsOpts, edgeoutbox.WithSubjectPrefix(*prefix), edgeoutbox.WithLayout(layout, *source))
		if *jetStream || *stream != "" {
			natsOpts = append(natsOpts, edgeoutbox.WithJetStream())
		}
		if *stream != "" {
			natsOpts = append(natsOpts, edgeoutbox.WithEnsureStream(*stream, nil, 0))
		}
		nc, err := edgeoutbox.DialNATS(*natsURL)
		if err != nil {
			return err
		}
		defer nc.Close()
		nt, err := edgeoutbox.NewNATSTransport(nc, natsOpts...)
		if err != nil {
			return usageErrorf(cmd, fs, "%v", err)
		}
		transport = nt
		mode := "core"
		if *jetStream || *stream != "" {
			mode = "jetstream"
		}
		describe = func(ev *zerolog.Event) *zerolog.Event {
			return ev.Str("nats", redactURL(*natsURL)).Str("mode", mode).Str("subjects", *prefix+".>").Stringer("layout", layout)
		}
	}
	e, err := openOutbox(ctx, *dbPath, true, edgeoutbox.Config{
		Schema:    schema,
		Transport: transport,
		BatchSize: *batchSize,
		Logger:    log,
	})
	if err != nil {
		return err
	}
	defer e.Close()
	// The relay runs until ctx ends (a signal), then stops with its own deadline: ctx
	// ending must not cut the batch in flight short.
	if err := e.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	describe(log.Info()).Str("db", *dbPath).Msg("relay running; stop it with Ctrl-C or SIGTERM")
	<-ctx.Done()
	log.Info().Msg("stopping: finishing the batch in flight")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), relayStopTimeout)
	defer cancel()
	stopErr := e.Stop(stopCtx)
	st, statsErr := e.Stats(context.WithoutCancel(ctx))
	if err := errors.Join(stopErr, e.Close()); err != nil {
		return fmt.Errorf("stop relay: %w", err)
	}
	if statsErr == nil {
		log.Info().Int64("pending", st.Pending).Int64("published", st.Published).Int64("dead_lettered", st.DeadLettered).Msg("relay stopped")
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// redactURL hides passwords in a comma-separated list of NATS URLs before it is logged.
func redactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		switch {
		case err != nil:
			parts[i] = "(unparsable URL)"
		case u.User != nil:
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
