package edgeoutbox

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// FuzzCastGoKinds complements FuzzCast with the Go kinds it does not feed in: every
// sized integer, unsigned integers, float32, time.Time, named types, byte slices,
// maps and slices, each cast to every FieldType. Casting must never panic, must
// produce valid JSON or an error with no output, and integer casts must be exact or
// refused.
func FuzzCastGoKinds(f *testing.F) {
	f.Add(int64(0), uint64(0), 0.0, "")
	f.Add(int64(-129), uint64(math.MaxUint64), float64(math.MaxFloat32)*2, "2024-02-29T23:59:60Z")
	f.Add(int64(math.MaxInt64), uint64(1<<63), 1e-46, "{\"a\":[1,2,{}]}")
	f.Add(int64(1<<53+1), uint64(1<<53+1), -0.0, "\xff\xfe")
	type named int16
	type namedString string
	f.Fuzz(func(t *testing.T, i int64, u uint64, fl float64, s string) {
		values := []any{
			int8(i), int16(i), int32(i), int(i), named(i), uint(u), uint8(u), uint16(u), uint32(u), uintptr(u),
			float32(fl), time.Unix(0, i), time.Unix(i, 0), []byte(s), namedString(s), map[string]any{"k": s, "n": i},
			[]any{i, s, fl}, struct{ A string }{s}, new(int64), (*string)(nil), &u, json.Number(s),
		}
		for _, typ := range []FieldType{String, Int, Float, Bool, Time, JSON} {
			for _, v := range values {
				out, err := appendValue(nil, typ, v)
				if err != nil {
					if len(out) != 0 {
						t.Fatalf("%s(%#v): output %q with error %v", typ, v, out, err)
					}
					continue
				}
				if !json.Valid(out) {
					t.Fatalf("%s(%#v) = %q: not valid JSON", typ, v, out)
				}
			}
		}
		// Integers are exact or refused, never wrapped or rounded.
		if n, err := castInt(u); (err == nil) != (u <= math.MaxInt64) || (err == nil && uint64(n) != u) {
			t.Fatalf("int(uint64 %d) = %d, %v", u, n, err)
		}
		for _, v := range []any{int8(i), int16(i), int32(i), named(i)} {
			n, err := castInt(v)
			if err != nil || n != reflectInt(v) {
				t.Fatalf("int(%T %v) = %d, %v", v, v, n, err)
			}
		}
		if g, err := castFloat(u); err == nil && uint64(g) != u {
			t.Fatalf("float(uint64 %d) = %v: not exact", u, g)
		}
	})
}

func reflectInt(v any) int64 { return reflect.ValueOf(v).Int() }

// FuzzOpenDatabase opens a real outbox database file with hostile changes: bytes
// patched at any offset (header, b-tree pages, records) or the file cut short. Open
// must never panic: it fails with an error naming the file, or it opens and then every
// read, emit and integrity check returns normally (errors allowed, panics not).
func FuzzOpenDatabase(f *testing.F) {
	base := fuzzBaseDatabase(f)
	f.Add(uint32(0), []byte("garbage"), false)
	f.Add(uint32(16), []byte{0x00, 0x01}, false)             // page size 1 (65536)
	f.Add(uint32(28), []byte{0x00, 0x00, 0x7f, 0xff}, false) // page count far too large
	f.Add(uint32(100), []byte{0x0d}, false)                  // page 1 b-tree type
	f.Add(uint32(4096), make([]byte, 4096), false)           // a zeroed page
	f.Add(uint32(2*4096+8), []byte{0xff, 0xff, 0xff, 0xff}, false)
	f.Add(uint32(len(base)/2), []byte{}, true)
	f.Add(uint32(len(base)-100), []byte{}, true)
	f.Fuzz(func(t *testing.T, off uint32, patch []byte, truncate bool) {
		data := append([]byte(nil), base...)
		at := int(off % uint32(len(data)))
		if truncate {
			data = data[:at]
		} else {
			copy(data[at:], patch)
		}
		// A hang is a failure too: the fuzzer itself has no per-input timeout.
		watchdog := time.AfterFunc(20*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("FuzzOpenDatabase: input (offset %d, truncate %v, %d bytes) still running after 20s:\n%s",
				off, truncate, len(patch), buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		path := filepath.Join(t.TempDir(), "outbox.db")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		e, err := Open(ctx, path, Config{Schema: fuzzSchema})
		if err != nil {
			if e != nil {
				t.Fatalf("Open returned an engine with error %v", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("Open error does not name the file: %v", err)
			}
			return
		}
		defer e.Close()
		_, _ = e.Emit(ctx, "order_placed", orderInputs(1, 1))
		_, _ = e.Stats(ctx)
		_, _ = e.ListEvents(ctx, EventFilter{Limit: 10})
		_ = e.IntegrityCheck(ctx)
		_, _ = e.Cleanup(ctx)
	})
}

// fuzzSchema is built once: the fuzz function runs thousands of times.
var fuzzSchema = func() *Schema {
	s, _, err := NewSchema(DefaultSchemaFile).With(testOrderPlaced)
	if err != nil {
		panic(err)
	}
	return s
}()

// fuzzBaseDatabase returns the bytes of a small real outbox database: a few events,
// one published, one dead letter, the lease table used.
func fuzzBaseDatabase(f *testing.F) []byte {
	f.Helper()
	path := filepath.Join(f.TempDir(), "base.db")
	e, err := Open(context.Background(), path, Config{Schema: fuzzSchema})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		if _, err := e.Emit(ctx, "order_placed", orderInputs(i, 1), WithMetadata(map[string]string{"request_id": strings.Repeat("r", i*50)})); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := e.DB().Exec("UPDATE edgeoutbox_events SET published_at = 1 WHERE id = 1"); err != nil {
		f.Fatal(err)
	}
	if _, err := e.DB().Exec("UPDATE edgeoutbox_events SET dead_lettered_at = 1, last_error = 'x' WHERE id = 2"); err != nil {
		f.Fatal(err)
	}
	if err := e.Close(); err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}
