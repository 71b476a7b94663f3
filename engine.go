package edgeoutbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Engine is an outbox in one SQLite database file: it stores emitted events and, once
// started, relays them to the configured Transport. Create it with Open or New; it is
// safe for concurrent use.
type Engine struct {
	cfg    Config
	path   string
	schema *Schema
	log    zerolog.Logger

	db     *sql.DB // writes: one connection (Open) or the caller's pool (New)
	reader *sql.DB // reads: a small read-only pool (Open) or db (New)
	ownDB  bool

	committer *committer
	inserts   insertStatements
	hooks     *hookRunner
	wake      chan struct{} // an emit in this process: the relay looks at once
	observers observers
	gate      writeGate
	// sched, when a test sets it before Start, is called at each schedPoint.
	sched func(schedPoint)
	// leaseDB is the lease writes' own connection (see leasePool).
	leaseOnce sync.Once
	leaseDB   *sql.DB

	mu      sync.Mutex
	relay   *relay
	closed  bool
	closeMu sync.Once
}

// Open opens (creating if needed) the SQLite database at path with edgeoutbox's
// settings, applies pending migrations and loads the schema. Close releases it.
func Open(ctx context.Context, path string, cfg Config) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	schema, err := loadConfiguredSchema(cfg)
	if err != nil {
		return nil, err
	}
	// Two processes creating the same new file race to switch it to WAL and to set it
	// up; SQLite answers the loser "database is locked" at once, without waiting for
	// the busy timeout. Try again within that timeout.
	deadline := time.Now().Add(cfg.BusyTimeout)
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		e, err := openOnce(ctx, path, cfg, schema)
		if err == nil || !isBusy(err) || time.Now().Add(pause).After(deadline) {
			return e, err
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return nil, fmt.Errorf("open outbox database %s: %w", path, ctx.Err())
		}
	}
}

func openOnce(ctx context.Context, path string, cfg Config, schema *Schema) (*Engine, error) {
	writer, reader, err := openPools(ctx, path, cfg)
	if err != nil {
		return nil, err
	}
	e, err := newEngine(ctx, path, cfg, schema, writer, reader, true)
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	return e, nil
}

// New builds an Engine over the application's own *sql.DB (driver "sqlite", opened with
// DSN so that WAL, the busy timeout and immediate transactions are in force). Close does
// not close db. Limit db to one open connection for writes; edgeoutbox reads through it too.
func New(ctx context.Context, db *sql.DB, cfg Config) (*Engine, error) {
	if db == nil {
		return nil, errors.New("edgeoutbox: New: db is nil: pass the application's *sql.DB, or use edgeoutbox.Open(ctx, path, cfg)")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	schema, err := loadConfiguredSchema(cfg)
	if err != nil {
		return nil, err
	}
	if err := verifySettings(ctx, db, "(application *sql.DB)", cfg); err != nil {
		return nil, err
	}
	return newEngine(ctx, "", cfg, schema, db, db, false)
}

func newEngine(ctx context.Context, path string, cfg Config, schema *Schema, writer, reader *sql.DB, own bool) (*Engine, error) {
	if _, err := Migrate(ctx, writer); err != nil {
		return nil, describeMigrateError(path, err)
	}
	e := &Engine{
		cfg:    cfg,
		path:   path,
		schema: schema,
		log:    cfg.Logger.With().Str("component", "edgeoutbox").Logger(),
		db:     writer,
		reader: reader,
		ownDB:  own,
		wake:   make(chan struct{}, 1),
	}
	if own {
		if err := setCheckpointInterval(ctx, writer); err != nil {
			return nil, describeOpenError(path, err)
		}
	}
	if err := e.inserts.prepare(ctx, writer); err != nil {
		return nil, err
	}
	e.hooks = newHookRunner(cfg.Hooks, e.log)
	e.committer = newCommitter(e)
	e.log.Debug().Str("path", path).Str("synchronous", string(cfg.Synchronous)).Msg("opened")
	return e, nil
}

func describeMigrateError(path string, err error) error {
	if errors.Is(err, ErrDatabaseTooNew) {
		return fmt.Errorf("open outbox database %s: %w", path, err)
	}
	return describeOpenError(path, err)
}

// loadConfiguredSchema loads the schema the config names and checks the definitions
// compiled into the program against it.
func loadConfiguredSchema(cfg Config) (*Schema, error) {
	schema := cfg.Schema
	var err error
	switch {
	case schema != nil:
	case cfg.SchemaFS != nil:
		schema, err = LoadSchemaFS(cfg.SchemaFS, cfg.SchemaPath)
	case cfg.Development && len(cfg.Definitions) > 0:
		if _, err = DumpSchema(cfg.SchemaPath, cfg.Definitions...); err != nil {
			return nil, err
		}
		schema, err = LoadSchemaFile(cfg.SchemaPath)
	default:
		schema, err = LoadSchemaFile(cfg.SchemaPath)
	}
	if err == nil {
		err = schema.loadErr
	}
	if err != nil {
		return nil, err
	}
	defs := cfg.Definitions
	if len(defs) == 0 {
		defs = schema.packageDefinitions() // the package that embeds the schema
	}
	if len(defs) > 0 {
		if err := schema.CheckDefinitions(defs...); err != nil {
			return nil, err
		}
	}
	return schema, nil
}

// DB returns the database handle edgeoutbox writes through. Use it for the
// application's own transactions that call EmitTx, so both share the one writer
// connection. Do not close it; Close does.
func (e *Engine) DB() *sql.DB { return e.db }

// Schema returns the loaded schema.
func (e *Engine) Schema() *Schema { return e.schema }

// Path returns the database file path given to Open ("" for New).
func (e *Engine) Path() string { return e.path }

// Close stops the relay (draining due events for up to 10 seconds, see Stop), finishes
// queued emits and closes the connections Open made. Calling it again returns nil.
func (e *Engine) Close() error {
	var err error
	e.closeMu.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Closed first, so that a Start racing Close cannot launch a relay that
		// outlives the connections.
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		err = e.Stop(ctx)
		e.committer.close()
		e.hooks.close()
		err = errors.Join(err, e.inserts.close())
		if e.ownDB {
			err = errors.Join(err, e.db.Close(), e.reader.Close())
			e.leaseOnce.Do(func() {}) // no lease pool opens after this
			if e.leaseDB != nil {
				err = errors.Join(err, e.leaseDB.Close())
			}
		}
	})
	return err
}

func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// storageError adds what to do to the SQLite errors an operator can fix.
func (e *Engine) storageError(doing string, err error) error {
	if isDiskFull(err) {
		return fmt.Errorf("%s: the disk holding the outbox is full (nothing was written): free space or lower the retention period: %w", doing, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// signal wakes the relay without blocking.
func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}
